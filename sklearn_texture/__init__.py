"""Texture vectors for micrographs: CNN Gram matrices and power spectra as sklearn transformers.

Implements Lubbers, Lookman & Barros, "Inferring low-dimensional microstructure
representations using convolutional neural networks", Phys. Rev. E 96, 052111 (2017).
"""

__version__ = "0.1.0"

from sklearn_texture.datasets import PerlinTextureDataset
from sklearn_texture.distances import texture_distances
from sklearn_texture.embedding import LandmarkMDS
from sklearn_texture.gram import GramTextureVectorizer
from sklearn_texture.metrics import (
    angle_rmse,
    angle_rmse_scorer,
    kruskal_stress,
    kruskal_stress_scorer,
    linear_r2,
    linear_r2_scorer,
    make_embedding_scorer,
    reconstruct_angles,
    regression_angle,
)
from sklearn_texture.spectrum import PowerSpectrumVectorizer, power_spectrum

__all__ = [
    "GramTextureVectorizer",
    "LandmarkMDS",
    "PerlinTextureDataset",
    "PowerSpectrumVectorizer",
    "__version__",
    "angle_rmse",
    "angle_rmse_scorer",
    "kruskal_stress",
    "kruskal_stress_scorer",
    "linear_r2",
    "linear_r2_scorer",
    "make_embedding_scorer",
    "power_spectrum",
    "reconstruct_angles",
    "regression_angle",
    "texture_distances",
]
