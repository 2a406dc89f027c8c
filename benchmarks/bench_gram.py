"""Texture extraction vs the bare network (issue 6, item 1).

Times ``GramTextureVectorizer.transform`` against a bare torchvision VGG-19
forward pass to conv5_1 (same threads, same batch, average pooling, inference
mode) and against a same-run sgemm, and reports the ratio bare/ours (goal ≥ 0.85)
and GFLOP/s.

    python -m benchmarks.bench_gram [--quick]
"""

import argparse

import numpy as np
import torch
import torchvision

from benchmarks._table import write_table
from benchmarks._timing import best_of
from sklearn_texture import GramTextureVectorizer
from sklearn_texture.backbones import LAYER_NAMES, layer_channels, layer_stride


def network_flops(size, deepest="conv5_1"):
    """FLOPs (2 per multiply-add) of VGG-19 up to ``deepest``, and of its conv*_1 Gram products.

    From the network's geometry alone (:mod:`sklearn_texture.backbones`): layer ``l``
    convolves ``size / stride_l`` squared pixels, 3x3 kernels, from the previous
    layer's channels to its own.
    """
    flops = gram = 0
    in_channels = 3
    for name in LAYER_NAMES[: LAYER_NAMES.index(deepest) + 1]:
        channels, side = layer_channels(name), size // layer_stride(name)
        flops += 2 * in_channels * channels * 9 * side * side
        if name.endswith("_1"):  # conv{block}_1 feeds a Gram matrix
            gram += 2 * channels * channels * side * side
        in_channels = channels
    return flops, gram


def sgemm_gflops(repeats):
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    seconds = best_of({"sgemm": lambda: torch.mm(a, b)}, repeats)[0]["sgemm"]
    return 2 * 2048**3 / seconds / 1e9


def bare_forward(batch):
    """torchvision's VGG-19 features with average pooling, cut after conv5_1's ReLU."""
    model = torchvision.models.vgg19(weights=None).features[:30]
    for index, module in enumerate(model):
        if isinstance(module, torch.nn.MaxPool2d):
            model[index] = torch.nn.AvgPool2d(2, 2)
    model.eval()

    def run():
        with torch.inference_mode():
            model(batch)

    return run


def main(quick=False):
    repeats = 2 if quick else 3
    cases = [(16, 128)] if quick else [(32, 128), (64, 128), (32, 256)]
    peak = sgemm_gflops(repeats)
    rows = []
    for n_images, size in cases:
        images = np.random.default_rng(0).random((n_images, size, size)).astype(np.float32)
        vectorizer = GramTextureVectorizer(batch_size=n_images).fit(images[:1])
        vectorizer.transform(images[:2])  # warm-up
        bare_run = bare_forward(torch.rand(n_images, 3, size, size))
        bare_run()  # warm-up
        # Interleaved repeats, so load changes on this shared machine hit both alike.
        seconds, _ = best_of({"ours": lambda v=vectorizer, x=images: v.transform(x),
                              "bare": bare_run}, repeats)
        ours, bare = seconds["ours"], seconds["bare"]
        conv_flops, gram_flops = network_flops(size)
        total = n_images * (conv_flops + gram_flops) / 1e9
        rows.append({
            "images": n_images, "side": size, "bare forward s": bare, "transform s": ours,
            "bare/transform (goal>=0.85)": bare / ours,
            "transform GFLOP/s": total / ours, "sgemm GFLOP/s": peak,
            "fraction of sgemm": total / ours / peak,
        })
    return write_table(
        "gram_vs_bare_network", rows,
        title="GramTextureVectorizer.transform vs a bare VGG-19 forward to conv5_1",
        notes="Ratios are within one run (same threads, batch, process). GFLOP counts the "
        "convolutions up to conv5_1 plus the five Gram products.",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
