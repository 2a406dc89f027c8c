"""The shared vectorizer core: one intensity mapping, one input policy, dask, progress, state.

Properties over generated images: tiled equals untiled for every input the untiled path
accepts (dtypes, channel counts, large offsets); both vectorizers accept the same inputs
and report ``n_features_out_`` with matching feature names; dask blocks of any size, empty
ones included, give the numpy result.
"""

import io
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone

from sklearn_texture import GramTextureVectorizer, PowerSpectrumVectorizer, backbones
from sklearn_texture._images import intensity_bounds, rescale_intensities, unit_rgb

SHALLOW = ("conv1_1", "conv2_1")  # stride 2: tiles of a few pixels are exact


def shallow_gram(**params):
    return GramTextureVectorizer(
        **{"weights": "random", "random_state": 0, "layers": SHALLOW, **params}
    )


DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64, np.bool_]


@st.composite
def images(draw):
    """One image of any supported dtype and channel count, offsets included."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    height, width = draw(st.integers(6, 28)), draw(st.integers(6, 28))
    shape = (height, width) if channels is None else (height, width, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        low = draw(st.integers(int(info.min), int(info.max) - 1))
        high = draw(st.integers(low + 1, int(info.max)))
        return rng.integers(low, high, size=shape, endpoint=True).astype(dtype)
    offset = draw(st.sampled_from([0.0, 1e4, -3e6, 1e7]))
    scale = draw(st.sampled_from([1e-3, 1.0, 250.0]))
    return (offset + scale * rng.random(shape)).astype(dtype)


@given(image=images(), fixed_range=st.booleans())
def test_tiled_equals_untiled_for_every_accepted_image(image, fixed_range):
    """Issue 15 class 1: one intensity mapping, used by the tiled and the untiled path."""
    intensity_range = None
    if fixed_range and image.dtype.kind in "fi":
        low, high = float(image.min()), float(image.max())
        intensity_range = (low - 1.0, high + 1.0)
    whole = shallow_gram(intensity_range=intensity_range).fit_transform(image[None])
    tiled = shallow_gram(intensity_range=intensity_range, tile_size=4).fit_transform(image[None])
    scale = max(float(np.abs(whole).max()), 1e-30)
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=2e-5 * scale)


def test_rgba_tiles_ignore_alpha():
    """The adversarial case: alpha used to enter the tiled min/max (difference 1.86)."""
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 4))
    image[..., 3] = 40.0  # alpha far outside the colour range
    whole = shallow_gram().fit_transform(image[None])
    tiled = shallow_gram(tile_size=16).fit_transform(image[None])
    np.testing.assert_allclose(tiled, whole, rtol=2e-5, atol=1e-7 * np.abs(whole).max())
    np.testing.assert_allclose(whole, shallow_gram().fit_transform(image[None, ..., :3]))


def test_large_offsets_are_not_quantised():
    """Subtracting the offset happens in float64: a 1e7 offset keeps 1e-3 detail."""
    rng = np.random.default_rng(0)
    detail = rng.random((16, 16))
    unit = rescale_intensities(1e7 + detail * 1e-3, 1e7, 1e7 + 1e-3)
    np.testing.assert_allclose(unit, detail, atol=1e-6)
    assert rescale_intensities(np.ones(3), 1.0, 1.0).tolist() == [0.5, 0.5, 0.5]
    # Ranges near the float limits are halved first instead of overflowing.
    extreme = rescale_intensities(np.array([-1.7e308, 0.0, 1.7e308]), -1.7e308, 1.7e308)
    np.testing.assert_allclose(extreme, [0.0, 0.5, 1.0])


def test_intensity_bounds_follow_one_convention():
    assert intensity_bounds(np.zeros((2, 2, 1), np.uint8)) == (0.0, 255.0)
    assert intensity_bounds(np.zeros((2, 2, 1), np.uint16)) == (0.0, 65535.0)
    assert intensity_bounds(np.zeros((2, 2, 1))) is None  # uniform: no range
    rgba = np.zeros((2, 2, 4))
    rgba[0, 0, :3] = 2.0
    rgba[..., 3] = 9.0
    assert intensity_bounds(rgba) == (0.0, 2.0)
    assert intensity_bounds(rgba, (-1.0, 1.0)) == (-1.0, 1.0)
    assert unit_rgb(np.zeros((2, 2, 1)), None).tolist() == np.full((2, 2, 3), 0.5).tolist()


# ---------------------------------------------------------------- alike vectorizers

VECTORIZERS = {
    "gram": lambda **p: shallow_gram(**p),
    "spectrum": lambda **p: PowerSpectrumVectorizer(**p),
}
RNG = np.random.default_rng(3)
GREY = RNG.random((5, 16, 16))


@pytest.mark.parametrize("name", list(VECTORIZERS))
@pytest.mark.parametrize(
    "form",
    ["grey", "channel", "rgb", "rgba", "uint8", "uint16", "list", "flat"],
)
def test_both_vectorizers_accept_the_same_inputs(name, form):
    inputs = {
        "grey": GREY,
        "channel": GREY[..., None],
        "rgb": np.repeat(GREY[..., None], 3, axis=-1),
        "rgba": np.concatenate([np.repeat(GREY[..., None], 3, -1), np.ones((5, 16, 16, 1))], -1),
        "uint8": (GREY * 255).astype(np.uint8),
        "uint16": (GREY * 65535).astype(np.uint16),
        "list": list(GREY),
        "flat": GREY.reshape(5, -1),
    }
    params = {"image_shape": (16, 16)} if form == "flat" else {}
    vectorizer = VECTORIZERS[name](**params)
    vectors = vectorizer.fit_transform(inputs[form])
    assert vectors.shape == (5, vectorizer.n_features_out_)
    assert len(vectorizer.get_feature_names_out()) == vectorizer.n_features_out_
    assert np.isfinite(vectors).all()
    if form in ("channel", "rgb", "rgba", "list", "flat"):
        # Grey as a channel, as RGB, with alpha, as a list or flattened: the same textures.
        reference = VECTORIZERS[name]().fit_transform(GREY)
        np.testing.assert_allclose(vectors, reference, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", list(VECTORIZERS))
def test_both_vectorizers_set_pandas_output(name):
    pandas = pytest.importorskip("pandas")
    vectorizer = VECTORIZERS[name]().set_output(transform="pandas")
    frame = vectorizer.fit_transform(GREY)
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(vectorizer.get_feature_names_out())


def test_mixed_sizes_gram_accepts_spectrum_refuses_with_reason():
    mixed = [GREY[0], RNG.random((20, 24))]
    assert shallow_gram().fit_transform(mixed).shape[0] == 2
    with pytest.raises(ValueError, match="same shape"):
        PowerSpectrumVectorizer().fit(mixed)


def test_a_list_of_mixed_dtypes_keeps_each_images_convention():
    """A uint8 image beside a uint16 one is still read on the 0-255 scale."""
    eight = (GREY[0] * 255).astype(np.uint8)
    sixteen = (GREY[1] * 65535).astype(np.uint16)
    together = shallow_gram().fit_transform([eight, sixteen])
    np.testing.assert_allclose(together[0], shallow_gram().fit_transform(eight[None])[0],
                               rtol=1e-5, atol=1e-7 * np.abs(together).max())
    np.testing.assert_allclose(together[1], shallow_gram().fit_transform(sixteen[None])[0],
                               rtol=1e-5, atol=1e-7 * np.abs(together).max())


@pytest.mark.parametrize("cls", [GramTextureVectorizer, PowerSpectrumVectorizer])
def test_parameters_are_keyword_only(cls):
    with pytest.raises(TypeError, match="positional"):
        cls((16, 16))


def test_spectrum_intensity_range_fixes_contrast():
    low_contrast = 0.5 + 0.1 * (GREY[0] - 0.5)
    own_range = PowerSpectrumVectorizer().fit_transform(np.stack([GREY[0], low_contrast]))
    np.testing.assert_allclose(own_range[0], own_range[1], rtol=1e-6, atol=1e-9)
    fixed = PowerSpectrumVectorizer(intensity_range=(0, 1)).fit_transform(
        np.stack([GREY[0], low_contrast])
    )
    # A tenth of the contrast is a hundredth of the power away from q = 0.
    ratio = fixed[1, 1:] / np.where(fixed[0, 1:] == 0, 1, fixed[0, 1:])
    np.testing.assert_allclose(ratio[fixed[0, 1:] > 1e-6], 0.01, rtol=1e-6)


# ---------------------------------------------------------------- dask

@pytest.mark.parametrize("name", list(VECTORIZERS))
@given(sizes=st.lists(st.integers(0, 3), min_size=1, max_size=5))
def test_dask_blocks_of_any_size_match_numpy(name, sizes):
    """Issue 15 class 6: blocks of random sizes, empty ones included."""
    da = pytest.importorskip("dask.array")
    n_images = sum(sizes)
    images = np.random.default_rng(n_images).random((max(n_images, 1), 16, 16))[:n_images]
    vectorizer = VECTORIZERS[name]().fit(GREY)
    lazy = vectorizer.transform(da.from_array(images, chunks=(tuple(sizes), 16, 16)))
    computed = lazy.compute(scheduler="synchronous")
    assert computed.shape == (n_images, vectorizer.n_features_out_)
    if n_images:
        # Blocks batch differently from one call: float32 sums agree to rounding.
        expected = vectorizer.transform(images)
        np.testing.assert_allclose(computed, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_dask_masked_array_with_empty_block():
    da = pytest.importorskip("dask.array")
    images = da.from_array(GREY, chunks=(2, 16, 16))
    keep = da.from_array(np.array([True, True, False, False, True]), chunks=2)
    masked = images[keep]
    masked.compute_chunk_sizes()
    assert 0 in masked.chunks[0]
    vectorizer = shallow_gram().fit(GREY)
    result = vectorizer.transform(masked).compute(scheduler="synchronous")
    expected = vectorizer.transform(GREY[[0, 1, 4]])
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


# ---------------------------------------------------------------- state and parameters

def test_verbose_shows_a_progress_bar(capsys):
    shallow_gram(verbose=1).fit_transform(GREY)
    assert "5/5" in capsys.readouterr().err
    shallow_gram(verbose=0).fit_transform(GREY)
    assert capsys.readouterr().err == ""


def test_fit_loads_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fit loaded a network")

    monkeypatch.setattr("sklearn_texture.gram.load_backbone", refuse)
    fitted = GramTextureVectorizer(weights="vgg19_normalized").fit(GREY)
    assert fitted.n_features_out_ == 305888
    assert list(fitted.layer_sizes_) == ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]


def test_a_single_layer_name_is_one_layer():
    vectorizer = shallow_gram(layers="conv2_1").fit(GREY)
    assert vectorizer.layer_sizes_ == {"conv2_1": 128 * 129 // 2}


def test_cuda_fitted_vectorizer_clones_and_refits_on_cpu(monkeypatch):
    vectorizer = shallow_gram().fit(GREY)
    state = vectorizer.__getstate__()
    state.update(device="cuda", device_="cuda")
    payload = pickle.dumps(state)
    restored = GramTextureVectorizer.__new__(GramTextureVectorizer)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on CUDA"):
        restored.__setstate__(pickle.load(io.BytesIO(payload)))
    assert restored.device == "cpu" and str(restored.device_) == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refitted = clone(restored).fit(GREY)
    np.testing.assert_array_equal(refitted.transform(GREY), vectorizer.transform(GREY))


def test_clear_cache_drops_networks():
    shallow_gram().fit_transform(GREY)
    backbones.clear_cache()
    # Rebuilt from the seed after clearing: the same vectors.
    first = shallow_gram().fit_transform(GREY)
    backbones.clear_cache()
    np.testing.assert_array_equal(shallow_gram().fit_transform(GREY), first)


# ---------------------------------------------------------------- found in review

def test_big_endian_16_bit_images_are_read_on_the_16_bit_scale():
    sixteen = (30000 + 1000 * GREY).astype(np.uint16)
    native = shallow_gram().fit_transform(sixteen)
    swapped = shallow_gram().fit_transform(sixteen.astype(">u2"))
    np.testing.assert_array_equal(swapped, native)


def test_a_failed_fit_leaves_an_unfitted_estimator():
    from sklearn.exceptions import NotFittedError

    vectorizer = shallow_gram(layers=("conv1_1",)).fit(GREY)
    vectorizer.set_params(layers=("conv1_1", "conv2_1"))
    with pytest.raises(ValueError, match="NaN"):
        vectorizer.fit(np.full((2, 16, 16), np.nan))
    with pytest.raises(NotFittedError):
        vectorizer.transform(GREY)


def test_refit_on_a_list_forgets_flat_input_bookkeeping():
    vectorizer = shallow_gram(image_shape=(16, 16)).fit(GREY.reshape(5, -1))
    assert vectorizer.n_features_in_ == 256
    vectorizer.fit([GREY[0], RNG.random((24, 24))])
    assert not hasattr(vectorizer, "n_features_in_")


def test_spectrum_reads_8_bit_on_its_type_range_with_a_fixed_range():
    eight = (GREY * 255).astype(np.uint8)
    fixed = PowerSpectrumVectorizer(intensity_range=(0, 1))
    np.testing.assert_allclose(fixed.fit_transform(eight),
                               fixed.fit_transform(eight / 255.0), rtol=1e-6, atol=1e-9)
