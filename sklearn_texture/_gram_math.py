"""The Gram maths of Sec. III A: Gram matrices, their scaling and packing (Eq. 1–4).

Plain functions on torch tensors, shared by :class:`~sklearn_texture.GramTextureVectorizer`
(whole images), the tiler (sums over tiles) and texture synthesis (gradients through the
same code). Each equation lives here and nowhere else.
"""

import functools
import math

import numpy as np
import torch

__all__ = [
    "gram_feature_names",
    "gram_matrices",
    "gram_texture_vectors",
    "pack_gram",
    "packed_size",
    "scaled_texture_vectors",
]


def packed_size(n_features):
    """Entries of a packed symmetric ``n_features`` × ``n_features`` Gram matrix, ``N(N+1)/2``."""
    return n_features * (n_features + 1) // 2


def gram_feature_names(layer, n_features):
    """Names ``<layer>_<i>_<k>`` (``i <= k``) of a packed Gram matrix, in packing order."""
    rows, cols = np.triu_indices(n_features)
    return np.char.add(
        np.char.add(f"{layer}_", rows.astype(str)), np.char.add("_", cols.astype(str))
    ).astype(object)


def gram_matrices(activations):
    """Gram matrices of a batch of activation maps (Eq. 1).

    Parameters
    ----------
    activations : torch.Tensor of shape (B, N_l, H, W)
        Post-ReLU activations ``F^l`` of one layer: ``N_l`` features on
        ``M_l = H * W`` pixels.

    Returns
    -------
    gram : torch.Tensor of shape (B, N_l, N_l)
        ``G^l_ik = sum_j F^l_ij F^l_kj``.
    """
    features = activations.flatten(2)
    return torch.bmm(features, features.transpose(1, 2))


@functools.lru_cache(maxsize=16)
def _upper_triangle(n_features, device):
    # Cached across calls: built as normal tensors even when the first call comes from
    # transform's inference mode, so that synthesis can differentiate through them later.
    with torch.inference_mode(False):
        rows, cols = torch.triu_indices(n_features, n_features, device=device)
        flat_index = rows * n_features + cols
        # Off-diagonal entries stand for two equal entries of the symmetric matrix.
        weight = torch.full(rows.shape, math.sqrt(2.0), dtype=torch.float64, device=device)
        weight[rows == cols] = 1.0
    return flat_index, weight


def pack_gram(gram, scale):
    """Pack symmetric Gram matrices into rows whose Euclidean norm is the Frobenius norm.

    Keeps the upper triangle (diagonal included, ``N(N+1)/2`` entries) with
    off-diagonal entries multiplied by ``sqrt(2)``, so that for any two matrices
    ``||pack(G1) - pack(G2)|| = scale * ||G1 - G2||_F``.

    Parameters
    ----------
    gram : torch.Tensor of shape (B, N, N)
        Symmetric Gram matrices (Eq. 1).
    scale : float or torch.Tensor of shape (B,)
        Factor applied to every packed entry (``sqrt(w_l / A_l)`` for Eq. 4).

    Returns
    -------
    packed : torch.Tensor of shape (B, N * (N + 1) // 2)
    """
    n_features = gram.shape[-1]
    flat_index, weight = _upper_triangle(n_features, gram.device)
    packed = gram.flatten(1).index_select(1, flat_index)
    scale = torch.as_tensor(scale, dtype=torch.float64, device=gram.device).reshape(-1, 1)
    return packed.mul_((weight * scale).to(gram.dtype))


def scaled_texture_vectors(grams, n_pixels, layer_weights):
    """Scale and pack per-layer Gram matrices into texture vectors (Eq. 2–4).

    Each layer ``l`` contributes its Gram matrix scaled by ``sqrt(w_l / A_l)``
    with ``A_l = 4 N_l^2 M_l^2`` (``N_l`` features, ``M_l`` pixels), packed by
    :func:`pack_gram`. The Euclidean distance between two rows is therefore the
    paper's ``d_ij`` of Eq. 4,
    ``d_ij^2 = sum_l w_l ||G^l(x_i) - G^l(x_j)||^2 / A_l``. (The text's
    ``Ĝ = (w_l / A_l) G`` contradicts Eq. 2–4; Eq. 4 is what is implemented.)

    Parameters
    ----------
    grams : sequence of torch.Tensor of shape (B, N_l, N_l)
        Gram matrices ``G^l`` (Eq. 1), one tensor per layer.
    n_pixels : sequence of int
        ``M_l``, the number of pixels each layer's Gram matrix sums over.
    layer_weights : sequence of float
        ``w_l`` for each layer.

    Returns
    -------
    vectors : torch.Tensor of shape (B, sum_l N_l (N_l + 1) / 2)
    """
    blocks = []
    for gram, m_l, weight in zip(grams, n_pixels, layer_weights, strict=True):
        scale = math.sqrt(weight) / (2.0 * gram.shape[-1] * m_l)
        blocks.append(pack_gram(gram, scale))
    return torch.cat(blocks, dim=1)


def gram_texture_vectors(network_input, network, layer_weights):
    """Texture vectors of a batch of images (Eq. 1–4).

    The Gram matrices (Eq. 1, :func:`gram_matrices`) of ``network``'s
    activations, scaled and packed by :func:`scaled_texture_vectors` so that
    Euclidean distances between rows are Eq. 4's ``d_ij``.

    Parameters
    ----------
    network_input : torch.Tensor of shape (B, 3, H, W)
        Images already mapped to the network's input convention.
    network : VGG19Backbone
        Returns the activations of its layers in order.
    layer_weights : sequence of float
        ``w_l`` for each of ``network.layers``.

    Returns
    -------
    vectors : torch.Tensor of shape (B, sum_l N_l (N_l + 1) / 2)
    """
    activations = network(network_input)
    return scaled_texture_vectors(
        [gram_matrices(a) for a in activations],
        [a.shape[2] * a.shape[3] for a in activations],
        layer_weights,
    )
