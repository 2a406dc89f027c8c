"""GramTextureVectorizer: Eq. 1–4 on the real normalised VGG-19, packing, preprocessing."""

import pickle
import warnings

import numpy as np
import pytest
import torch
import torchvision
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.metrics import pairwise_distances

from sklearn_texture import GramTextureVectorizer
from sklearn_texture.backbones import fetch_normalized_vgg19
from sklearn_texture.gram import PAPER_LAYERS, pack_gram

# torchvision's indices of the ReLUs after conv1_1 ... conv5_1.
RELU_INDEX = {"conv1_1": 1, "conv2_1": 6, "conv3_1": 11, "conv4_1": 20, "conv5_1": 29}


@pytest.fixture(scope="module")
def reference_vgg19():
    """An independent float64 reference: torchvision's own VGG-19 with average pooling."""
    from safetensors.torch import load_file

    model = torchvision.models.vgg19(weights=None).features
    for index, module in enumerate(model):
        if isinstance(module, torch.nn.MaxPool2d):
            model[index] = torch.nn.AvgPool2d(2, 2)
    state = load_file(str(fetch_normalized_vgg19()))
    model.load_state_dict({k.removeprefix("features."): v for k, v in state.items()})
    return model.double().eval()


def reference_distances(model, images, layers=PAPER_LAYERS, layer_weights=None):
    """Eq. 4 computed directly from full Gram matrices in float64."""
    weights = layer_weights or [1.0] * len(layers)
    unit = [(im - im.min()) / (im.max() - im.min()) for im in images]
    rgb = torch.tensor(np.stack(unit), dtype=torch.float64)[:, None].repeat(1, 3, 1, 1)
    bgr_mean = torch.tensor([103.939, 116.779, 123.68], dtype=torch.float64).view(1, 3, 1, 1)
    x = rgb.flip(1) * 255.0 - bgr_mean
    grams = {}
    with torch.no_grad():
        for index, module in enumerate(model):
            x = module(x)
            for name, relu in RELU_INDEX.items():
                if relu == index and name in layers:
                    f = x.flatten(2)
                    grams[name] = (f @ f.transpose(1, 2), f.shape[1], f.shape[2])
            if index >= max(RELU_INDEX[n] for n in layers):
                break
    n = len(images)
    d2 = np.zeros((n, n))
    for name, w in zip(layers, weights, strict=True):
        g, n_l, m_l = grams[name]
        diff = g[:, None] - g[None, :]
        d2 += w * (diff**2).sum(dim=(-1, -2)).numpy() / (4.0 * n_l**2 * m_l**2)
    return np.sqrt(d2)


@pytest.fixture(scope="module")
def stripes():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    images = []
    for angle in np.linspace(0, np.pi, 5, endpoint=False):
        phase = 2 * np.pi * 4 * (xx * np.cos(angle) + yy * np.sin(angle))
        images.append(np.cos(phase + 0.3 * rng.standard_normal((32, 32))))
    return np.stack(images)


def test_eq4_exact_on_normalized_vgg19(reference_vgg19, stripes):
    """Row distances equal Eq. 4 from full Gram matrices (float32 vs float64: rtol 1e-4)."""
    vectors = GramTextureVectorizer().fit_transform(stripes)
    assert vectors.dtype == np.float32 and vectors.shape == (5, 305888)
    expected = reference_distances(reference_vgg19, stripes)
    got = pairwise_distances(vectors.astype(np.float64))
    assert expected[np.triu_indices(5, 1)].min() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * expected.max())


def test_eq3_layer_weights(reference_vgg19, stripes):
    layers, weights = ("conv2_1", "conv4_1"), [0.25, 3.0]
    vectors = GramTextureVectorizer(layers=layers, layer_weights=weights).fit_transform(stripes)
    expected = reference_distances(reference_vgg19, stripes, layers, weights)
    np.testing.assert_allclose(pairwise_distances(vectors.astype(np.float64)), expected,
                               rtol=1e-4, atol=1e-6 * expected.max())


def test_layer_weights_follow_layers_order(stripes):
    ordered = GramTextureVectorizer(layers=("conv1_1", "conv2_1"), layer_weights=[1.0, 4.0])
    swapped = GramTextureVectorizer(layers=("conv2_1", "conv1_1"), layer_weights=[4.0, 1.0])
    np.testing.assert_array_equal(ordered.fit_transform(stripes), swapped.fit_transform(stripes))


@given(arrays(np.float64, (2, 6, 6), elements=st.floats(-10, 10)),
       st.floats(0.01, 100))
def test_packing_preserves_frobenius_distance(matrices, scale):
    symmetric = torch.tensor(matrices + matrices.transpose(0, 2, 1))
    packed = pack_gram(symmetric.clone(), scale)
    assert packed.shape == (2, 21)
    distance = torch.linalg.vector_norm(packed[0] - packed[1])
    frobenius = scale * torch.linalg.matrix_norm(symmetric[0] - symmetric[1])
    torch.testing.assert_close(distance, frobenius, rtol=1e-10, atol=1e-9)


small_images = arrays(np.float32, st.tuples(st.integers(2, 3), st.integers(16, 20),
                                            st.integers(16, 20)),
                      elements=st.floats(0, 1, width=32))


@given(small_images)
def test_random_net_distances_match_direct_gram(images):
    """Hypothesis: on a seeded random VGG-19, rows reproduce the direct Eq. 4 distances."""
    vectorizer = GramTextureVectorizer(weights="random", random_state=3,
                                       layers=("conv1_1", "conv3_1"), intensity_range=(0, 1))
    vectors = vectorizer.fit_transform(images).astype(np.float64)
    network = vectorizer.get_network()
    x = network.input_convention.apply(torch.from_numpy(images)[:, None].repeat(1, 3, 1, 1))
    d2 = np.zeros((len(images), len(images)))
    with torch.no_grad():
        for activations in network(x):
            f = activations.double().flatten(2)
            g = (f @ f.transpose(1, 2)).numpy()
            d2 += ((g[:, None] - g[None]) ** 2).sum((-1, -2)) / (4 * f.shape[1] ** 2 *
                                                                  f.shape[2] ** 2)
    got = pairwise_distances(vectors)
    # float32 rows: a difference of two rows carries ~1e-7 of the rows' norm as rounding
    scale = np.linalg.norm(vectors, axis=1).max()
    np.testing.assert_allclose(got, np.sqrt(d2), rtol=2e-4, atol=1e-6 * scale)
    np.testing.assert_array_equal(np.diag(got), 0)


def test_vectors_do_not_depend_on_batch(stripes):
    whole = GramTextureVectorizer(weights="random", random_state=0).fit_transform(stripes)
    one_by_one = GramTextureVectorizer(weights="random", random_state=0, batch_size=1)
    np.testing.assert_allclose(one_by_one.fit_transform(stripes), whole, rtol=1e-5, atol=1e-9)
    # identical images get identical rows wherever they sit in the batch
    repeated = np.stack([stripes[0], stripes[1], stripes[0]])
    rows = GramTextureVectorizer(weights="random", random_state=0).fit_transform(repeated)
    np.testing.assert_array_equal(rows[0], rows[2])


def test_preprocessing_conventions(stripes):
    vectorizer = GramTextureVectorizer(layers=("conv1_1", "conv2_1"))
    reference = vectorizer.fit_transform(stripes)
    # per-image min-max scaling: affine intensity changes do not matter
    np.testing.assert_allclose(vectorizer.transform(3.0 * stripes - 7.0), reference, rtol=1e-5)
    # grey replicated == RGB with equal channels
    rgb = np.repeat(stripes[..., None], 3, axis=-1)
    np.testing.assert_allclose(vectorizer.transform(rgb), reference, rtol=1e-6)
    # uint8 read as 0-255 == float in [0, 1] with a fixed range
    unit = (stripes - stripes.min()) / (stripes.max() - stripes.min())
    as_uint8 = np.round(unit * 255).astype(np.uint8)
    fixed = clone(vectorizer).set_params(intensity_range=(0.0, 1.0)).fit(stripes)
    np.testing.assert_allclose(vectorizer.transform(as_uint8),
                               fixed.transform(as_uint8.astype(np.float64) / 255.0), rtol=1e-5)
    # a fixed range differs from per-image scaling when images do not span it
    assert not np.allclose(fixed.transform(0.5 * unit), vectorizer.transform(0.5 * unit))
    # colour matters for RGB input
    tinted = rgb.copy()
    tinted[..., 0] *= 0.5
    assert not np.allclose(vectorizer.transform(tinted), reference)


def test_uniform_image_is_finite():
    vectors = GramTextureVectorizer().fit_transform(np.full((2, 16, 16), 0.3))
    assert np.isfinite(vectors).all()
    np.testing.assert_array_equal(vectors[0], vectors[1])


def test_images_of_different_sizes(stripes):
    vectorizer = GramTextureVectorizer(weights="random", random_state=0).fit(stripes)
    small = stripes[1, :20, :24]
    mixed = vectorizer.transform([stripes[0], small, stripes[2]])
    np.testing.assert_allclose(mixed[1], vectorizer.transform(small[None])[0], rtol=1e-6)
    np.testing.assert_allclose(mixed[[0, 2]], vectorizer.transform(stripes[[0, 2]]), rtol=1e-6)


def test_too_small_for_the_deepest_layer():
    with pytest.raises(ValueError, match=r"at least 16x16 pixels to reach conv5_1; got 8x12"):
        GramTextureVectorizer(weights="random").fit(np.zeros((2, 8, 12)))
    # conv3_1 sits behind two poolings: 4 pixels suffice
    vectors = GramTextureVectorizer(layers=("conv3_1",), weights="random").fit_transform(
        np.random.default_rng(0).random((2, 4, 4)))
    assert vectors.shape == (2, 256 * 257 // 2)


def test_network_is_truncated_after_deepest_layer():
    vectorizer = GramTextureVectorizer(layers=("conv2_1",), weights="random").fit(
        np.zeros((1, 8, 8)))
    network = vectorizer.get_network()
    assert isinstance(network.features[-1], torch.nn.ReLU)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in network.features) == 3
    assert all(not isinstance(m, torch.nn.MaxPool2d) for m in network.features)
    assert not network.training


def test_random_weights_are_seeded(stripes):
    def vectors(seed):
        return GramTextureVectorizer(weights="random", random_state=seed,
                                     layers=("conv1_1",)).fit_transform(stripes)
    np.testing.assert_array_equal(vectors(1), vectors(1))
    assert not np.allclose(vectors(1), vectors(2))


def test_feature_names(stripes):
    vectorizer = GramTextureVectorizer(layers=("conv2_1", "conv1_1"), weights="random").fit(
        stripes)
    names = vectorizer.get_feature_names_out()
    assert len(names) == vectorizer.transform(stripes).shape[1] == 2080 + 8256
    assert names[0] == "conv1_1_0_0" and names[1] == "conv1_1_0_1"
    assert names[2080] == "conv2_1_0_0" and names[-1] == "conv2_1_127_127"
    assert len(set(names)) == len(names)


def test_pandas_output(stripes):
    pd = pytest.importorskip("pandas")
    vectorizer = GramTextureVectorizer(layers=("conv1_1",), weights="random").set_output(
        transform="pandas")
    frame = vectorizer.fit_transform(stripes)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (5, 2080)
    assert frame.columns[5] == "conv1_1_0_5"


def test_clone_and_params_hold_no_modules():
    vectorizer = GramTextureVectorizer(weights="random").fit(np.zeros((1, 16, 16)))
    params = vectorizer.get_params()
    assert not any(isinstance(v, torch.nn.Module) for v in params.values())
    assert not any(isinstance(v, torch.nn.Module) for v in vars(vectorizer).values())
    assert clone(vectorizer).get_params() == params


def test_pickle_round_trip_and_cuda_pickle_loads_on_cpu(stripes):
    vectorizer = GramTextureVectorizer(weights="random", random_state=5,
                                       layers=("conv1_1", "conv2_1")).fit(stripes)
    expected = vectorizer.transform(stripes)
    payload = pickle.dumps(vectorizer)
    assert len(payload) < 10_000  # the network is rebuilt, not pickled
    np.testing.assert_array_equal(pickle.loads(payload).transform(stripes), expected)
    unfitted = pickle.loads(pickle.dumps(GramTextureVectorizer(weights="random")))
    assert unfitted.get_params()["weights"] == "random"
    # a vectorizer fitted on a GPU machine
    state = vectorizer.__getstate__()
    state["device_"] = "cuda:0"
    restored = GramTextureVectorizer.__new__(GramTextureVectorizer)
    if torch.cuda.is_available():
        restored.__setstate__(state)
        assert restored.device_.type == "cuda"
    else:
        with pytest.warns(UserWarning, match="fitted on CUDA"):
            restored.__setstate__(state)
        assert restored.device_ == torch.device("cpu")
        np.testing.assert_array_equal(restored.transform(stripes), expected)


def test_device_resolution():
    vectorizer = GramTextureVectorizer(weights="random").fit(np.zeros((1, 16, 16)))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert vectorizer.device_.type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            GramTextureVectorizer(weights="random", device="cuda").fit(np.zeros((1, 16, 16)))
    with pytest.raises(ValueError, match="not a torch device"):
        GramTextureVectorizer(weights="random", device="tpu9").fit(np.zeros((1, 16, 16)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"layers": ("conv9_1",)}, "Unknown VGG-19 layer"),
        ({"layers": ()}, "at least one"),
        ({"layers": ("conv1_1", "conv1_1")}, "duplicates"),
        ({"layer_weights": [1.0, 2.0]}, "one weight per layer"),
        ({"layer_weights": [1, 1, 1, 1, -1]}, "non-negative"),
        ({"intensity_range": (1.0, 1.0)}, "high > low"),
        ({"intensity_range": (0.0,)}, r"\(low, high\)"),
        ({"pooling": "median"}, "pooling"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        GramTextureVectorizer(weights="random", **params).fit(np.zeros((1, 16, 16)))


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.full((2, 16, 16), np.nan), "NaN"),
        (np.full((2, 16, 16), np.inf), "infinity"),
        (np.zeros((0, 16, 16)), "0 sample"),
        (np.zeros((2, 16, 16, 2)), "1, 3 or 4 channels"),
        (np.zeros(16), "dimension"),
        (np.array([["a"] * 16] * 16)[None], "numeric"),
    ],
)
def test_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        GramTextureVectorizer(weights="random").fit_transform(images)


def test_max_pooling_differs(stripes):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        avg = GramTextureVectorizer(weights="random", random_state=0, layers=("conv2_1",))
        mx = clone(avg).set_params(pooling="max")
        assert not np.allclose(avg.fit_transform(stripes), mx.fit_transform(stripes))
