"""Texture vectors of large images from tiles, with memory bounded by the tile.

A Gram matrix is a sum over pixels (Eq. 1), so the Gram matrix of a whole
activation map is the sum of the Gram matrices of any partition of it. A large
image is cut into *cores* that partition it; each core is run through the
network inside a *tile* that extends it by a margin, and only the activations
of the core are kept. When

* tile origins lie on the pooling grid (multiples of ``2^(blocks - 1)``, the
  stride of the deepest layer), so that every tile pools exactly the windows the
  whole image pools, and
* the margin covers the receptive field of the deepest layer, so that no kept
  activation sees the zero padding at a tile edge that lies inside the image,

every kept activation equals the untiled one, the cores' activations partition
every layer's full activation map, and the summed Gram matrices equal the
untiled ones up to float rounding. Zero padding then happens only where the
whole image has it, at the image border. The sums are normalised by the full
map's ``M_l`` in :func:`~sklearn_texture.gram.scaled_texture_vectors`.
"""

import math

import torch

from sklearn_texture._gram_math import gram_matrices, scaled_texture_vectors
from sklearn_texture._images import intensity_bounds, unit_rgb
from sklearn_texture.backbones import layer_stride, receptive_field

__all__ = [
    "AUTO_TILE_SIZE",
    "AUTO_TILING_PIXELS",
    "resolve_tile_size",
    "tile_margin",
    "tiled_texture_vector",
]

#: ``tile_size="auto"`` tiles images with more pixels than this (1024²) ...
AUTO_TILING_PIXELS = 1024 * 1024
#: ... into cores of this side; a 512² core with its margins keeps the first
#: block's activations near 100 MiB per tensor.
AUTO_TILE_SIZE = 512


def tile_margin(layer):
    """Context (input pixels, a multiple of the pooling grid) each core needs on each side.

    The activations of a core ``[c0, c1)`` (``c0``, ``c1`` on the grid) depend on
    input pixels ``[c0 - offset, c1 - stride + size - offset)``, with ``size``,
    ``stride`` and ``offset`` from :func:`sklearn_texture.backbones.receptive_field`
    (156, 16 and 70 for conv5_1: a margin of 80 pixels).
    """
    size, stride, offset = receptive_field(layer)
    needed = max(offset, size - offset - stride)
    return stride * math.ceil(needed / stride)


def resolve_tile_size(tile_size, image_shape, grid):
    """Core side for one image, or None when it is processed whole."""
    if tile_size is None:
        return None
    if tile_size == "auto":
        if image_shape[0] * image_shape[1] <= AUTO_TILING_PIXELS:
            return None
        tile_size = AUTO_TILE_SIZE
    core = max(grid, (int(tile_size) // grid) * grid)
    if core >= max(image_shape):
        return None  # one tile would be the whole image
    return core


def _spans(length, core, margin):
    """(tile start, tile stop, core start, core stop) along one axis."""
    for start in range(0, length, core):
        stop = min(length, start + core)
        yield max(0, start - margin), min(length, stop + margin), start, stop


def tiled_texture_vector(image, intensity_range, network, layer_weights, core, device,
                         margin=None):
    """Texture vector of one image, computed tile by tile.

    Parameters
    ----------
    image : ndarray of shape (H, W, C)
        One validated image, as the vectorizer received it.
    intensity_range : tuple of float or None
        As in :class:`~sklearn_texture.GramTextureVectorizer`. The bounds are those
        of the whole image (:func:`~sklearn_texture._images.intensity_bounds`, the
        one intensity mapping the untiled path uses too), applied tile by tile so
        that no image-sized float copy is made.
    network : VGG19Backbone
    layer_weights : sequence of float
    core : int
        Side of the non-overlapping core of each tile, a multiple of the
        deepest layer's stride.
    device : torch.device
    margin : int or None
        Context around each core; None uses :func:`tile_margin` of the deepest
        layer (exactness needs at least that; smaller values are for tests).

    Returns
    -------
    vector : ndarray of shape (n_features_out,), float32
    """
    bounds = intensity_bounds(image, intensity_range)
    strides = [layer_stride(name) for name in network.layers]
    if margin is None:
        margin = tile_margin(network.layers[-1])
    height, width = image.shape[:2]
    grams = [None] * len(strides)
    n_pixels = [0] * len(strides)
    with torch.inference_mode():
        for r0, r1, cr0, cr1 in _spans(height, core, margin):
            for c0, c1, cc0, cc1 in _spans(width, core, margin):
                tile = torch.from_numpy(unit_rgb(image[r0:r1, c0:c1], bounds))
                tile = tile.permute(2, 0, 1)[None].to(device)
                activations = network(network.input_convention.apply(tile))
                for index, (maps, stride) in enumerate(zip(activations, strides, strict=True)):
                    # Core in this layer's coordinates; floor(c1 / s) also covers a core
                    # that ends at an image border not on the grid.
                    kept = maps[:, :, (cr0 - r0) // stride: cr1 // stride - r0 // stride,
                                (cc0 - c0) // stride: cc1 // stride - c0 // stride]
                    gram = gram_matrices(kept).double()
                    grams[index] = gram if grams[index] is None else grams[index] + gram
                    n_pixels[index] += kept.shape[2] * kept.shape[3]
                del activations
    expected = [(height // s) * (width // s) for s in strides]
    if n_pixels != expected:  # the cores must partition every activation map
        raise RuntimeError(f"tiling covered {n_pixels} activations, expected {expected}.")
    vector = scaled_texture_vectors(grams, n_pixels, layer_weights)
    return vector[0].float().cpu().numpy()
