"""Texture vectors for micrographs: CNN Gram matrices and power spectra as sklearn transformers.

Implements Lubbers, Lookman & Barros, "Inferring low-dimensional microstructure
representations using convolutional neural networks", Phys. Rev. E 96, 052111 (2017).

Importing the package is cheap: each public name is imported from its module when first
used (PEP 562), so ``from sklearn_texture import PowerSpectrumVectorizer`` never loads
torch; only the Gram vectorizer and the network code do.
"""

import importlib

__version__ = "0.1.0"

# Public name -> the module that owns it.
_EXPORTS = {
    "GramTextureVectorizer": "gram",
    "LandmarkMDS": "embedding",
    "PerlinTextureDataset": "datasets",
    "PowerSpectrumVectorizer": "spectrum",
    "angle_rmse": "metrics",
    "angle_rmse_scorer": "metrics",
    "clear_cache": "backbones",
    "kruskal_stress": "metrics",
    "kruskal_stress_scorer": "metrics",
    "linear_r2": "metrics",
    "linear_r2_scorer": "metrics",
    "make_embedding_scorer": "metrics",
    "power_spectrum": "spectrum",
    "reconstruct_angles": "metrics",
    "regression_angle": "metrics",
    "synthesize_map_grid": "synthesis",
    "synthesize_textures": "synthesis",
    "texture_distances": "distances",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_EXPORTS})
