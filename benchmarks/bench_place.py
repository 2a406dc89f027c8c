"""Placing new images on a saved map vs their forward passes (issue 13, item 4).

A 200-image map (Perlin textures, CNN Gram vectors, ``sklearn-texture embed``) is saved;
then, in the same run and interleaved (best of 3):

* the 10 new images' texture vectors alone: ``vectorizer.transform`` of the map's own
  fitted vectorizer (the 10 forward passes and Gram matrices);
* ``maps.place_images``: those vectors, their distances to the 200 landmarks and the
  triangulation, and the 210 × 210 distance matrix of the new map;
* the whole command ``sklearn-texture embed NEW --into MAP --out MAP2``: reading the map
  (vectors.npy is 200 × 305888 float32, 245 MB) and the images, placing, and writing
  every file of MAP2 (vectors, distances, model, thumbnails, map.png, report.html);
* the pieces of that command that are not placement: loading the map, writing the files
  of the new one, drawing map.png and writing report.html; and one computation of the
  new vectors' distances to the map's vectors.

The weights are ``random`` (the VGG-19 architecture and FLOPs of the paper's weights,
no download). Ratios are of times measured in this run.

    python -m benchmarks.bench_place [--quick]
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks._table import write_table
from benchmarks._timing import best_of, load_note
from sklearn_texture import PerlinTextureDataset, html_report, maps, plotting, texture_distances
from sklearn_texture.cli import main as cli
from sklearn_texture.io import read_images

N_MAP, N_NEW = 200, 10


def _write_images(folder, count, size, seed):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    data = PerlinTextureDataset(rng.uniform(0, np.pi, count), rng.uniform(4, 12, count),
                                rng.uniform(0.5, 3, count), size=size, random_state=seed)
    for i, image in enumerate(data.images):
        pixels = np.round((image + 1) * 127.5).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"t{i:03d}.png")
    return folder


def main(quick=False):
    load_before = load_note("before")
    size = 64 if quick else 256  # 256²: the paper's images
    repeats = 3
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        map_images = _write_images(tmp / "map_images", N_MAP, size, seed=0)
        new_images = _write_images(tmp / "new_images", N_NEW, size, seed=1)
        start = time.perf_counter()
        assert cli(["embed", str(map_images), "--weights", "random", "--device", "cpu",
                    "--quiet", "--out", str(tmp / "map")]) == 0
        fit_seconds = time.perf_counter() - start
        texture_map = maps.load_map(tmp / "map")
        vectorizer = texture_map.model[0]
        vectorizer.set_params(verbose=0)
        images, names, _ = read_images([new_images])
        batch = np.stack(images)
        new_vectors = vectorizer.transform(batch)
        placed = maps.place_vectors(texture_map, new_vectors, names)
        placed.thumbnails = placed.thumbnails + placed.thumbnails[:N_NEW]
        analysis = maps.dimension_analysis(placed)
        counter = iter(range(10**6))

        def save():
            folder = tmp / f"saved{next(counter)}"
            folder.mkdir()
            maps.save_map(placed, folder)
            shutil.rmtree(folder)  # unlinking two files: ~0 s, keeps the disk free

        functions = {
            "transform": lambda: vectorizer.transform(batch),
            "distances": lambda: texture_distances(new_vectors, texture_map.vectors),
            "place_images": lambda: maps.place_images(texture_map, batch, names),
            "command": lambda: cli(["embed", str(new_images), "--into", str(tmp / "map"),
                                    "--quiet", "--out", str(tmp / "placed")]),
            "load_map": lambda: maps.load_map(tmp / "map"),
            "save_map": save,
            "map.png": lambda: plotting.plot_image_map(
                placed.coordinates, [maps.decode_thumbnail(t) for t in placed.thumbnails],
                tmp / "map.png"),  # as the command draws it: no names beyond 60 images
            "report.html": lambda: html_report.write_report(
                tmp / "report.html", names=placed.names, coordinates=placed.coordinates,
                thumbnails=placed.thumbnails, roles=placed.roles,
                dimensions=analysis.dimensions, stress=analysis.stress),
        }
        seconds, results = best_of(functions, repeats)
        assert results["command"] == 0
        placed = maps.load_map(tmp / "placed")
        vectors_mb = (tmp / "map" / "vectors.npy").stat().st_size / 2**20
    forward = seconds["transform"]
    labels = {
        "transform": f"{N_NEW} new images: vectorizer.transform (forward passes + Gram)",
        "distances": f"texture_distances of the {N_NEW} new vectors to the {N_MAP} map "
                     "vectors (once)",
        "place_images": f"maps.place_images: transform, then the model's distances to the "
                        f"{N_MAP} landmarks and triangulation, then the new map's distance "
                        "matrix (the same distances again)",
        "command": "sklearn-texture embed NEW --into MAP --out MAP2 (everything)",
        "load_map": f"of which: loading the map (vectors.npy {vectors_mb:.0f} MB, model)",
        "save_map": "of which: writing MAP2's files (vectors, distances, model.joblib "
                    "holding the landmarks, thumbnails, settings)",
        "map.png": f"of which: drawing map.png ({N_MAP + N_NEW} thumbnails)",
        "report.html": "of which: writing report.html",
    }
    rows = [{"step": labels[name], "seconds": seconds[name],
             f"/ {N_NEW} forward passes": seconds[name] / forward} for name in labels]
    placed_share = forward / seconds["place_images"]
    notes = (
        f"Map: {N_MAP} Perlin textures of {size}² px, CNN Gram vectors (random VGG-19 "
        f"weights, same FLOPs as the paper's), built by `sklearn-texture embed` in "
        f"{fit_seconds:.1f} s (one run, not interleaved). New images: {N_NEW}, placed "
        f"without refitting ({len(placed.names)} rows in MAP2). Best of {repeats} "
        "interleaved repeats; every ratio is to the 10 forward passes of the same run. "
        f"The forward passes are {100 * placed_share:.0f} % of maps.place_images; the "
        "rest is mostly the distances of the new vectors to the map's, computed twice: "
        "inside LandmarkMDS.transform (which takes texture vectors, not distances) and "
        "for MAP2's distances.npy. The command also reads the saved map and writes all of "
        "MAP2's files and figures (the rows 'of which'): costs that grow with the map, "
        "not with the number of new images. "
        f"{load_before} {load_note('after')}"
    )
    return write_table("place", rows,
                       title=f"Placing {N_NEW} new images on a {N_MAP}-image map "
                             f"({size}² px, CPU)", notes=notes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64² images instead of 256²")
    main(quick=parser.parse_args().quick)
