"""Validation and conversion of image batches, shared by every estimator.

One place decides what counts as an image batch so that the vectorizers agree
on shapes, dtypes and error messages:

* ``(N, H, W)`` grey images, ``(N, H, W, C)`` images with channels last;
* ``(N, H*W)`` flattened images together with ``image_shape=(H, W)`` (one entry
  may be ``-1``, as in :func:`numpy.reshape`), which is how scikit-learn's
  common checks and tabular tools pass data;
* a list of 2-D/3-D arrays of different sizes, where the estimator allows it.
"""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array, validate_data

from sklearn_texture._validation import is_real_numeric

__all__ = [
    "as_image_list",
    "check_intensity_range",
    "colour_channels",
    "intensity_bounds",
    "rescale_intensities",
    "resolve_image_shape",
    "to_float_grey",
    "type_range",
    "unit_rgb",
    "validate_images",
]


def resolve_image_shape(image_shape, n_features):
    """Return the concrete ``(H, W)`` for flattened rows of ``n_features`` values.

    ``image_shape`` follows :func:`numpy.reshape`: one entry may be ``-1``.
    """
    if image_shape is None:
        raise ValueError(
            f"2-D input of shape (n_samples, {n_features}) is read as flattened images and "
            "needs image_shape=(height, width); pass 3-D (n_images, height, width) arrays "
            "otherwise."
        )
    if len(image_shape) != 2 or not all(isinstance(s, Integral) for s in image_shape):
        raise ValueError(f"image_shape must be a pair of integers; got {image_shape!r}.")
    height, width = (int(s) for s in image_shape)
    if height == -1 and width == -1:
        raise ValueError("image_shape may contain -1 at most once.")
    if height == -1 and width > 0 and n_features % width == 0:
        height = n_features // width
    elif width == -1 and height > 0 and n_features % height == 0:
        width = n_features // height
    if height <= 0 or width <= 0 or height * width != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)!r} does not match rows of {n_features} features."
        )
    return height, width


def _check_finite_numeric(image, what):
    image = np.asarray(image)
    if not is_real_numeric(image.dtype):
        raise ValueError(
            f"{what} must be a real numeric array; got dtype {image.dtype}."
        )
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError(f"{what} contains NaN or infinity.")
    return image


def _check_size(height, width, min_size, what, size_reason=""):
    if min(height, width) < min_size:
        raise ValueError(
            f"{what} must be at least {min_size}x{min_size} pixels{size_reason}; "
            f"got {height}x{width}."
        )


def validate_images(
    estimator, X, *, reset, image_shape=None, min_size=1, size_reason="", allow_list=False
):
    """Validate an image batch and return it with channels last.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator whose ``n_features_in_`` / ``feature_names_in_`` are
        set (``reset=True``) or checked (``reset=False``) for 2-D input.
    X : array-like or list of array-like
        ``(N, H, W)``, ``(N, H, W, C)``, ``(N, H*W)`` with ``image_shape``, or
        (when ``allow_list``) a list of ``(H, W)``/``(H, W, C)`` arrays.
    reset : bool
        True in ``fit``, False in ``transform``.
    image_shape : tuple of int or None
        Shape of each image when ``X`` is 2-D.
    min_size : int
        Smallest allowed image height and width.
    size_reason : str
        Why that minimum holds, appended to the error (e.g. ``" to reach conv5_1"``).
    allow_list : bool
        Whether a list of differently sized images is accepted.

    Returns
    -------
    images : ndarray of shape (N, H, W, C) or list of ndarray of shape (H, W, C)
        The original dtype is kept (integer images keep their range); C is 1
        for grey input.
    """
    if isinstance(X, (list, tuple)):
        if len(X) == 0:
            raise ValueError("Expected at least one image; got an empty sequence.")
        arrays = [np.asarray(x) for x in X]
        shapes = list(dict.fromkeys(a.shape for a in arrays))
        # Stacking would promote a uint8 image beside a uint16 one to uint16 and so read it
        # on the 0-65535 scale: each image keeps its own dtype (and intensity convention).
        mixed_dtypes = len({a.dtype for a in arrays}) > 1
        if allow_list and (len(shapes) > 1 or mixed_dtypes):
            if reset:
                _forget_flat_features(estimator)
            return as_image_list(arrays, min_size=min_size, size_reason=size_reason)
        if len(shapes) > 1:
            # np.asarray would fail with numpy's "inhomogeneous shape" message.
            raise ValueError(
                f"images must all have the same shape; got shapes {shapes[0]} and "
                f"{shapes[1]}. Crop or resize them to one size."
            )
    if _is_2d_frame(X):
        X = validate_data(estimator, X, reset=reset, dtype="numeric", ensure_all_finite=True)
        height, width = resolve_image_shape(image_shape, X.shape[1])
        images = X.reshape(X.shape[0], height, width, 1)
    else:
        if not hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
            raise ValueError(
                f"Expected an array of images, got {type(X).__name__}."
            )
        array = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if not is_real_numeric(array.dtype):
            raise ValueError(f"images must be a real numeric array; got dtype {array.dtype}.")
        if array.ndim == 2:
            return validate_images(
                estimator, array, reset=reset, image_shape=image_shape, min_size=min_size,
                size_reason=size_reason,
            )
        if array.ndim not in (3, 4):
            raise ValueError(
                "Expected images of shape (n_images, height, width) or "
                f"(n_images, height, width, channels); got an array with {array.ndim} "
                f"dimension(s) of shape {array.shape}."
                + (
                    " Reshape your data to (1, height, width) for a single image, or pass "
                    "flattened rows (n_images, height * width) with image_shape."
                    if array.ndim < 2
                    else ""
                )
            )
        images = check_array(
            array, dtype="numeric", ensure_2d=False, allow_nd=True, ensure_all_finite=True,
            input_name="images",
        )
        if images.dtype.kind == "b":
            images = images.astype(np.float32)
        if images.ndim == 3:
            images = images[..., np.newaxis]
        if reset:
            _forget_flat_features(estimator)
    if images.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"images must have 1, 3 or 4 channels in the last axis; got {images.shape[-1]}."
        )
    _check_size(images.shape[1], images.shape[2], min_size, "images", size_reason)
    return images


def _forget_flat_features(estimator):
    """Drop ``n_features_in_``/``feature_names_in_``: they only apply to 2-D (flat) input."""
    for attr in ("n_features_in_", "feature_names_in_"):
        if hasattr(estimator, attr):
            delattr(estimator, attr)


def _is_2d_frame(X):
    shape = getattr(X, "shape", None)
    return shape is not None and len(shape) == 2


def as_image_list(arrays, *, min_size=1, size_reason=""):
    """Validate a list of differently sized images; return ``(H, W, C)`` arrays."""
    images = []
    for index, image in enumerate(arrays):
        what = f"image {index}"
        image = _check_finite_numeric(image, what)
        if image.ndim == 2:
            image = image[..., np.newaxis]
        if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
            raise ValueError(
                f"{what} must have shape (height, width) or (height, width, channels) with "
                f"1, 3 or 4 channels; got {image.shape}."
            )
        if image.dtype.kind == "b":
            image = image.astype(np.float32)
        _check_size(image.shape[0], image.shape[1], min_size, what, size_reason)
        images.append(image)
    return images


def to_float_grey(images, dtype=np.float64):
    """Average colour channels (dropping alpha) and return float ``(N, H, W)``."""
    return colour_channels(np.asarray(images)).mean(axis=-1, dtype=dtype)


# ------------------------------------------------------------------ intensity conventions
#
# One mapping from stored values to intensities, used by both vectorizers, the tiler and
# the reader: uint8 images are read as 0-255 and uint16 as 0-65535 (the full range of the
# type); other images map a fixed ``intensity_range`` or, without one, their own min-max
# range onto [0, 1]. Alpha is never part of the range: it carries no texture.

_FULL_RANGE = {np.dtype(np.uint8): (0.0, 255.0), np.dtype(np.uint16): (0.0, 65535.0)}


def type_range(dtype):
    """``(0, 255)`` for 8-bit and ``(0, 65535)`` for 16-bit unsigned images, else None.

    Byte order does not matter (a big-endian ``>u2`` image is 16-bit too).

    Parameters
    ----------
    dtype : numpy dtype
        The image's dtype.

    Returns
    -------
    bounds : tuple of float or None
        The type's full range, which these images are always read on.
    """
    return _FULL_RANGE.get(np.dtype(dtype).newbyteorder("="))


def colour_channels(images):
    """``images`` (channels last) without an alpha channel (4 channels -> 3)."""
    return images[..., :3] if images.shape[-1] == 4 else images


def check_intensity_range(intensity_range):
    """Validate an ``intensity_range`` parameter: ``None`` or finite ``(low, high)``, low < high.

    Returns
    -------
    intensity_range : tuple of float or None
    """
    if intensity_range is None:
        return None
    if isinstance(intensity_range, (str, bytes)) or len(intensity_range) != 2:
        raise ValueError(f"intensity_range must be (low, high); got {intensity_range!r}.")
    try:
        low, high = (float(v) for v in intensity_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"intensity_range must be two real numbers; got {intensity_range!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise ValueError(
            f"intensity_range must be finite with high > low; got {intensity_range!r}."
        )
    return low, high


def intensity_bounds(image, intensity_range=None):
    """The ``(low, high)`` that :func:`rescale_intensities` maps onto [0, 1] for one image.

    Parameters
    ----------
    image : ndarray of shape (H, W, C)
        One validated image, channels last.
    intensity_range : tuple of float or None
        A fixed range for float and signed-integer images; ``None`` uses the image's
        own minimum and maximum over its colour channels (alpha excluded).

    Returns
    -------
    bounds : tuple of float or None
        ``None`` for a uniform image without a fixed range (it has no range to map;
        :func:`rescale_intensities` makes it mid grey).
    """
    full_range = type_range(image.dtype)
    if full_range is not None:
        return full_range
    if intensity_range is not None:
        return float(intensity_range[0]), float(intensity_range[1])
    colours = colour_channels(image)
    low, high = float(colours.min()), float(colours.max())
    return (low, high) if high > low else None


def rescale_intensities(images, low, high, *, dtype=np.float32):
    """Map ``[low, high]`` linearly onto [0, 1]: ``(x - low) / (high - low)``.

    The arithmetic is float64 whatever the input (a float32 cast before subtracting
    ``low`` would quantise images with a large offset); where ``high - low`` or
    ``x - low`` overflow (ranges near the float limits) every term is halved first,
    which is exact. Entries whose ``high`` equals ``low`` become 0.5 (mid grey).

    Parameters
    ----------
    images : ndarray
        Any real array.
    low, high : float or ndarray
        Broadcast against ``images`` (per-image bounds as ``(N, 1, 1)`` arrays).
    dtype : numpy dtype, default=np.float32
        Output dtype.

    Returns
    -------
    rescaled : ndarray of ``dtype``
    """
    values = np.asarray(images, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        span = high - low
        uniform = span == 0
        rescaled = (values - low) / np.where(uniform, 1.0, span)
        if not np.isfinite(rescaled).all():
            rescaled = (values / 2 - low / 2) / np.where(uniform, 1.0, high / 2 - low / 2)
        rescaled = rescaled.astype(dtype, copy=False)
    if uniform.any():
        rescaled[np.broadcast_to(uniform, rescaled.shape)] = 0.5
    return rescaled


def unit_rgb(image, bounds):
    """One ``(H, W, C)`` image as float32 RGB in [0, 1] for a network, given its bounds.

    ``bounds`` comes from :func:`intensity_bounds` (of this image, or of the whole
    image this is a tile of, so that tiles and the whole image agree). Alpha is
    dropped; grey is replicated to three channels.
    """
    colours = colour_channels(image)
    if bounds is None:
        unit = np.full(colours.shape, 0.5, dtype=np.float32)
    else:
        unit = rescale_intensities(colours, *bounds)
    if unit.shape[-1] == 1:
        unit = np.repeat(unit, 3, axis=-1)
    return unit
