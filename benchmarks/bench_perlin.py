"""Perlin noise and the texture dataset vs a per-pixel ``noise.pnoise2`` loop (issue 2).

Rows:

* ``perlin2`` on scattered points (a 256x256 meshgrid passed as arrays) and on
  the grid path (``grid=True``), both 4 octaves, against a Python loop calling
  ``noise.pnoise2`` per pixel; ``max_abs_diff`` compares the values (goal: grid
  path ≥ 10x, same values);
* ``PerlinTextureDataset``: images of 128² pixels against a baseline that calls
  ``pnoise2`` per pixel for the two noise components of each image and then
  evaluates Eq. (9) in numpy. ``pnoise2`` cannot take the dataset's permutation
  tables, so ``max_abs_diff`` there compares the dataset with Eq. (9) rendered
  from ``perlin2``'s scattered path (itself checked against ``pnoise2`` above and
  in the tests) using the dataset's tables. The 1000-image row (the paper's
  manifold task) extrapolates the baseline from its per-image time.

Timings are the best of several interleaved repeats, on one thread of this
machine.

    python -m benchmarks.bench_perlin [--quick]
"""

import argparse
import time

import noise
import numpy as np

from benchmarks._table import write_table
from benchmarks._timing import best_of
from sklearn_texture.datasets import NOISE_SCALE, PerlinTextureDataset
from sklearn_texture.perlin import perlin2


def _pnoise2_grid(xs, ys, **settings):
    return np.array([[noise.pnoise2(x, y, **settings) for x in xs] for y in ys])


def _pnoise2_dataset(data):
    """The dataset's images with per-pixel pnoise2 fields (x: base 0, y: base 1)."""
    lattice = (np.arange(data.size) / data.size * data.noise_frequency).tolist()
    images = []
    for theta, k, amplitude in data.params:
        h_x, h_y = (
            _pnoise2_grid(lattice, lattice, octaves=data.octaves, base=base) for base in (0, 1)
        )
        images.append(_eq9(theta, k, amplitude, h_x, h_y, data.size))
    return np.stack(images)


def _eq9(theta, k, amplitude, h_x, h_y, size):
    row, column = np.mgrid[0:size, 0:size] / size
    u_x = column + amplitude * NOISE_SCALE * np.asarray(h_x, dtype=float)
    u_y = row + amplitude * NOISE_SCALE * np.asarray(h_y, dtype=float)
    return np.cos(2 * np.pi * k * (u_x * np.cos(theta) + u_y * np.sin(theta)))


def _perlin2_rendering(data):
    """Eq. (9) from perlin2's scattered path with the dataset's own permutation tables."""
    lattice = np.arange(data.size) / data.size * data.noise_frequency
    grid_x, grid_y = np.meshgrid(lattice, lattice)
    images = []
    for (theta, k, amplitude), tables in zip(data.params, data.permutations, strict=True):
        h_x, h_y = (
            perlin2(grid_x, grid_y, octaves=data.octaves, permutation=t) for t in tables
        )
        images.append(_eq9(theta, k, amplitude, h_x, h_y, data.size))
    return np.stack(images)


def main(quick=False):
    rows = []
    side, octaves = 256, 4
    xs = np.arange(side) / side * 8  # 8 lattice cells across in the first octave
    grid_x, grid_y = np.meshgrid(xs, xs)
    best, values = best_of(
        {
            "loop": lambda: _pnoise2_grid(xs.tolist(), xs.tolist(), octaves=octaves),
            "scattered": lambda: perlin2(grid_x, grid_y, octaves=octaves),
            "grid": lambda: perlin2(xs, xs, grid=True, octaves=octaves),
        },
        repeats=3 if quick else 7,
    )
    for name in ("scattered", "grid"):
        rows.append(
            {
                "case": f"perlin2 {name}, {side}x{side}, {octaves} octaves",
                "seconds": best[name],
                "baseline_seconds": best["loop"],
                "speedup": best["loop"] / best[name],
                "max_abs_diff": float(np.max(np.abs(values[name] - values["loop"]))),
            }
        )

    n_images, size = (2, 128) if quick else (8, 128)
    theta = np.arange(n_images) * np.pi / n_images
    best, values = best_of(
        {
            "loop": lambda: _pnoise2_dataset(
                PerlinTextureDataset(theta, 15, 2.5, size=size, random_state=0)
            ),
            "dataset": lambda: PerlinTextureDataset(theta, 15, 2.5, size=size, random_state=0),
        },
        repeats=2 if quick else 3,
    )
    data = values["dataset"]
    rows.append(
        {
            "case": f"PerlinTextureDataset, {n_images} images {size}x{size}",
            "seconds": best["dataset"],
            "baseline_seconds": best["loop"],
            "speedup": best["loop"] / best["dataset"],
            "max_abs_diff": float(np.max(np.abs(data.images - _perlin2_rendering(data)))),
        }
    )
    per_image_baseline = best["loop"] / n_images
    start = time.perf_counter()
    manifold = PerlinTextureDataset.manifold_task(4 if quick else 10, size=size, random_state=0)
    seconds = time.perf_counter() - start
    rows.append(
        {
            "case": f"PerlinTextureDataset.manifold_task, {len(manifold)} images {size}x{size}",
            "seconds": seconds,
            "baseline_seconds": per_image_baseline * len(manifold),
            "speedup": per_image_baseline * len(manifold) / seconds,
            "max_abs_diff": "(baseline extrapolated)",
        }
    )
    return write_table(
        "perlin",
        rows,
        title="Perlin noise and PerlinTextureDataset vs per-pixel noise.pnoise2",
        notes=(
            "Best of interleaved repeats. Goal: perlin2 grid path ≥ 10x the per-pixel loop "
            "with the same values (max_abs_diff 0). Dataset rows: baseline = pnoise2 per "
            "pixel for both noise components + Eq. (9) in numpy; max_abs_diff = dataset vs "
            "Eq. (9) from perlin2's scattered path with the dataset's permutation tables."
        ),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and images")
    main(quick=parser.parse_args().quick)
