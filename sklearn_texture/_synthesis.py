"""The optimiser behind texture synthesis: pixels whose texture vectors match targets.

Gatys et al. (2015) synthesise a texture by minimising, over the pixels of a new image,
the distance between its Gram statistics and an exemplar's, with L-BFGS. Here the
statistic is the package's own texture vector and the objective is Eq. 4's squared
distance, computed by :func:`~sklearn_texture._gram_math.gram_texture_vectors` — the
code that :class:`~sklearn_texture.GramTextureVectorizer` runs, differentiated with
respect to its input. Shared by :meth:`GramTextureVectorizer.inverse_transform` and
:func:`sklearn_texture.synthesis.synthesize_textures`.

The driver is SciPy's L-BFGS-B (as in Gatys et al.), over the pixels of the whole batch
at once: every function evaluation is one forward and one backward pass of the network
for all images. Pixels are optimised on the network's [0, 1] intensity scale, unbounded,
with a smooth penalty on values outside [0, 1]; the result is clipped to [0, 1] and,
for the vectorizer's default min–max mapping of float images, stretched to span [0, 1]
exactly, so that ``GramTextureVectorizer().transform(images)`` is the vector whose
distance to the target is reported. (Optimising through the min–max map itself, or
with hard bounds, converged far more slowly: 0.61 and 0.33 of the starting loss after
150 evaluations where the free pixels reach 0.004, on a 48² stripe texture.)
"""

import contextlib
from numbers import Integral

import numpy as np
import torch

from sklearn_texture._gram_math import gram_texture_vectors
from sklearn_texture._images import rescale_intensities
from sklearn_texture._validation import check_positive_integer, is_real_numeric
from sklearn_texture.backbones import minimum_image_size

__all__ = [
    "DEFAULT_N_ITER",
    "check_n_iter",
    "check_synthesis_size",
    "check_target_vectors",
    "optimise_textures",
    "stretch_to_unit",
    "synthesis_batches",
]

#: L-BFGS steps of a synthesis by default (Gatys et al. ran a few hundred).
DEFAULT_N_ITER = 300

#: L-BFGS memory (pairs of steps and gradient changes kept).
HISTORY_SIZE = 20

#: Weight of the penalty ``mean((x - clip(x, 0, 1))^2)`` that keeps pixels in [0, 1].
RANGE_PENALTY = 1.0

#: Fraction of the evaluations spent with the pixels bounded to [0, 1] (the last ones).
BOUNDED_FRACTION = 0.25


#: Memory one synthesis batch may take: the activations kept for the backward pass and
#: L-BFGS's float64 history grow with the batch's pixels, and an unbounded batch (a
#: 64x64 map grid, say) would be killed by the system without a message.
SYNTHESIS_BATCH_BYTES = 2 * 2**30

#: Bytes per pixel of one image in a synthesis with the paper's layers: measured peak
#: RSS grew by 4.1 kB per pixel at 64² and 3.2 kB at 128² (random weights, CPU).
SYNTHESIS_BYTES_PER_PIXEL = 4096


def synthesis_batches(indices, shape):
    """Split ``indices`` into batches of images of ``shape`` that fit the memory budget.

    Parameters
    ----------
    indices : sequence of int
        The images to synthesise (all of one shape).
    shape : tuple of int
        ``(H, W, ...)`` of the images.

    Returns
    -------
    batches : list of list of int
        Consecutive runs of ``indices``, each at most
        ``SYNTHESIS_BATCH_BYTES // (SYNTHESIS_BYTES_PER_PIXEL * H * W)`` long (at least 1).
    """
    indices = list(indices)
    per_batch = max(1, SYNTHESIS_BATCH_BYTES // (SYNTHESIS_BYTES_PER_PIXEL * shape[0]
                                                 * shape[1]))
    return [indices[start:start + per_batch] for start in range(0, len(indices), per_batch)]


def check_n_iter(n_iter, name="n_iter"):
    """Return ``n_iter`` as an int ≥ 1, or raise ``ValueError`` naming it ``name``."""
    return check_positive_integer(n_iter, name)


def check_synthesis_size(size, deepest, name="size"):
    """``size`` of a synthesis as ``(height, width)``, or None; ``ValueError`` naming it.

    Parameters
    ----------
    size : int, (int, int) or None
        A side, or ``(height, width)``; None means "the default shape".
    deepest : str
        The deepest layer matched: each side must reach it
        (:func:`~sklearn_texture.backbones.minimum_image_size`).
    name : str, default="size"
        What the messages call it (``"synthesis_size"`` for the estimator parameter).

    Returns
    -------
    size : tuple of (int, int) or None
    """
    if size is None:
        return None
    sides = (size, size) if isinstance(size, Integral) else size
    if (
        not isinstance(sides, (tuple, list)) or len(sides) != 2
        or not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sides)
        or isinstance(size, bool) or min(sides) < 1
    ):
        raise ValueError(f"{name} must be None, a positive integer or (height, width); got "
                         f"{size!r}.")
    floor = minimum_image_size(deepest)
    if min(sides) < floor:
        raise ValueError(f"{name} must be at least {floor}x{floor} pixels to reach {deepest}; "
                         f"got {sides[0]}x{sides[1]}.")
    return int(sides[0]), int(sides[1])


def check_target_vectors(X, n_features):
    """Texture vectors to synthesise from: a finite float64 ``(n, n_features)`` array.

    Parameters
    ----------
    X : array-like of shape (n, n_features)
        Rows of a vectorizer's ``transform`` (or combinations of them).
    n_features : int
        The length the vectorizer's texture vectors have.

    Returns
    -------
    X : ndarray of shape (n, n_features), float64

    Raises
    ------
    ValueError
        Wrong shape or length, non-numeric, NaN or infinite entries.
    """
    if hasattr(X, "to_numpy"):  # pandas / polars output of set_output
        X = X.to_numpy()
    try:
        array = np.asarray(X)
    except (TypeError, ValueError):
        raise ValueError(
            f"texture vectors must be a numeric array; got {type(X).__name__}."
        ) from None
    if not is_real_numeric(array.dtype):
        raise ValueError(f"texture vectors must be real numbers; got dtype {array.dtype}.")
    if array.ndim == 1:
        array = array[np.newaxis]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(
            "texture vectors must have shape (n_samples, n_features); got an array of "
            f"shape {array.shape}."
        )
    if array.shape[1] != n_features:
        raise ValueError(
            f"texture vectors must have {n_features} features (the vectorizer's "
            f"n_features_out_); got {array.shape[1]}."
        )
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError("texture vectors contain NaN or infinity.")
    if not (np.square(array).sum(axis=1) > 0).all():
        raise ValueError("a texture vector is zero: it describes no texture to synthesise.")
    return array


def stretch_to_unit(images):
    """Min–max stretch each ``(H, W, C)`` image of a batch onto [0, 1] (colours jointly).

    The vectorizer's mapping of float images without a fixed ``intensity_range``
    (:func:`~sklearn_texture._images.rescale_intensities`, the package's one min–max
    rescaler); a uniform image becomes mid grey, as the vectorizer sees it.
    """
    low = images.min(axis=(1, 2, 3), keepdims=True)
    high = images.max(axis=(1, 2, 3), keepdims=True)
    return rescale_intensities(images, low, high)


def optimise_textures(
    targets, shape, network, layer_weights, *, n_iter=DEFAULT_N_ITER, init=None, seed=0,
    device, stretch=True, extra_loss=None, progress=None,
):
    """Images of one shape whose texture vectors approach ``targets`` (L-BFGS, one batch).

    Minimises ``sum_i ||v(x_i) - t_i||^2 / ||t_i||^2`` (plus ``extra_loss`` and a
    penalty ``RANGE_PENALTY * mean((x - clip(x, 0, 1))^2)`` per image) over the pixels ``x``, where
    ``v`` is :func:`gram_texture_vectors` (Eq. 1–4, so each term is the squared Eq. 4
    distance relative to the target's squared norm). All images form one batch: each
    function evaluation is one forward and one backward pass of the network for the
    batch, and SciPy's L-BFGS-B drives all pixels at once. The returned images are the
    final pixels clipped to [0, 1] (and stretched, see ``stretch``); their losses are
    evaluated again and reported as the last row of ``losses``.

    Parameters
    ----------
    targets : ndarray of shape (B, n_features)
        Finite texture vectors (checked by :func:`check_target_vectors`).
    shape : tuple of int
        ``(H, W, C)`` of the images, ``C`` 1 (grey) or 3 (RGB).
    network : VGG19Backbone
        The vectorizer's network (eval mode, parameters without gradients).
    layer_weights : sequence of float
        ``w_l`` of Eq. 3, in network order.
    n_iter : int, default=300
        Function evaluations (forward and backward passes), as Gatys et al.'s
        ``maxfun``; L-BFGS-B's line search may spend several on one iteration.
    init : ndarray of shape (B, H, W, C) or None, default=None
        Starting pixels on the [0, 1] scale; ``None`` draws uniform white noise from
        ``seed``.
    seed : int, default=0
        Seed of the noise (numpy's PCG64, so the same on every device).
    device : torch.device
        Where to run the network (the network's device).
    stretch : bool, default=True
        Min–max stretch the result onto [0, 1], as the vectorizer maps float images
        without a fixed ``intensity_range``.
    extra_loss : callable or None, default=None
        ``extra_loss(x)`` for the ``(B, C, H, W)`` pixels returns a ``(B,)`` tensor added
        to the per-image loss (e.g. a power-spectrum term).
    progress : tqdm or None, default=None
        Updated once per evaluation, with the mean loss as postfix.

    Returns
    -------
    images : ndarray of shape (B, H, W, C), float32 in [0, 1]
    losses : ndarray of shape (n_iter + 1, B) or fewer rows
        Each image's loss at every evaluation (the first is the starting images) and,
        in the last row, the loss of the images returned: the optimised pixels
        clipped (and stretched), or the starting images where those are worse (a very
        short run).
    """
    from scipy.optimize import Bounds, minimize

    height, width, channels = shape
    batch = len(targets)
    dims = (batch, channels, height, width)
    if init is None:
        start = np.random.default_rng(seed).random(dims, dtype=np.float32)
    else:
        start = np.moveaxis(np.asarray(init, np.float32), -1, 1)
    target = torch.as_tensor(targets, dtype=torch.float32, device=device)
    target_norm = target.double().square().sum(dim=1).float()
    history = []

    def per_image_loss(x):
        rgb = x.expand(-1, 3, -1, -1) if channels == 1 else x
        vectors = gram_texture_vectors(network.input_convention.apply(rgb), network,
                                       layer_weights)
        loss = (vectors - target).square().sum(dim=1) / target_norm
        if extra_loss is not None:
            loss = loss + extra_loss(x)
        return loss

    def evaluate(flat):
        x = torch.from_numpy(flat.reshape(dims).astype(np.float32)).to(device)
        x.requires_grad_(True)
        loss = per_image_loss(x)
        outside = (x - x.detach().clamp(0.0, 1.0)).square().flatten(1).mean(dim=1)
        outside = RANGE_PENALTY * outside
        total = (loss + outside).sum()
        total.backward()
        values = loss.detach().double().cpu().numpy()
        if not np.isfinite(values).all() or not torch.isfinite(x.grad).all():
            raise FloatingPointError
        history.append(values)
        if progress is not None:
            progress.set_postfix(loss=f"{values.mean():.4g}", refresh=False)
            progress.update(1)
        return float(total.detach()), x.grad.double().cpu().numpy().ravel()

    class BudgetSpent(Exception):
        """The phase has used its evaluations (SciPy's maxfun may overshoot in a line
        search; the budget is exact)."""

    def run(pixels, n_evaluations, bounds):
        if n_evaluations < 1:
            return pixels
        best = [np.inf, pixels]
        count = [0]

        def counted(flat):
            if count[0] == n_evaluations:
                raise BudgetSpent
            count[0] += 1
            value, gradient = evaluate(flat)
            if value < best[0]:
                best[0], best[1] = value, flat.copy()
            return value, gradient

        with contextlib.suppress(BudgetSpent):
            minimize(counted, pixels, jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxfun": n_evaluations, "maxiter": n_evaluations,
                              "maxcor": HISTORY_SIZE, "ftol": 0.0, "gtol": 0.0})
        return best[1]  # the pixels with the lowest objective evaluated

    # Free pixels first (fast), then bounded to [0, 1] from the clipped pixels, which
    # repairs what clipping costs (0.004 -> 0.016 of the starting loss without it).
    n_bounded = round(BOUNDED_FRACTION * n_iter)
    try:
        free = run(start.astype(np.float64).ravel(), n_iter - n_bounded, None)
        final = run(np.clip(free, 0.0, 1.0), n_bounded, Bounds(0.0, 1.0))
    except FloatingPointError:
        if not history:
            raise ValueError(
                "the synthesis loss is not finite for the starting images: the network's "
                "activations overflow float32 (check the weights and layer_weights)."
            ) from None
        raise ValueError(
            "the synthesis diverged (the loss or its gradient overflowed float32); try "
            "fewer n_iter or other layer_weights."
        ) from None

    def finish(pixels):
        images = np.clip(np.moveaxis(pixels.reshape(dims), 1, -1), 0.0, 1.0)
        images = stretch_to_unit(images) if stretch else images.astype(np.float32)
        with torch.no_grad():
            batch_pixels = torch.from_numpy(np.ascontiguousarray(np.moveaxis(images, -1, 1)))
            return images, per_image_loss(batch_pixels.to(device)).double().cpu().numpy()

    images, returned = finish(final)
    # Never worse than the starting images (a short run can end worse once clipped).
    worse = returned > history[0]
    if worse.any():
        start_images, start_losses = finish(start.astype(np.float64))
        images[worse], returned[worse] = start_images[worse], start_losses[worse]
    history.append(returned)
    return images, np.stack(history)
