"""The paper's angle task in 15 lines: 50 stripe textures at angles θ_i = iπ/50, embedded
by MDS from CNN texture distances; the ring of points recovers θ (Sec. IV B, Eq. 10)."""

import os

from sklearn.manifold import MDS
from sklearn.pipeline import make_pipeline

from sklearn_texture import GramTextureVectorizer, PerlinTextureDataset, angle_rmse

size = int(os.environ.get("EXAMPLE_SIZE", 64))  # image side in pixels
data = PerlinTextureDataset.angle_task(n_images=50, amplitude=2.5, size=size, random_state=0)
pipe = make_pipeline(GramTextureVectorizer(), MDS(n_components=2, init="classical_mds"))
embedding = pipe.fit_transform(data.images)
print(f"angle RMSE: {angle_rmse(embedding, data.theta):.3f} rad")
