"""Texture vectors for micrographs: CNN Gram matrices and power spectra as sklearn transformers.

Implements Lubbers, Lookman & Barros, "Inferring low-dimensional microstructure
representations using convolutional neural networks", Phys. Rev. E 96, 052111 (2017).
"""

__version__ = "0.1.0"

from sklearn_texture.gram import GramTextureVectorizer

__all__ = ["GramTextureVectorizer", "__version__"]
