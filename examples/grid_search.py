"""Choose layers and the embedding dimension by the paper's angle score.

A transductive grid search: MDS has no ``transform``, so the "test" fold is the training
fold (``cv=[(all, all)]``) and the scorers read the fitted ``MDS.embedding_``.
``Pipeline(memory=...)`` caches the texture vectors, so they are computed once per layer
setting, not once per ``n_components``.
"""

import os
import tempfile

import numpy as np
from sklearn.manifold import MDS
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_texture import (
    GramTextureVectorizer,
    PerlinTextureDataset,
    angle_rmse_scorer,
    kruskal_stress_scorer,
)

size = int(os.environ.get("EXAMPLE_SIZE", 64))
data = PerlinTextureDataset.angle_task(n_images=40, amplitude=2.5, size=size, random_state=0)
everything = np.arange(len(data))

with tempfile.TemporaryDirectory() as cache:
    pipe = Pipeline(
        [("texture", GramTextureVectorizer()),
         ("mds", MDS(init="classical_mds", random_state=0))],
        memory=cache,
    )
    grid = {
        "texture__layers": [("conv1_1", "conv2_1", "conv3_1"),
                            ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")],
        "mds__n_components": [2, 3],
    }
    search = GridSearchCV(
        pipe, grid, cv=[(everything, everything)],
        scoring={"angle": angle_rmse_scorer, "stress": kruskal_stress_scorer},
        refit="angle",
    )
    search.fit(data.images, data.theta)

for params, angle, stress in zip(search.cv_results_["params"],
                                 search.cv_results_["mean_test_angle"],
                                 search.cv_results_["mean_test_stress"], strict=True):
    print(f"{params}: angle RMSE {-angle:.3f} rad, stress {-stress:.3f}")
print("best:", search.best_params_)
