"""Same inputs and random_state -> byte-identical vectors, datasets and CLI tables (CPU).

Within a process (networks rebuilt in between) and across fresh processes. What differs on
a GPU is documented in docs/user_guide.md ("Devices, batches, pickles").
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np

from sklearn_texture import (
    GramTextureVectorizer,
    PerlinTextureDataset,
    PowerSpectrumVectorizer,
    backbones,
)

# Runs in a fresh interpreter: the SHA-256 of every output's bytes, as JSON.
OUTPUTS_SCRIPT = """
import hashlib, json, sys
import numpy as np
import torch
torch.set_num_threads({threads})  # the thread count can change float32 bits: match ours
sys.path.insert(0, {tests!r})
from test_determinism import outputs
print(json.dumps({{k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in outputs().items()}}))
"""


def outputs():
    """Every deterministic output: dataset images, both vectorizers, both kinds of weights."""
    data = PerlinTextureDataset.angle_task(6, amplitude=2.5, size=32, random_state=3)
    rgb = np.random.default_rng(4).integers(0, 256, (2, 20, 24, 3), dtype=np.uint8)
    results = {
        "dataset": data.images,
        "dataset_permutations": data.permutations,
        "manifold": PerlinTextureDataset.manifold_task(2, size=16, random_state=9).images,
        "spectrum": PowerSpectrumVectorizer().fit_transform(data.images),
        "spectrum_radial": PowerSpectrumVectorizer(window=4, radial=True).fit_transform(rgb),
    }
    small = data.images[:4, ::2, ::2]  # 16 x 16 keeps the network cheap
    for weights in ("random", "vgg19_normalized"):
        vectorizer = GramTextureVectorizer(weights=weights, random_state=5, device="cpu")
        results[f"gram_{weights}"] = vectorizer.fit_transform(small)
        results[f"gram_{weights}_mixed_sizes"] = vectorizer.transform([small[0], rgb[0]])
    return results


def hashes(results):
    return {key: hashlib.sha256(value.tobytes()).hexdigest() for key, value in results.items()}


def test_outputs_are_byte_identical_within_a_process():
    first = outputs()
    backbones.clear_cache()  # the networks are rebuilt from their weights
    second = outputs()
    for key in first:
        assert first[key].dtype == second[key].dtype
        assert first[key].tobytes() == second[key].tobytes(), key


def test_random_state_matters():
    """Non-vacuous: another seed gives other random weights and other noise."""
    images = PerlinTextureDataset.angle_task(2, size=16, random_state=0).images
    other = PerlinTextureDataset.angle_task(2, size=16, random_state=1).images
    assert not np.array_equal(images, other)
    a, b = (GramTextureVectorizer(weights="random", random_state=s, layers=("conv1_1",))
            .fit_transform(images) for s in (0, 1))
    assert not np.array_equal(a, b)


def test_outputs_are_byte_identical_across_processes():
    import torch

    script = OUTPUTS_SCRIPT.format(tests=os.path.dirname(__file__),
                                   threads=torch.get_num_threads())
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == hashes(outputs())


def test_cli_tables_are_byte_identical_across_processes(tmp_path):
    """``reproduce angle`` twice, in two processes at once: the same CSV bytes."""
    runs = []
    for name in ("a", "b"):
        command = [sys.executable, "-m", "sklearn_texture", "reproduce", "angle",
                   "--n-images", "6", "--amplitudes", "1", "2.5", "--size", "16",
                   "--random-state", "7", "--device", "cpu", "--no-progress",
                   "--out", str(tmp_path / name)]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True))
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    for table in ("angle_task.csv", "angle_task_trials.csv"):
        a, b = ((tmp_path / name / table).read_bytes() for name in ("a", "b"))
        assert a == b and len(a.splitlines()) > 2, table
