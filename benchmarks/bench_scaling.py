"""How the cost grows with the number of images N and the image side (issue 6).

Series (random images, CPU, one process):

* power spectrum (``PowerSpectrumVectorizer.transform``) vs N at 128², expected
  linear, and vs side at fixed N, expected ∝ pixels · log(pixels);
* ``texture_distances`` vs N at fixed D, expected quadratic (N² pairs);
* CNN (``GramTextureVectorizer.transform``, the paper's five layers) vs N at
  64², expected linear, and vs side, expected ∝ pixels (side²).

For each series the notes give the exponent ``p`` of a least-squares fit
``time ~ x^p`` over its largest three points (small sizes carry fixed
overheads) and over all points.

    python -m benchmarks.bench_scaling [--quick]
"""

import argparse
import time

import numpy as np

from benchmarks._table import write_table
from benchmarks._timing import best_of, load_note, loglog_slope
from sklearn_texture.distances import texture_distances
from sklearn_texture.gram import GramTextureVectorizer
from sklearn_texture.spectrum import PowerSpectrumVectorizer


def _images(n_images, side, dtype=np.float64):
    return np.random.default_rng(0).random((n_images, side, side)).astype(dtype)


def _ps_seconds(n_images, side, repeats):
    images = _images(n_images, side)
    vectorizer = PowerSpectrumVectorizer().fit(images[:1])
    seconds, results = best_of({"ps": lambda: vectorizer.transform(images)}, repeats)
    return seconds["ps"], results["ps"].shape[1]


def _distance_seconds(n_rows, n_features, repeats):
    X = np.random.default_rng(0).random((n_rows, n_features), dtype=np.float32)
    seconds, _ = best_of({"distances": lambda: texture_distances(X)}, repeats)
    return seconds["distances"], n_features


def _cnn_seconds(n_images, side, vectorizer):
    images = _images(n_images, side, np.float32)
    vectorizer.transform(images[:1])  # warm-up at this size
    start = time.perf_counter()
    vectors = vectorizer.transform(images)
    return time.perf_counter() - start, vectors.shape[1]


def main(quick=False):
    load_before = load_note("before")
    repeats = 2
    if quick:
        plan = {
            ("power spectrum vs N", "linear"): [(n, 64) for n in (50, 100, 200)],
            ("power spectrum vs side", "pixels·log"): [(16, s) for s in (64, 128, 256)],
            ("distances vs N (D = 8192)", "quadratic"): [(n, 8192) for n in (100, 200, 400)],
            ("CNN vs N", "linear"): [(n, 64) for n in (2, 4, 8)],
            ("CNN vs side", "pixels"): [(2, s) for s in (32, 64, 128)],
        }
    else:
        plan = {
            ("power spectrum vs N", "linear"): [(n, 128) for n in (100, 200, 500, 1000, 2000)],
            ("power spectrum vs side", "pixels·log"):
                [(16, s) for s in (64, 128, 256, 512, 1024)],
            ("distances vs N (D = 32768)", "quadratic"):
                [(n, 32768) for n in (100, 200, 500, 1000, 2000)],
            ("CNN vs N", "linear"): [(n, 64) for n in (25, 50, 100, 200)],
            ("CNN vs side", "pixels"): [(2, 64), (2, 128), (2, 256), (2, 512), (1, 1024)],
        }
    vectorizer = GramTextureVectorizer(device="cpu").fit(_images(1, 64, np.float32))
    rows, notes = [], []
    for (series, law), points in plan.items():
        measured = []
        for n, size in points:
            if series.startswith("power"):
                seconds, n_features = _ps_seconds(n, size, repeats)
            elif series.startswith("distances"):
                seconds, n_features = _distance_seconds(n, size, repeats)
            else:
                seconds, n_features = _cnn_seconds(n, size, vectorizer)
            measured.append((n, size, seconds, n_features))
        along_n = "vs N" in series
        first_n, first_size, first_seconds, _ = measured[0]
        if not along_n:  # side series compare per-image times (the 1024² point is 1 image)
            first_seconds /= first_n
        for n, size, seconds, n_features in measured:
            grows = n / first_n if along_n else (size / first_size) ** 2
            expected = {"linear": grows, "quadratic": grows**2, "pixels": grows,
                        "pixels·log": grows * np.log(size**2) / np.log(first_size**2)}[law]
            per_image = seconds / (n if not series.startswith("distances") else 1)
            rows.append({
                "series": series, "N": n,
                "side": size if not series.startswith("distances") else "",
                "D": n_features, "seconds": seconds,
                "seconds per image": per_image if not series.startswith("distances") else "",
                "time / first": (seconds if along_n else seconds / n) / first_seconds,
                "expected law": law,
                "expected time / first": expected,
            })
        xs = [(n if along_n else size * size) for n, size, _, _ in measured]
        times = [seconds if along_n else seconds / n for n, _, seconds, _ in measured]
        unit = "N" if along_n else "pixels (per image)"
        notes.append(
            f"{series}: time ~ {unit}^{loglog_slope(xs[-3:], times[-3:]):.2f} over the "
            f"largest three, ^{loglog_slope(xs, times):.2f} over all (expected {law})."
        )
    return write_table(
        "scaling", rows, title="Cost vs number of images and image side",
        notes=" ".join(notes) + " Side series: time / first and the fits are per image "
        "(the CNN 1024² point is one image). CNN and distances on 2 BLAS/torch threads; "
        f"CNN single timed run after a warm-up at each size, the others best of {repeats}. "
        f"{load_before} "
        f"{load_note('after')}",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    main(quick=parser.parse_args().quick)
