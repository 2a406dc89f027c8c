"""Power-spectrum texture vectors: Eq. (5–7) exactness, invariances, options, input handling."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import pdist

from sklearn_texture.spectrum import (
    PowerSpectrumVectorizer,
    power_spectrum,
    power_spectrum_feature_names,
)

# Outputs are O(1)–O(H W) sums of squares of O(1) numbers; rounding stays far below this.
RTOL = 1e-9


@st.composite
def image_batches(draw, min_side=1, max_side=12, max_images=4):
    """A few images of one random shape, from one of several pixel distributions."""
    height = draw(st.integers(min_side, max_side))
    width = draw(st.integers(min_side, max_side))
    n_images = draw(st.integers(2, max_images))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["normal", "uniform", "binary", "lognormal"]))
    rng = np.random.default_rng(seed)
    shape = (n_images, height, width)
    if kind == "normal":
        return rng.normal(size=shape)
    if kind == "uniform":
        return rng.uniform(-5, 3, size=shape)
    if kind == "binary":
        return rng.integers(0, 2, size=shape).astype(float)
    return rng.lognormal(sigma=2, size=shape)


def _full_plane_spectra(images):
    """Eq. (6) on the full FFT plane, written independently of the package."""
    images = np.asarray(images, dtype=float)
    low = images.min(axis=(1, 2), keepdims=True)
    high = images.max(axis=(1, 2), keepdims=True)
    rescaled = np.zeros_like(images)
    varying = (high > low)[:, 0, 0]
    rescaled[varying] = (
        2 * (images[varying] - low[varying]) / (high[varying] - low[varying]) - 1
    )
    height, width = images.shape[1:]
    return np.abs(np.fft.fft2(rescaled)) ** 2 / (height * width)


def _squared_eq7(spectra, mask=None):
    """Discretised Eq. (7): sum over wavevectors of squared spectrum differences."""
    n = len(spectra)
    mask = np.ones(spectra.shape[1:], dtype=bool) if mask is None else mask
    return np.array(
        [
            [((spectra[i] - spectra[j])[mask] ** 2).sum() for j in range(n)]
            for i in range(n)
        ]
    )


def _frequencies(height, width):
    """Signed integer wavevector components (cycles per image) of the full FFT grid."""
    qy = np.rint(np.fft.fftfreq(height) * height).astype(int)
    qx = np.rint(np.fft.fftfreq(width) * width).astype(int)
    return np.meshgrid(qy, qx, indexing="ij")


def _squared_feature_distances(features):
    diff = features[:, np.newaxis, :] - features[np.newaxis, :, :]
    return (diff**2).sum(axis=-1)


@given(image_batches())
def test_euclidean_distance_is_eq7_on_the_full_fft_plane(images):
    features = power_spectrum(images)
    expected = _squared_eq7(_full_plane_spectra(images))
    # Rounding in a difference scales with the spectra themselves, not with the distance:
    # two images whose spectra agree exactly (a circular shift of a sign flip) have d = 0
    # and a computed d^2 of ~1e-31, so the absolute tolerance is relative to ||S||^2.
    scale = max(float(expected.max()), float((features**2).sum(axis=1).max()))
    np.testing.assert_allclose(
        _squared_feature_distances(features), expected, rtol=RTOL, atol=RTOL * scale
    )
    # The norm of a row is the distance to a constant (zero-spectrum) image.
    spectra = _full_plane_spectra(images)
    np.testing.assert_allclose(
        (features**2).sum(axis=1), (spectra**2).sum(axis=(1, 2)), rtol=RTOL
    )


@given(st.integers(1, 40), st.integers(1, 40))
def test_nothing_is_stored_twice(height, width):
    # Distinct values of a real image's spectrum: pairs {q, -q} plus self-mirrored points.
    self_mirrored = (1 + (height % 2 == 0)) * (1 + (width % 2 == 0))
    n_distinct = (height * width + self_mirrored) // 2
    names = power_spectrum_feature_names((height, width))
    assert len(names) == n_distinct
    assert len(set(names)) == n_distinct
    rng = np.random.default_rng(height * 100 + width)
    assert power_spectrum(rng.normal(size=(1, height, width))).shape == (1, n_distinct)


@given(image_batches(), st.integers(0, 12), st.integers(0, 12))
def test_window_distance_is_eq7_restricted_to_the_window(images, window_y, window_x):
    height, width = images.shape[1:]
    qy, qx = _frequencies(height, width)
    # Even sizes put the Nyquist frequency at -n/2 in fftfreq; |q| is what the window sees.
    mask = (np.abs(qy) <= window_y) & (np.abs(qx) <= window_x)
    features = power_spectrum(images, window=(window_y, window_x))
    expected = _squared_eq7(_full_plane_spectra(images), mask)
    np.testing.assert_allclose(
        _squared_feature_distances(features), expected, rtol=RTOL,
        atol=RTOL * max(expected.max(), 1),
    )


def test_window_wider_than_nyquist_keeps_everything_and_zero_keeps_the_mean():
    images = np.random.default_rng(0).normal(size=(3, 9, 10))
    np.testing.assert_array_equal(power_spectrum(images, window=50), power_spectrum(images))
    dc = power_spectrum(images, window=0)
    assert dc.shape == (3, 1)
    spectra = _full_plane_spectra(images)
    np.testing.assert_allclose(dc[:, 0], spectra[:, 0, 0], rtol=RTOL)


@given(image_batches(min_side=2))
def test_radial_distance_is_eq7_of_ring_averaged_spectra(images):
    height, width = images.shape[1:]
    qy, qx = _frequencies(height, width)
    scale = min(height, width)
    rings = np.rint(np.hypot(qy * scale / height, qx * scale / width)).astype(int)
    spectra = _full_plane_spectra(images)
    averaged = np.empty_like(spectra)
    for ring in np.unique(rings):
        in_ring = rings == ring
        averaged[:, in_ring] = spectra[:, in_ring].mean(axis=1, keepdims=True)
    features = power_spectrum(images, radial=True)
    assert features.shape[1] == len(np.unique(rings))
    radial = _squared_feature_distances(features)
    np.testing.assert_allclose(
        radial, _squared_eq7(averaged), rtol=RTOL, atol=RTOL * max(radial.max(), 1)
    )
    # Averaging is an orthogonal projection: it never increases a distance.
    full = _squared_feature_distances(power_spectrum(images))
    assert np.all(radial <= full * (1 + RTOL) + RTOL)


@given(image_batches(min_side=2))
def test_radial_spectrum_of_square_images_is_invariant_to_quarter_turns(images):
    side = min(images.shape[1:])
    square = images[:, :side, :side]
    features = power_spectrum(square, radial=True)
    for turned in (np.rot90(square, axes=(1, 2)), np.transpose(square, (0, 2, 1))):
        np.testing.assert_allclose(
            power_spectrum(turned, radial=True), features, rtol=RTOL, atol=RTOL
        )


@given(image_batches(), st.integers(-50, 50), st.integers(-50, 50))
def test_circular_shift_invariance(images, shift_y, shift_x):
    shifted = np.roll(images, (shift_y, shift_x), axis=(1, 2))
    for options in ({}, {"window": 3}, {"radial": True}):
        np.testing.assert_allclose(
            power_spectrum(shifted, **options), power_spectrum(images, **options),
            rtol=RTOL, atol=RTOL,
        )


@given(
    image_batches(),
    st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3),
    st.floats(-1e3, 1e3),
)
def test_affine_contrast_invariance(images, gain, offset):
    # Rescaling to [-1, 1] removes a*x + b; a < 0 flips the sign, which |FFT|^2 ignores.
    np.testing.assert_allclose(
        power_spectrum(gain * images + offset), power_spectrum(images), rtol=1e-6, atol=1e-6
    )


def test_cosine_stripes_peak_at_their_wavevector():
    height, width = 24, 32
    y, x = np.mgrid[:height, :width]
    stripes = np.cos(2 * np.pi * (2 * y / height + 3 * x / width))[np.newaxis]
    vectorizer = PowerSpectrumVectorizer().fit(stripes)
    features = vectorizer.transform(stripes)[0]
    names = vectorizer.get_feature_names_out()
    assert names[np.argmax(features)] == "power_y2_x3"
    # The whole power sits in the mirrored pair (2, 3) and (-2, -3): sqrt(2) * S.
    # Rescaled stripes have sum(phi^2) = H W / 2, split between the two modes.
    assert features.max() == pytest.approx(np.sqrt(2) * height * width / 4)
    assert np.sort(features)[-2] == pytest.approx(0, abs=1e-9)


def test_constant_image_maps_to_zero_and_stays_finite():
    images = np.stack([np.full((8, 8), 7.0), np.zeros((8, 8))])
    for options in ({}, {"window": 2}, {"radial": True}):
        out = PowerSpectrumVectorizer(**options).fit_transform(images)
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out, 0)


def test_input_layouts_agree():
    rng = np.random.default_rng(1)
    grey = rng.random((4, 6, 10))
    expected = PowerSpectrumVectorizer().fit_transform(grey)
    flat = grey.reshape(4, -1)
    for image_shape in [(6, 10), (-1, 10), (6, -1), [6, 10]]:
        np.testing.assert_allclose(
            PowerSpectrumVectorizer(image_shape=image_shape).fit_transform(flat), expected
        )
    rgb = np.repeat(grey[..., np.newaxis], 3, axis=-1)
    rgba = np.concatenate([rgb, rng.random((4, 6, 10, 1))], axis=-1)
    for colour in (rgb, rgba):
        np.testing.assert_allclose(PowerSpectrumVectorizer().fit_transform(colour), expected)


def test_channels_are_averaged_before_the_spectrum():
    rng = np.random.default_rng(2)
    rgb = rng.random((3, 8, 8, 3))
    np.testing.assert_allclose(
        PowerSpectrumVectorizer().fit_transform(rgb), power_spectrum(rgb.mean(axis=-1))
    )


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.uint8, np.float64),
        (np.int64, np.float64),
        (bool, np.float32),  # validate_images turns boolean images into float32 0/1
    ],
)
def test_output_dtype(dtype, expected):
    images = (np.random.default_rng(3).random((3, 8, 8)) * 200).astype(dtype)
    out = PowerSpectrumVectorizer(window=3).fit_transform(images)
    assert out.dtype == expected
    assert out.shape == (3, len(power_spectrum_feature_names((8, 8), window=3)))
    np.testing.assert_allclose(
        out, power_spectrum(images.astype(np.float64), window=3), rtol=1e-4, atol=1e-4
    )


def test_fitted_attributes_and_feature_names():
    images = np.random.default_rng(4).random((2, 6, 7))
    vectorizer = PowerSpectrumVectorizer(radial=True).fit(images)
    assert vectorizer.image_shape_ == (6, 7)
    names = vectorizer.get_feature_names_out()
    assert vectorizer.n_features_out_ == len(names) == vectorizer.transform(images).shape[1]
    assert names.dtype == object
    assert all(name.startswith("power_r") for name in names)
    assert not hasattr(vectorizer, "n_features_in_")  # only 2-D input has input columns
    flat = PowerSpectrumVectorizer(image_shape=(6, 7)).fit(images.reshape(2, -1))
    assert flat.n_features_in_ == 42


def test_pandas_output():
    pd = pytest.importorskip("pandas")
    images = np.random.default_rng(5).random((3, 8, 8))
    vectorizer = PowerSpectrumVectorizer(window=2).set_output(transform="pandas")
    frame = vectorizer.fit_transform(images)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(vectorizer.get_feature_names_out())
    np.testing.assert_allclose(frame.to_numpy(), power_spectrum(images, window=2))
    # A DataFrame of flattened images in, a DataFrame out.
    flat = pd.DataFrame(images.reshape(3, -1), columns=[f"p{i}" for i in range(64)])
    out = PowerSpectrumVectorizer(image_shape=(8, 8)).set_output(transform="pandas")
    assert out.fit_transform(flat).shape == (3, 34)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.full((2, 4, 4), np.nan), "NaN"),
        (np.array([[[0.0, np.inf], [1.0, 2.0]]]), "infinity"),
        (np.zeros(16), "Reshape your data"),
        (np.zeros((1, 2, 4, 4, 1)), "5 dimension"),
        (np.zeros((0, 4, 4)), "0 sample"),
        (np.array([[["a", "b"], ["c", "d"]]]), "numeric"),
        (np.zeros((1, 4, 4), dtype=complex), "real numeric"),
        (np.zeros((2, 16)), "image_shape"),
        (np.zeros((1, 4, 4, 2)), "channels"),
    ],
)
def test_bad_input_names_the_problem(images, message):
    with pytest.raises(ValueError, match=message):
        PowerSpectrumVectorizer().fit(images)


def test_transform_rejects_a_different_image_shape():
    vectorizer = PowerSpectrumVectorizer().fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="fitted on 8x8 images but transform got 8x6"):
        vectorizer.transform(np.zeros((2, 8, 6)))
    flat = PowerSpectrumVectorizer(image_shape=(1, -1)).fit(np.zeros((2, 8)))
    with pytest.raises(ValueError, match="8 features"):
        flat.transform(np.zeros((2, 6)))


def test_images_of_different_sizes_in_one_call_are_rejected():
    with pytest.raises(ValueError):
        PowerSpectrumVectorizer().fit([np.zeros((4, 4)), np.zeros((5, 5))])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"image_shape": (3, 3, 3)}, "pair of integers"),
        ({"image_shape": (-1, -1)}, "-1 at most once"),
        ({"image_shape": (3, 5)}, "does not match"),
        ({"window": (1, -2)}, "non-negative"),
        ({"window": (1, 2, 3)}, "pair"),
    ],
)
def test_bad_parameters_name_the_problem(params, message):
    with pytest.raises(ValueError, match=message):
        PowerSpectrumVectorizer(**params).fit(np.zeros((2, 16)) if "image_shape" in params
                                              else np.zeros((2, 4, 4)))


def test_distances_between_rows_are_what_mds_sees():
    images = np.random.default_rng(6).random((5, 12, 12))
    features = PowerSpectrumVectorizer().fit_transform(images)
    expected = _squared_eq7(_full_plane_spectra(images))
    np.testing.assert_allclose(
        pdist(features) ** 2, expected[np.triu_indices(5, k=1)], rtol=RTOL
    )


def test_chunked_batches_match_image_by_image(monkeypatch):
    import sklearn_texture.spectrum as spectrum_module

    images = np.random.default_rng(7).normal(size=(7, 10, 12))
    expected = np.concatenate([power_spectrum(image[np.newaxis]) for image in images])
    # Force chunks of 2 images (and a ragged last chunk).
    monkeypatch.setattr(spectrum_module, "_CHUNK_PIXELS", 2 * 10 * 12)
    for options in ({}, {"radial": True}):
        chunked = power_spectrum(images, **options)
        single = np.concatenate(
            [power_spectrum(image[np.newaxis], **options) for image in images]
        )
        np.testing.assert_allclose(chunked, single, rtol=1e-12)
    np.testing.assert_allclose(power_spectrum(images), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((4, 4)), "expects grey images of shape"),
        (np.zeros((2, 4, 4, 3)), "expects grey images of shape"),
        (np.full((1, 4, 4), np.nan), "NaN"),
    ],
)
def test_power_spectrum_function_rejects_bad_input(images, message):
    with pytest.raises(ValueError, match=message):
        power_spectrum(images)
