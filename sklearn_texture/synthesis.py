"""Texture synthesis: new images with an exemplar's texture vector (the paper's Fig. 1).

Lubbers et al. open (Sec. I, Fig. 1) by showing what the Gram texture vector captures:
Gatys et al.'s algorithm makes a new random image constrained to an exemplar's Gram
statistics. :func:`synthesize_textures` does that for a batch of exemplars with the
package's own texture vectors: it minimises, over the pixels, the squared Eq. 4
distance between the candidate's texture vector and the exemplar's (the code of
:class:`~sklearn_texture.GramTextureVectorizer`, differentiated), optionally plus the
squared Eq. 7 distance of their power spectra (:func:`power_spectrum_torch`), with
L-BFGS. The estimator side is :meth:`GramTextureVectorizer.inverse_transform` (any
texture vector → an image, hence morphing) and :meth:`LandmarkMDS.inverse_transform
<sklearn_texture.LandmarkMDS.inverse_transform>` (any map point → a texture vector).
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state

from sklearn_texture._synthesis import (
    DEFAULT_N_ITER,
    check_n_iter,
    check_synthesis_size,
    optimise_textures,
    synthesis_batches,
)
from sklearn_texture.backbones import sort_layers
from sklearn_texture.gram import PAPER_LAYERS, GramTextureVectorizer

__all__ = ["power_spectrum_torch", "synthesize_map_grid", "synthesize_textures"]


def power_spectrum_torch(images):
    r"""Differentiable power spectra whose Euclidean distances are Eq. (7).

    The torch counterpart of :func:`~sklearn_texture.spectrum.power_spectrum` for
    images on the [0, 1] scale: each image is mapped to :math:`\phi = 2u - 1` and
    :math:`S(\mathbf q) = |\mathrm{FFT}[\phi](\mathbf q)|^2 / (H W)` (Eq. 6) is kept on
    the real FFT's half plane, each column that stands for two columns of the full
    plane multiplied by :math:`\sqrt 2`, so that
    ``torch.linalg.norm(P[i] - P[j])`` is Eq. (7)'s :math:`d_{ij}` over the whole
    plane. For images spanning [0, 1] (as synthesised images do) this is exactly the
    distance between rows of ``power_spectrum(images)``.

    Parameters
    ----------
    images : torch.Tensor of shape (B, H, W)
        Grey images on the [0, 1] scale.

    Returns
    -------
    spectra : torch.Tensor of shape (B, H * (W // 2 + 1))
    """
    height, width = images.shape[-2:]
    amplitude = torch.fft.rfft2(2 * images - 1)
    spectrum = (amplitude.real.square() + amplitude.imag.square()) / (height * width)
    weight = torch.full((width // 2 + 1,), 2.0 ** 0.5, dtype=spectrum.dtype,
                        device=spectrum.device)
    weight[0] = 1.0
    if width % 2 == 0:
        weight[-1] = 1.0  # the Nyquist column is its own mirror
    return (spectrum * weight).flatten(1)


def _exemplar_list(images):
    """The exemplars as (H, W, C) arrays with C = 1 or 3 (alpha dropped)."""
    arrays = list(images) if isinstance(images, (list, tuple)) else list(np.asarray(images))
    out = []
    for image in arrays:
        image = np.asarray(image)
        image = image[..., np.newaxis] if image.ndim == 2 else image[..., :3]
        out.append(image)
    return out


def synthesize_textures(
    images, *, size=None, n_iter=DEFAULT_N_ITER, layers=PAPER_LAYERS, layer_weights=None,
    weights="vgg19_normalized", spectrum_weight=0.0, init="noise", random_state=None,
    device="auto", verbose=0, return_losses=False,
):
    r"""Synthesise a new image for each exemplar with the exemplar's texture vector.

    For each exemplar :math:`x_0` the pixels of a new image :math:`x` minimise

    .. math:: \frac{d_4(x, x_0)^2}{\|v(x_0)\|^2}
              + \lambda \frac{d_7(x, x_0)^2}{\|S(x_0)\|^2},

    the squared Eq. 4 distance between texture vectors :math:`v` (computed by the
    code of :class:`~sklearn_texture.GramTextureVectorizer`, so through the same
    intensity mapping) and, when ``spectrum_weight`` :math:`\lambda > 0`, the squared
    Eq. 7 distance between power spectra (:func:`power_spectrum_torch`; a second term
    as in Liu et al. 2016, which restores long-range order that Gram statistics
    lose), both relative to the exemplar's squared norm. Starting from white noise,
    SciPy's L-BFGS-B runs over the pixels of all exemplars of one output shape at once
    (one forward and backward pass of the network per evaluation for the whole
    batch); see :mod:`sklearn_texture._synthesis`.

    The result is float32 in [0, 1], spanning [0, 1] (min–max stretched), so that
    ``GramTextureVectorizer(...).transform(result)`` — which min–max scales float
    images — computes exactly the texture vector whose loss is reported.

    Parameters
    ----------
    images : array-like of shape (n, H, W) or (n, H, W, C), or list of arrays
        Exemplars, grey or RGB (alpha dropped), of any sizes; intensities are mapped
        as :class:`~sklearn_texture.GramTextureVectorizer` maps them (uint8 0–255,
        uint16 0–65535, floats min–max).
    size : int, (int, int) or None, default=None
        Side (or ``(height, width)``) of every synthesis; ``None`` keeps each
        exemplar's size. At least the deepest layer's stride (16 px for conv5_1).
    n_iter : int, default=300
        Evaluations (forward and backward passes) of the optimiser, at least 1.
    layers : tuple of str, default=PAPER_LAYERS
        Layers whose Gram matrices are matched (the vectorizer's ``layers``; by default
        the paper's conv1_1, conv2_1, conv3_1, conv4_1 and conv5_1).
    layer_weights : array-like of float or None, default=None
        ``w_l`` of Eq. 3 (the vectorizer's ``layer_weights``).
    weights : str or path, default="vgg19_normalized"
        Network weights (the vectorizer's ``weights``).
    spectrum_weight : float, default=0.0
        :math:`\lambda`, the weight of the power-spectrum term; needs ``size=None``
        (spectra of different sizes sample different wavevectors) and grey exemplars.
    init : "noise", default="noise"
        Starting images: uniform white noise drawn from ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seeds the starting noise (and ``weights="random"``). On the CPU the same seed
        gives the same bytes.
    device : str or torch.device, default="auto"
        Where the network runs (``"auto"``: CUDA when available).
    verbose : int, default=0
        Show a tqdm progress bar over evaluations, with the current mean loss.
    return_losses : bool, default=False
        Also return the loss curves.

    Returns
    -------
    syntheses : ndarray of shape (n, H, W) or (n, H, W, 3), or list of ndarray
        One new image per exemplar, float32 in [0, 1]; a list when the shapes differ.
    losses : list of ndarray of shape (n_evaluations + 1,)
        Only with ``return_losses``: each exemplar's relative loss at every evaluation
        (the first is the starting noise); the last entry is the returned image's.

    Raises
    ------
    ValueError
        Bad images (NaN/inf, too small for the deepest layer, wrong shape), ``n_iter``
        < 1, a bad ``size``, ``spectrum_weight`` or ``init``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.synthesis import synthesize_textures
    >>> exemplar = (np.sin(np.arange(32) / 2.0)[None, None, :] > 0).repeat(32, axis=1)
    >>> new, losses = synthesize_textures(
    ...     exemplar.astype(float), n_iter=20, layers=("conv1_1", "conv2_1"),
    ...     weights="random", random_state=0, return_losses=True)
    >>> new.shape, float(new.min()), float(new.max())
    ((1, 32, 32), 0.0, 1.0)
    >>> bool(losses[0][-1] < 0.5 * losses[0][0])
    True
    """
    n_iter = check_n_iter(n_iter)
    size = check_synthesis_size(size, sort_layers(layers)[-1])
    if not isinstance(init, str) or init != "noise":
        raise ValueError(f"init must be 'noise'; got {init!r}.")
    if (isinstance(spectrum_weight, bool) or not isinstance(spectrum_weight, Real)
            or not np.isfinite(spectrum_weight) or spectrum_weight < 0):
        raise ValueError(
            f"spectrum_weight must be a finite number >= 0; got {spectrum_weight!r}.")
    vectorizer = GramTextureVectorizer(
        layers=layers, layer_weights=layer_weights, weights=weights, device=device,
        random_state=random_state, verbose=0,
    )
    targets = vectorizer.fit_transform(images)  # validates images and parameters
    exemplars = _exemplar_list(images)
    shapes = [(*(size or image.shape[:2]), image.shape[2]) for image in exemplars]
    if spectrum_weight > 0:
        if size is not None and any(s[:2] != e.shape[:2] for s, e in zip(shapes, exemplars,
                                                                            strict=True)):
            raise ValueError("spectrum_weight > 0 needs size=None: power spectra of "
                             "different sizes sample different wavevectors (Eq. 7).")
        if any(s[2] != 1 for s in shapes):
            raise ValueError("spectrum_weight > 0 needs grey exemplars.")
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    network = vectorizer.get_network()
    results, curves = [None] * len(exemplars), [None] * len(exemplars)
    groups = {}
    for index, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(index)
    # One batch per shape, split where it would exceed the memory budget.
    batches = [(shape, batch) for shape, members in groups.items()
               for batch in synthesis_batches(members, shape)]
    from tqdm.auto import tqdm

    with tqdm(total=n_iter * len(batches), disable=not verbose, unit="eval",
              desc="synthesize_textures") as progress:
        for batch_number, (shape, members) in enumerate(batches):
            extra = None
            if spectrum_weight > 0:
                extra = _spectrum_term([exemplars[i] for i in members], vectorizer,
                                       spectrum_weight)
            images_out, losses = optimise_textures(
                targets[members], shape, network, vectorizer.layer_weights_, n_iter=n_iter,
                seed=(seed, batch_number), device=vectorizer.device_, stretch=True,
                extra_loss=extra, progress=progress,
            )
            for position, index in enumerate(members):
                image = images_out[position]
                results[index] = image[..., 0] if image.shape[-1] == 1 else image
                curves[index] = losses[:, position]
    if len({r.shape for r in results}) == 1:
        results = np.stack(results)
    return (results, curves) if return_losses else results


def synthesize_map_grid(model, *, n_points=4, dims=(0, 1), size=None, n_iter=None,
                        verbose=0):
    """Synthesised micrographs on a regular grid across a fitted map.

    A picture of the manifold itself (the paper's Fig. 9–11 with images in place of
    dots): the map's last step (e.g. :class:`~sklearn_texture.LandmarkMDS`) turns each
    grid point into a texture vector (its ``inverse_transform``), any steps between
    undo theirs, and the :class:`~sklearn_texture.GramTextureVectorizer` first step
    synthesises an image with that vector (its ``inverse_transform``).

    Parameters
    ----------
    model : Pipeline
        A fitted :class:`~sklearn.pipeline.Pipeline` whose first step is a
        :class:`~sklearn_texture.GramTextureVectorizer` and whose last step has
        ``embedding_`` (the training images' coordinates) and ``inverse_transform``;
        steps between need ``inverse_transform``. Not modified. The starting noise is
        seeded by the vectorizer's ``random_state`` (set it for repeatable grids); grids
        of more images than fit the memory budget are synthesised in several batches
        (:data:`~sklearn_texture._synthesis.SYNTHESIS_BATCH_BYTES`).
    n_points : int, default=4
        Grid points along each of the two axes, at least 2 (the command line's
        ``map-walk`` stops at 64: 64² syntheses already take hours on a CPU).
    dims : (int, int), default=(0, 1)
        The two map dimensions (0-based) the grid spans, over the bounding box of
        ``embedding_``; the other coordinates are held at the embedding's mean.
    size : int, (int, int) or None, default=None
        Side of the syntheses (the vectorizer's ``inverse_transform``).
    n_iter : int or None, default=None
        Optimiser evaluations; ``None``: the vectorizer's ``synthesis_n_iter``.
    verbose : int, default=0
        Show a progress bar over optimiser evaluations.

    Returns
    -------
    points : ndarray of shape (n_points ** 2, n_components)
        The grid, row by row from the top left: the first row has the largest
        ``dims[1]`` coordinate, each row runs along increasing ``dims[0]``.
    vectors : ndarray of shape (n_points ** 2, n_features)
        The texture vectors at the points.
    images : ndarray of shape (n_points ** 2, H, W) or (n_points ** 2, H, W, 3)
        One synthesis per point, float32 (the vectorizer's ``inverse_transform``).

    Raises
    ------
    ValueError
        A model that is not a fitted Gram pipeline (a power-spectrum map has no
        inverse here), a step between without ``inverse_transform``, a map of one
        dimension, bad ``dims`` or ``n_points``.
    """
    import copy

    from sklearn.utils.validation import check_is_fitted

    steps = getattr(model, "steps", None)
    if not steps or len(steps) < 2:
        raise ValueError("model must be a fitted Pipeline: a texture vectorizer, then a map "
                         f"such as LandmarkMDS; got {type(model).__name__}.")
    vectorizer, mapper = steps[0][1], steps[-1][1]
    if not isinstance(vectorizer, GramTextureVectorizer):
        raise ValueError(
            f"a map grid needs a Gram map (GramTextureVectorizer first); this map starts "
            f"with {type(vectorizer).__name__}, and the power spectrum has no inverse here.")
    check_is_fitted(vectorizer, "n_features_out_")
    embedding = getattr(mapper, "embedding_", None)
    if embedding is None or not hasattr(mapper, "inverse_transform"):
        raise ValueError(f"the map's last step {type(mapper).__name__} has no fitted "
                         "embedding_ and inverse_transform (use LandmarkMDS).")
    embedding = np.asarray(embedding, dtype=np.float64)
    n_components = embedding.shape[1]
    if n_components < 2:
        raise ValueError("a map grid needs a map of at least 2 dimensions; this map has "
                         f"{n_components}.")
    if (isinstance(n_points, bool) or not isinstance(n_points, Integral)
            or n_points < 2):
        # No upper bound: batches are capped by memory, time is the caller's to spend.
        raise ValueError(f"n_points must be an integer >= 2; got {n_points!r}.")
    if (not isinstance(dims, (tuple, list)) or len(dims) != 2
            or not all(isinstance(d, Integral) and not isinstance(d, bool) for d in dims)
            or not all(0 <= d < n_components for d in dims) or dims[0] == dims[1]):
        raise ValueError(f"dims must be two different map dimensions from 0 to "
                         f"{n_components - 1}; got {dims!r}.")
    low, high = embedding.min(axis=0), embedding.max(axis=0)
    across = np.linspace(low[dims[0]], high[dims[0]], n_points)
    down = np.linspace(high[dims[1]], low[dims[1]], n_points)  # top row first
    points = np.tile(embedding.mean(axis=0), (n_points * n_points, 1))
    points[:, dims[0]] = np.tile(across, n_points)
    points[:, dims[1]] = np.repeat(down, n_points)
    # Steps between the vectorizer and the map are undone in reverse order; check them
    # all before any synthesis ("passthrough" and None are no steps).
    between = [(name, step) for name, step in steps[1:-1]
               if step is not None and not (isinstance(step, str) and step == "passthrough")]
    for name, step in between:
        if not hasattr(step, "inverse_transform"):
            raise ValueError(f"the map's step {name!r} ({type(step).__name__}) has no "
                             "inverse_transform, so map points cannot be turned back into "
                             "texture vectors.")
    vectors = mapper.inverse_transform(points)
    for _, step in reversed(between):
        vectors = step.inverse_transform(vectors)
    synthesiser = copy.copy(vectorizer)  # the caller's verbose, the model untouched
    synthesiser.verbose = verbose
    # Images, not flattened rows, even for a vectorizer fitted on flattened rows.
    synthesiser.__dict__.pop("n_features_in_", None)
    images = synthesiser.inverse_transform(vectors, size=size, n_iter=n_iter)
    return points, np.asarray(vectors), images


def _spectrum_term(exemplars, vectorizer, spectrum_weight):
    """``extra_loss`` of the optimiser: λ ‖S(x) − S(x₀)‖² / ‖S(x₀)‖² per image."""
    from sklearn_texture._images import intensity_bounds, rescale_intensities

    units = []
    for image in exemplars:
        bounds = intensity_bounds(image, None)
        units.append(np.full(image.shape[:2], 0.5, np.float32) if bounds is None
                     else rescale_intensities(image[..., 0], *bounds))
    device = vectorizer.device_
    target = power_spectrum_torch(torch.from_numpy(np.stack(units)).to(device))
    norm = target.square().sum(dim=1)
    if not bool((norm > 0).all()):
        raise ValueError(
            "spectrum_weight > 0 needs exemplars that are not uniform: a uniform image has "
            "a zero power spectrum (Eq. 6), so the relative spectrum loss is undefined."
        )

    def term(x):
        return spectrum_weight * (power_spectrum_torch(x[:, 0]) - target).square().sum(
            dim=1) / norm

    return term
