"""Peak memory of ``sklearn-texture embed`` on an 8192 x 8192 16-bit TIFF (issue 13).

The benchmark writes a folder holding an 8192² 16-bit big-endian TIFF (ImageJ's default
layout: uncompressed, so the reader holds it as 128 MiB of uint16, not memory-mapped)
and two smaller images (a 1024² 16-bit PNG, a 768² 8-bit TIFF), then runs the command

    python -m sklearn_texture embed FOLDER --out OUT --no-progress --weights WEIGHTS

in a subprocess and reports its peak resident set size (``ru_maxrss`` of the child,
which counts imports, the network, the images and the tiles) and wall time. For a
same-run ratio it runs the command on a folder of three small images too (the two
smaller ones and a 512² 16-bit TIFF), so the memory the large image adds is the
difference of the two peaks. Goal: the large run under 2 GB.

Run: ``python -m benchmarks.bench_large_tiff`` (``--quick``: a 2048² image instead;
``--weights random`` when the paper's normalised weights cannot be fetched; the table
names the weights used).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._table import write_table

SIDE = 8192


def _write_images(folder, side, rng):
    """The large TIFF and the two smaller images; returns their descriptions."""
    import tifffile
    from PIL import Image

    folder.mkdir(parents=True)
    # A texture, not noise: a few sinusoids plus noise, built row block by row block.
    large = np.empty((side, side), dtype=np.uint16)
    x = np.arange(side)
    for start in range(0, side, 512):
        y = np.arange(start, min(side, start + 512))[:, None]
        field = 2 + np.sin(x / 7.0 + y / 11.0) + np.cos(x / 23.0 - y / 5.0)
        field += 0.5 * rng.random((len(y), side))
        large[start:start + len(y)] = np.round(field * 13000).astype(np.uint16)
    tifffile.imwrite(folder / "large.tif", large, byteorder=">")
    Image.fromarray(large[:1024, :1024].copy()).save(folder / "medium.png")
    tifffile.imwrite(folder / "small.tif", (large[:768, 1024:1792] >> 8).astype(np.uint8))
    tifffile.imwrite(folder.parent / "extra.tif", large[-512:, -512:])  # small folder
    return [f"large.tif ({side}², uint16, big-endian, uncompressed, "
            f"{large.nbytes / 2**20:.0f} MiB)", "medium.png (1024², uint16)",
            "small.tif (768², uint8)"]


def _embed(folder, out, weights):
    """Run embed in a child; return (seconds, peak RSS of that child in bytes, command)."""
    command = [sys.executable, "-m", "sklearn_texture", "embed", str(folder), "--out",
               str(out), "--no-progress", "--weights", weights]
    log = out.parent / f"{out.name}.log"
    start = time.perf_counter()
    with open(log, "wb") as output:
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        # wait4: this child's own rusage (ru_maxrss in KiB on Linux)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"embed failed ({child.returncode}): {log.read_text()}")
    return seconds, usage.ru_maxrss * 1024, command


def main(quick=False, weights="vgg19_normalized", side=None):
    side = side or (2048 if quick else SIDE)
    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="bench_large_tiff_"))
    try:
        descriptions = _write_images(work / "large", side, rng)
        small = work / "small"
        small.mkdir()
        for name in ("medium.png", "small.tif"):
            shutil.copy(work / "large" / name, small / name)
        shutil.move(work / "extra.tif", small / "extra.tif")
        rows = []
        for label, folder in [("3 small images (512², 768², 1024²)", small),
                              (f"{side}² TIFF + 768² + 1024²", work / "large")]:
            seconds, peak, command = _embed(folder, work / f"out_{folder.name}", weights)
            rows.append({"images": label, "weights": weights, "seconds": seconds,
                         "peak RSS (MiB)": peak / 2**20, "under 2 GB": peak < 2e9})
        rows[1]["added by the large image (MiB)"] = \
            rows[1]["peak RSS (MiB)"] - rows[0]["peak RSS (MiB)"]
        rows[0]["added by the large image (MiB)"] = 0.0
        ratio = rows[1]["peak RSS (MiB)"] / rows[0]["peak RSS (MiB)"]
        shown = " ".join(["python", "-m", "sklearn_texture", *command[3:]])
        shown = shown.replace(str(work), "$TMP")
        notes = (
            f"Command (second row): `{shown}`. Images: {'; '.join(descriptions)}. Peak RSS "
            f"is ru_maxrss of the child process (imports, network, images, tiles). Same-run "
            f"ratio of peaks, large / small folder: {ratio:.2f}. embed reads the large "
            f"image as uint16 (a float64 copy would be {side * side * 8 / 2**20:.0f} MiB) "
            f"and the vectorizer tiles it (tile_size='auto': 512-pixel cores, 80-pixel "
            f"margins); untiled, the first block's activations alone would take "
            f"{side * side * 64 * 4 / 2**30:.1f} GiB per tensor."
        )
        write_table("large_tiff" if side == SIDE else "large_tiff_quick", rows,
                    title=f"embed on a {side}² 16-bit TIFF: peak memory", notes=notes)
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv,
         weights=sys.argv[sys.argv.index("--weights") + 1] if "--weights" in sys.argv
         else "vgg19_normalized")
