"""Map a folder of your own micrographs: texture vectors → distances → MDS → a CSV and a
thumbnail plot. The same as ``sklearn-texture embed FOLDER --out results``.

Files that cannot be used (unreadable, NaN/inf pixels, smaller than 16x16) are listed
with the reason in ``skipped.csv``; ``settings.json`` records the run (seed included), so
the same command gives the same coordinates byte for byte.

Usage: python embed_folder.py FOLDER [OUT]   (without FOLDER, a demo folder is generated)
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from sklearn_texture.cli import main


def demo_folder(folder):
    """Write a few Perlin marble textures as PNG files, standing in for micrographs."""
    from sklearn_texture import PerlinTextureDataset

    data = PerlinTextureDataset(theta=np.linspace(0, np.pi, 8, endpoint=False), k=10,
                                amplitude=1.5, size=64, random_state=0)
    for index, image in enumerate(data.images):
        pixels = np.round((image + 1) * 127.5).astype(np.uint8)
        Image.fromarray(pixels).save(Path(folder) / f"texture_{index:02d}.png")
    return folder


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        folder = sys.argv[1] if len(sys.argv) > 1 else demo_folder(scratch)
        out = sys.argv[2] if len(sys.argv) > 2 else str(Path(scratch) / "map")
        status = main(["embed", folder, "--out", out, "--random-state", "0", "--no-progress"])
        if status == 0:
            print(Path(out, "coordinates.csv").read_text())
        sys.exit(status)
