"""The network at the machine's limit (issue 12, item 6): throughput as a fraction of the floor.

The floor is the time the convolutions up to conv5_1 would take at the machine's own
sgemm rate, measured in the same run: ``floor = FLOPs / sgemm rate`` per image (47.3
GFLOP per 256² image). Each row is timed interleaved with sgemm, best of N, so load changes
on this shared machine hit both alike, and reports ``floor / measured`` (goal ≥ 0.85 at
256² for ``transform``).

Rows: ``GramTextureVectorizer.transform`` as shipped (channels_last input, as the
vectorizer feeds the network), and the bare network forward in both memory layouts on
the same batch, which shows what the layout is worth.

    python -m benchmarks.bench_network_floor [--quick]
"""

import argparse

import numpy as np
import torch

from benchmarks._table import write_table
from benchmarks._timing import best_of, load_note
from benchmarks.bench_gram import network_flops
from sklearn_texture import GramTextureVectorizer
from sklearn_texture.backbones import load_backbone
from sklearn_texture.gram import PAPER_LAYERS

GEMM_SIDE = 2048


def main(quick=False):
    repeats = 3 if quick else 5
    n_images = 4 if quick else 8
    sides = (128,) if quick else (128, 256)
    a, b = torch.randn(GEMM_SIDE, GEMM_SIDE), torch.randn(GEMM_SIDE, GEMM_SIDE)
    # The same weights in both layouts (load_backbone picks channels_last on the CPU).
    networks = {layout: load_backbone("random", PAPER_LAYERS, seed=0, memory_format=layout)
                for layout in ("channels_last", "contiguous")}
    rows = []
    before = load_note("before")
    for side in sides:
        images = np.random.default_rng(0).random((n_images, side, side)).astype(np.float32)
        vectorizer = GramTextureVectorizer(
            weights="random", random_state=0, batch_size=n_images
        ).fit(images[:1])
        nchw = torch.rand(n_images, 3, side, side)
        nhwc = nchw.contiguous(memory_format=torch.channels_last)

        def forward(batch, layout):
            with torch.inference_mode():
                networks[layout](batch)

        functions = {
            "sgemm": lambda: torch.mm(a, b),
            "transform": lambda v=vectorizer, x=images: v.transform(x),
            "forward channels_last": lambda x=nhwc: forward(x, "channels_last"),
            "forward NCHW": lambda x=nchw: forward(x, "contiguous"),
        }
        for function in functions.values():
            function()  # warm-up: oneDNN primitives, caches
        seconds, _ = best_of(functions, repeats)
        sgemm_rate = 2 * GEMM_SIDE**3 / seconds["sgemm"]
        conv_flops = network_flops(side)[0]  # the Gram products are not counted as work
        floor = conv_flops / sgemm_rate  # seconds per image at the sgemm rate
        for name in ("transform", "forward channels_last", "forward NCHW"):
            per_image = seconds[name] / n_images
            rows.append({
                "side": side, "what": name, "images": n_images,
                "s/image": per_image, "floor s/image": floor,
                "floor/measured": floor / per_image,
                "sgemm GFLOP/s": sgemm_rate / 1e9,
                "network GFLOP/image": conv_flops / 1e9,
            })
    return write_table(
        "network_floor", rows,
        title="The network against the machine's floor (FLOPs / same-run sgemm rate)",
        notes=(
            f"Best of {repeats}, interleaved with a {GEMM_SIDE}² torch sgemm in the same run; "
            f"torch threads {torch.get_num_threads()}. floor/measured is the fraction of the "
            "sgemm rate the convolutions reach (Gram products not counted as work). "
            f"{before} {load_note('after')}"
        ),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
