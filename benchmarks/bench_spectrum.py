"""Power-spectrum texture vectors vs PyMKS and a naive numpy loop (issue 6, item 5).

``PowerSpectrumVectorizer().fit_transform`` on N grey float64 images (1000 at
128², the manifold task; ``--quick``: 100 at 64²) against

* a naive loop: per image, rescale to [-1, 1] and take ``|np.fft.fft2|² / (H W)``
  over the full plane (Eq. 6), in the same process, interleaved;
* PyMKS's periodic two-point statistics, ``pymks.two_point_stats(φ, φ,
  periodic_boundary=True)`` on the same rescaled images: the autocorrelation,
  whose Fourier transform is the power spectrum. PyMKS is taken from this
  interpreter if it imports, else from the interpreter named by the environment
  variable ``PYMKS_PYTHON`` (PyMKS 0.4.1 pins nothing useful here but pulls in a
  Jupyter kernel stack and needs pyarrow, so it is best kept in its own venv),
  and timed in a subprocess of the same run on the same images.

Checks: Eq. (7) distances of 50 pairs from our vectors vs from the naive
full-plane spectra (relative difference), and PyMKS's correlation vs the inverse
FFT of the naive spectrum (absolute difference).

    python -m benchmarks.bench_spectrum [--quick]
    PYMKS_PYTHON=/tmp/pymks-venv/bin/python python -m benchmarks.bench_spectrum
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._table import write_table
from benchmarks._timing import best_of, load_note
from sklearn_texture.spectrum import PowerSpectrumVectorizer

_PYMKS_CHILD = r"""
import json, sys, time
import numpy as np
from pymks import two_point_stats

images = np.load(sys.argv[1])
repeats = int(sys.argv[3])
two_point_stats(images[:2], images[:2], periodic_boundary=True)  # warm-up (dask, imports)
best = float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    correlation = np.asarray(two_point_stats(images, images, periodic_boundary=True))
    best = min(best, time.perf_counter() - start)
np.save(sys.argv[2], correlation)
import pymks
print(json.dumps({"seconds": best, "version": getattr(pymks, "__version__", "0.4.x")}))
"""


def _unit_range(image):
    low, high = image.min(), image.max()
    return 2 * (image - low) / (high - low) - 1 if high > low else np.zeros_like(image)


def naive_spectra(images):
    """Eq. (6) over the full wavevector plane, one ``fft2`` per image."""
    height, width = images.shape[1:]
    return np.stack([np.abs(np.fft.fft2(_unit_range(image))) ** 2 / (height * width)
                     for image in images])


def _pymks_python():
    try:
        import pymks  # noqa: F401
    except ImportError:
        return os.environ.get("PYMKS_PYTHON")
    return sys.executable


def _run_pymks(python, images, repeats):
    """Seconds of PyMKS on ``images`` (already in [-1, 1]) and its correlation."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "images.npy", Path(folder) / "correlation.npy"
        np.save(source, images)
        completed = subprocess.run(
            [python, "-c", _PYMKS_CHILD, str(source), str(target), str(repeats)],
            capture_output=True, text=True, check=False,
        )
        if completed.returncode != 0:
            return None, None, completed.stderr.strip().splitlines()[-1]
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        return result["seconds"], np.load(target), result["version"]


def _pymks_difference(correlation, spectra):
    """PyMKS's centred autocorrelation vs ``ifft2`` of the naive spectra, same window."""
    height, width = spectra.shape[1:]
    expected = np.fft.fftshift(np.fft.ifft2(spectra).real, axes=(1, 2))
    half_y, half_x = correlation.shape[1] // 2, correlation.shape[2] // 2
    window = expected[:, height // 2 - half_y: height // 2 + half_y + 1,
                      width // 2 - half_x: width // 2 + half_x + 1]
    return float(np.max(np.abs(correlation - window)))


def main(quick=False):
    load_before = load_note("before")
    n_images, side = (100, 64) if quick else (1000, 128)
    repeats = 3
    rng = np.random.default_rng(0)
    images = rng.random((n_images, side, side))
    vectorizer = PowerSpectrumVectorizer()
    seconds, results = best_of({
        "ours": lambda: vectorizer.fit_transform(images),
        "naive": lambda: naive_spectra(images),
    }, repeats)
    vectors, spectra = results["ours"], results["naive"]
    pairs = [(i, j) for i, j in rng.choice(n_images, size=(50, 2)) if i != j]
    ours = np.array([np.linalg.norm(vectors[i] - vectors[j]) for i, j in pairs])
    naive = np.array([np.linalg.norm(spectra[i] - spectra[j]) for i, j in pairs])
    distance_error = float(np.max(np.abs(ours - naive) / naive))

    rows = [
        {"method": "PowerSpectrumVectorizer.fit_transform (batched rfft2, half plane)",
         "seconds": seconds["ours"], "time / ours": 1.0,
         "check": f"Eq. 7 distances vs naive: max rel. diff {distance_error:.1e}"},
        {"method": "naive numpy loop: fft2 per image, full plane",
         "seconds": seconds["naive"], "time / ours": seconds["naive"] / seconds["ours"],
         "check": "reference"},
    ]
    python = _pymks_python()
    if python is None:
        pymks_note = ("PyMKS: not importable here and PYMKS_PYTHON not set, so not measured "
                      "(see docs/benchmarks.md for how it was installed).")
    else:
        unit = np.stack([_unit_range(image) for image in images])
        pymks_seconds, correlation, detail = _run_pymks(python, unit, repeats)
        if pymks_seconds is None:
            pymks_note = f"PyMKS failed to run: {detail}"
        else:
            difference = _pymks_difference(correlation, spectra)
            rows.append({
                "method": f"PyMKS {detail} two_point_stats(periodic_boundary=True)",
                "seconds": pymks_seconds, "time / ours": pymks_seconds / seconds["ours"],
                "check": f"vs ifft2 of naive spectra: max abs diff {difference:.1e}",
            })
            pymks_note = (f"PyMKS ran in {python} (a subprocess of the same run, its "
                          "own best of repeats, after a warm-up call); its input is the "
                          "already rescaled images and its output the centred "
                          f"{correlation.shape[1]}×{correlation.shape[2]} autocorrelation.")
    notes = (
        f"{n_images} random float64 images of {side}×{side}; best of {repeats} interleaved "
        f"repeats. Ours includes validation and the [-1, 1] rescaling. {pymks_note} "
        f"{load_before} {load_note('after')}"
    )
    return write_table("spectrum", rows,
                       title="Power spectrum texture vectors vs PyMKS and a naive numpy loop",
                       notes=notes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 images of 64²")
    main(quick=parser.parse_args().quick)
