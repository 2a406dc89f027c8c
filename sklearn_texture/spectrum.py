"""Power-spectrum texture vectors (Lubbers et al. 2017, Sec. III B, Eq. 5–7).

The power spectrum (structure factor) of an image is the Fourier transform of
its two-point correlation function. Two images are compared by the squared
difference of their spectra integrated over wavevectors, Eq. (7). This module
lays the spectrum out so that the *Euclidean* distance between two output rows
is exactly that distance, so any Euclidean tool (``sklearn.manifold.MDS``,
``pairwise_distances``, nearest neighbours) reproduces the paper's Eq. (7)
distance without a custom metric.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array

from sklearn_texture._base import TextureVectorizerBase
from sklearn_texture._images import (
    check_intensity_range,
    rescale_intensities,
    to_float_grey,
    type_range,
)

__all__ = ["PowerSpectrumVectorizer", "power_spectrum", "power_spectrum_feature_names"]

# Images are transformed in chunks of at most this many pixels so that the
# complex FFT buffer stays around 64 MiB whatever the batch size.
_CHUNK_PIXELS = 1 << 22


@dataclass(frozen=True)
class _SpectrumLayout:
    """Which half-plane wavevectors become which output features, with weights.

    ``flat_index`` indexes the flattened ``rfft2`` plane of shape
    ``(height, width // 2 + 1)``. Without radial averaging, feature ``j`` is
    ``weights[j] * S[flat_index[j]]``; with it, the features are
    ``S[flat_index] @ projection``.
    """

    flat_index: np.ndarray
    weights: np.ndarray | None
    projection: sparse.csr_matrix | None
    names: np.ndarray

    @property
    def n_features(self):
        return len(self.names)


def _resolve_window(window):
    if window is None:
        return None
    if isinstance(window, Integral):
        window = (window, window)
    if (
        len(window) != 2
        or not all(isinstance(w, Integral) for w in window)
        or min(window) < 0
    ):
        raise ValueError(
            "window must be None, a non-negative integer or a pair of non-negative "
            f"integers (half-widths in cycles per image along y and x); got {window!r}."
        )
    return int(window[0]), int(window[1])


def _spectrum_layout(height, width, window=None, radial=False):
    """Choose the stored wavevectors and their weights for ``(height, width)`` images.

    The real FFT stores columns ``qx = 0 .. width // 2``; the missing columns are
    the complex conjugates ``S(-q) = S(q)`` of stored ones. A stored point whose
    mirror ``-q`` is a *different* point of the full plane gets weight
    ``sqrt(2)``; points equal to their mirror (``q = 0`` and the Nyquist
    points) get weight 1. In the two columns that are their own mirror
    (``qx = 0`` and, for even widths, ``qx = width / 2``) only ``qy >= 0`` is
    kept, so no value of the full-plane spectrum is stored twice.
    """
    window = _resolve_window(window)
    rows = np.arange(height)
    cols = np.arange(width // 2 + 1)
    qy = np.where(rows <= height // 2, rows, rows - height)[:, np.newaxis]
    qx = cols[np.newaxis, :]
    qy, qx = np.broadcast_arrays(qy, qx)
    self_mirrored_column = (qx == 0) | (2 * qx == width)
    # How many full-plane wavevectors each stored rfft point stands for.
    multiplicity = np.where(self_mirrored_column, 1, 2)
    inside = np.ones(qy.shape, dtype=bool)
    if window is not None:
        inside = (np.abs(qy) <= window[0]) & (qx <= window[1])

    if radial:
        # |q| in cycles per min(height, width) pixels, so that square images
        # bin by the integer radius of the wavevector lattice.
        scale = min(height, width)
        radius = np.hypot(qy * scale / height, qx * scale / width)
        bins = np.rint(radius).astype(np.intp)
        flat_index = np.flatnonzero(inside)
        point_bins = bins.ravel()[flat_index]
        occupied, point_feature = np.unique(point_bins, return_inverse=True)
        point_multiplicity = multiplicity.ravel()[flat_index].astype(np.float64)
        bin_counts = np.bincount(point_feature, weights=point_multiplicity)
        # Feature = sqrt(n_b) * (mean of S over the n_b wavevectors of bin b).
        values = point_multiplicity / np.sqrt(bin_counts[point_feature])
        projection = sparse.csr_matrix(
            (values, (np.arange(len(flat_index)), point_feature)),
            shape=(len(flat_index), len(occupied)),
        )
        names = np.asarray([f"power_r{b}" for b in occupied], dtype=object)
        return _SpectrumLayout(flat_index, None, projection, names)

    # In a self-mirrored column, row qy and row -qy hold the same value: keep qy >= 0.
    keep = inside & ~(self_mirrored_column & (qy < 0))
    # Even heights put the Nyquist row at qy = height / 2, its own mirror.
    own_mirror = self_mirrored_column & ((qy == 0) | (2 * qy == height))
    weights = np.where(own_mirror, 1.0, np.sqrt(2.0))
    flat_index = np.flatnonzero(keep)
    kept_qy, kept_qx = qy.ravel()[flat_index], qx.ravel()[flat_index]
    names = np.asarray(
        [f"power_y{y}_x{x}" for y, x in zip(kept_qy, kept_qx, strict=True)], dtype=object
    )
    return _SpectrumLayout(flat_index, weights.ravel()[flat_index], None, names)


def _rescale_to_signed_unit_range(images, intensity_range=None):
    """Map each image linearly onto [-1, 1] (Sec. III B); a constant image maps to 0.

    ``intensity_range=None`` maps each image's own range (the paper); a fixed
    ``(low, high)`` maps that range for every image.
    """
    if intensity_range is None:
        low = images.min(axis=(1, 2), keepdims=True)
        high = images.max(axis=(1, 2), keepdims=True)
    else:
        low, high = intensity_range
    rescaled = rescale_intensities(images, low, high, dtype=images.dtype)
    rescaled *= 2
    rescaled -= 1
    return rescaled


def _power_spectrum(images, layout, intensity_range=None, progress=None):
    """Eq. (5–7) for a validated float ``(N, H, W)`` batch and a precomputed layout."""
    n_images, height, width = images.shape
    out = np.empty((n_images, layout.n_features), dtype=images.dtype)
    chunk = max(1, _CHUNK_PIXELS // (height * width))
    for start in range(0, n_images, chunk):
        field = _rescale_to_signed_unit_range(images[start : start + chunk], intensity_range)
        amplitude = np.fft.rfft2(field)
        # Eq. (6), normalised as a periodogram: S = |FFT|^2 / (H W).
        spectrum = (amplitude.real**2 + amplitude.imag**2) / (height * width)
        spectrum = spectrum.reshape(len(field), -1)[:, layout.flat_index]
        if layout.projection is not None:
            out[start : start + chunk] = layout.projection.T.dot(spectrum.T).T
        else:
            out[start : start + chunk] = spectrum * layout.weights
        if progress is not None:
            progress.update(len(field))
    return out


def power_spectrum(images, *, window=None, radial=False, intensity_range=None):
    r"""Power-spectrum texture vectors whose Euclidean distances are Eq. (7).

    Each image :math:`\phi` is rescaled linearly to the range [-1, 1] (a
    constant image, which has no range, maps to the zero image and hence to a
    zero spectrum), by its own range or by a fixed ``intensity_range``. Its
    power spectrum, Eq. (6), is computed with a real FFT and normalised as a
    periodogram,

    .. math:: S(\mathbf q) = |\mathrm{FFT}[\phi](\mathbf q)|^2 / (H W),

    which is the discrete Fourier transform of the per-pixel circular
    two-point correlation :math:`P_2(\Delta\mathbf r) / (H W)` of Eq. (5)
    (Wiener–Khinchin), so a stationary texture has the same spectrum scale at
    any image size. The wavevectors :math:`\mathbf q` are the
    :math:`H \times W` integer frequencies (cycles per image) of the FFT grid,
    each a cell of area one, so the discretised Eq. (7) is

    .. math:: d_{ij}^2 = \sum_{\mathbf q} [S_i(\mathbf q) - S_j(\mathbf q)]^2 .

    Because :math:`S(-\mathbf q) = S(\mathbf q)` for real images, only
    half the plane is stored: each kept wavevector whose mirror
    :math:`-\mathbf q` is a different grid point is multiplied by
    :math:`\sqrt 2`, so ``np.linalg.norm(X[i] - X[j])`` equals :math:`d_{ij}`
    exactly (up to rounding) and no value is stored twice.

    Parameters
    ----------
    images : array-like of shape (n_images, height, width)
        Real grey images.
    window : int, pair of int or None, default=None
        Keep only wavevectors with :math:`|q_y| \le` ``window[0]`` and
        :math:`|q_x| \le` ``window[1]`` (cycles per image; an int applies to
        both axes): the centred region around :math:`\mathbf q = 0` that the
        paper's Fig. 4 is "zoomed to". The distance is then Eq. (7)
        integrated over that window. ``None`` keeps the whole spectrum, as in
        the paper. A window wider than the Nyquist frequency keeps everything.
    radial : bool, default=False
        Replace the spectrum by its average over rings of equal
        :math:`|\mathbf q|` (rounded to integer cycles per ``min(height, width)``
        pixels), an isotropic variant. Ring ``b`` holding :math:`n_b`
        wavevectors is stored as :math:`\sqrt{n_b}` times its mean, so the
        Euclidean distance is Eq. (7) applied to the ring-averaged spectra
        (and never exceeds the full-spectrum distance).
    intensity_range : tuple of float or None, default=None
        ``None`` rescales each image by its own minimum and maximum (the paper);
        ``(low, high)`` maps that fixed range onto [-1, 1] for every image, so that
        contrast differences between images count.

    Returns
    -------
    features : ndarray of shape (n_images, n_features)
        float32 for float32 input, float64 otherwise. Names of the features
        (their wavevectors or rings) come from :func:`power_spectrum_feature_names`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.spectrum import power_spectrum
    >>> rng = np.random.default_rng(0)
    >>> images = rng.normal(size=(3, 8, 8))
    >>> features = power_spectrum(images)
    >>> features.shape
    (3, 34)
    >>> power_spectrum(np.ones((1, 8, 8))).max()  # a constant image has a zero spectrum
    np.float64(0.0)
    """
    images = check_array(
        images, dtype=(np.float64, np.float32), ensure_2d=False, allow_nd=True,
        ensure_all_finite=True, input_name="images",
    )
    if images.ndim != 3:
        raise ValueError(
            "power_spectrum expects grey images of shape (n_images, height, width); "
            f"got an array of shape {images.shape}."
        )
    if min(images.shape[1:]) < 1:
        raise ValueError(f"images must be at least 1x1 pixels; got shape {images.shape}.")
    layout = _spectrum_layout(images.shape[1], images.shape[2], window, radial)
    return _power_spectrum(images, layout, check_intensity_range(intensity_range))


def power_spectrum_feature_names(image_shape, *, window=None, radial=False):
    """Names of :func:`power_spectrum` features for images of ``image_shape``.

    ``"power_y{qy}_x{qx}"`` names the wavevector ``(qy, qx)`` in cycles per
    image (``qx >= 0``; its mirror ``(-qy, -qx)`` is folded into it);
    ``"power_r{b}"`` names ring ``b`` when ``radial=True``.

    Parameters
    ----------
    image_shape : pair of int
        ``(height, width)`` of the images.
    window : int, pair of int or None, default=None
        As in :func:`power_spectrum`.
    radial : bool, default=False
        As in :func:`power_spectrum`.

    Returns
    -------
    names : ndarray of str objects
        One name per feature, in the order of :func:`power_spectrum`'s columns.

    Examples
    --------
    >>> from sklearn_texture.spectrum import power_spectrum_feature_names
    >>> power_spectrum_feature_names((1, 4)).tolist()
    ['power_y0_x0', 'power_y0_x1', 'power_y0_x2']
    """
    height, width = image_shape
    return _spectrum_layout(height, width, window, radial).names.copy()


class PowerSpectrumVectorizer(TextureVectorizerBase):
    r"""Turn images into power-spectrum texture vectors (Eq. 5–7).

    A stateless transformer: :meth:`fit` only records the image shape and the
    output layout, and :meth:`transform` applies :func:`power_spectrum` to
    each image independently. Euclidean distances between output rows are the
    paper's Eq. (7) distances, so ``make_pipeline(PowerSpectrumVectorizer(),
    MDS(...))`` reproduces the paper's power-spectrum embeddings.

    Read more in :doc:`the user guide </user_guide>`.

    Parameters
    ----------
    image_shape : pair of int or None, default=None
        Shape ``(height, width)`` of each image when ``X`` is 2-D
        ``(n_images, height * width)``; one entry may be ``-1`` as in
        :func:`numpy.reshape`. Ignored for 3-D/4-D input.
    window : int, pair of int or None, default=None
        Keep only the centred window of wavevectors with
        :math:`|q_y| \le` ``window[0]``, :math:`|q_x| \le` ``window[1]``
        (cycles per image). ``None`` (the paper's choice) keeps all.
    radial : bool, default=False
        Average the spectrum over rings of equal :math:`|\mathbf q|` (isotropic
        variant); see :func:`power_spectrum`.
    intensity_range : tuple of float or None, default=None
        ``None`` rescales each image by its own range onto [-1, 1] (the paper,
        Sec. III B); ``(low, high)`` maps that fixed range for every float or
        signed-integer image, while 8- and 16-bit images are then read on their
        type's full range (0–255, 0–65535), as everywhere in the package.
    verbose : int, default=0
        Show a progress bar over images when positive.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width)`` of the images seen in :meth:`fit`; :meth:`transform`
        requires the same shape.
    n_features_out_ : int
        Number of output features.
    n_features_in_ : int
        Number of input columns; only set when fitted on 2-D input.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names; only set when fitted on a DataFrame with string
        column names.

    See Also
    --------
    GramTextureVectorizer : The paper's CNN texture vectors (Eq. 1–4).

    Notes
    -----
    Inputs are those of every texture vectorizer (see
    :class:`~sklearn_texture.GramTextureVectorizer`): ``(N, H, W)`` grey images
    of any real dtype, ``(N, H, W, C)`` images whose colour channels are averaged
    to grey (the spectrum is that of a scalar field; an alpha channel is dropped),
    flattened ``(N, H * W)`` rows with ``image_shape``, a list of images, or a
    dask array. All images must have one size: spectra of different sizes sample
    different wavevectors, so they are not comparable feature by feature. Every
    image is rescaled to [-1, 1] before its spectrum is taken, so with
    ``intensity_range=None`` the output does not change under affine intensity
    changes ``a * x + b`` (any ``a != 0``) nor under circular shifts. A constant
    image maps to the zero vector.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.spectrum import PowerSpectrumVectorizer
    >>> images = np.random.default_rng(0).random((5, 16, 16))
    >>> vectorizer = PowerSpectrumVectorizer(window=4).fit(images)
    >>> vectorizer.transform(images).shape
    (5, 41)
    >>> vectorizer.get_feature_names_out()[:3].tolist()
    ['power_y0_x0', 'power_y0_x1', 'power_y0_x2']
    """

    _parameter_constraints: dict = {
        "image_shape": [None, tuple, list],
        "window": [None, Interval(Integral, 0, None, closed="left"), tuple, list],
        "radial": ["boolean"],
        "intensity_range": [tuple, list, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, image_shape=None, window=None, radial=False, intensity_range=None,
                 verbose=0):
        self.image_shape = image_shape
        self.window = window
        self.radial = radial
        self.intensity_range = intensity_range
        self.verbose = verbose

    def _check_parameters(self):
        check_intensity_range(self.intensity_range)

    def _fit_images(self, images):
        self.image_shape_ = tuple(int(s) for s in images.shape[1:3])
        self._layout = _spectrum_layout(*self.image_shape_, self.window, self.radial)
        self.n_features_out_ = self._layout.n_features

    def _transform_images(self, images, progress):
        if images.shape[1:3] != self.image_shape_:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self.image_shape_[0]}x"
                f"{self.image_shape_[1]} images but transform got "
                f"{images.shape[1]}x{images.shape[2]} images; power spectra of different "
                "image sizes are not comparable feature by feature."
            )
        intensity_range = check_intensity_range(self.intensity_range)
        if intensity_range is not None:
            # The package's convention (as in the Gram vectorizer): 8- and 16-bit images
            # are read on their type's full range; a fixed range is for the other dtypes.
            intensity_range = type_range(images.dtype) or intensity_range
        grey = to_float_grey(images, dtype=self._output_dtype(images.dtype))
        return _power_spectrum(grey, self._layout, intensity_range, progress)

    def _output_dtype(self, input_dtype):
        return np.float32 if input_dtype == np.float32 else np.float64

    def _feature_names(self):
        return self._layout.names.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
