"""Peak memory of large-image texture vectors: tiled (``tile_size``) vs untiled.

Each configuration runs in a fresh subprocess that creates the image, fits and
transforms, and reports its own peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so imports, the network and
the image itself are all counted. The goal of issue 7: a 4096² micrograph
transforms in < 2 GB peak RSS on the paper's five layers.

Run: ``python benchmarks/bench_large_image.py`` (``--quick``: 1024² only).
"""

import json
import subprocess
import sys

from benchmarks._table import write_table

_CHILD = r"""
import json, resource, sys, time
import numpy as np
import torch
from sklearn_texture import GramTextureVectorizer

side, tile_size, weights = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
vectorizer = GramTextureVectorizer(weights=weights, random_state=0, tile_size=tile_size,
                                   device="cpu")
vectorizer.fit(np.zeros((1, 16, 16), dtype=np.float32))
vectorizer.get_network()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seconds = 0.0
if side:
    rng = np.random.default_rng(0)
    image = rng.random((1, side, side), dtype=np.float32)
    start = time.perf_counter()
    vectors = vectorizer.transform(image)
    seconds = time.perf_counter() - start
    assert np.isfinite(vectors).all()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_kib": base, "peak_kib": peak, "seconds": seconds,
                  "threads": torch.get_num_threads()}))
"""


def _measure(side, tile_size, weights):
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(side), json.dumps(tile_size), weights],
        capture_output=True, text=True, check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(quick=False):
    weights = "vgg19_normalized"
    configs = [(0, None), (1024, None), (1024, 512)]
    if not quick:
        configs += [(2048, "auto"), (4096, "auto")]
    rows = []
    for side, tile_size in configs:
        result = _measure(side, tile_size, weights)
        rows.append({
            "image": f"{side}²" if side else "none (imports + network)",
            "tile_size": str(tile_size),
            "peak RSS (MiB)": result["peak_kib"] / 1024,
            "RSS before transform (MiB)": result["base_kib"] / 1024,
            "transform (s)": result["seconds"],
            "under 2 GB": result["peak_kib"] * 1024 < 2e9,
        })
    notes = (
        "Paper layers conv1_1 ... conv5_1, normalised VGG-19, CPU, float32 image. "
        "Peak RSS of a fresh process (ru_maxrss) includes torch, the network and the "
        "image. tile_size='auto' tiles images above 1024² with 512-pixel cores and an "
        "80-pixel margin (conv5_1's receptive field), so memory follows the 672² tile, "
        "not the image; untiled, the first block's activations of a 4096² image alone "
        "would take 4 GiB per tensor."
    )
    write_table("large_image", rows, title="Large images: peak memory, tiled vs untiled",
                notes=notes)
    return rows


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
