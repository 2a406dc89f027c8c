"""Texture synthesis quality and speed (issue 14).

Quality: six textures (two-phase blobs at two length scales, two Perlin textures of
different θ and k, binary stripes, a Perlin texture thresholded to two phases), each
synthesised with the normalised VGG-19 at ``--size``² for ``--n-iter`` evaluations, with
and without the power-spectrum term (``spectrum_weight``). Reported per texture: final
loss as a fraction of the starting loss; whether the synthesis is nearest to its own
exemplar by Eq. 4 and by the power spectrum (Eq. 7, which the Gram-only optimiser never
sees); for two-phase exemplars the phase fraction after thresholding at 0.5 against the
exemplar's; the maximum normalised circular cross-correlation with the exemplar (1 for a
shifted copy).

Speed (same run, ratios): one optimiser evaluation against one bare forward + backward
(input gradient) of the same network on the same batch; a batch of 8 exemplars against 8
single runs, per image.

    python -m benchmarks.bench_synthesis [--size 96] [--n-iter 300] [--quick]
"""

import argparse
import time

import numpy as np
import torch

from benchmarks._table import write_table
from sklearn_texture import GramTextureVectorizer, PerlinTextureDataset, power_spectrum
from sklearn_texture._gram_math import gram_texture_vectors
from sklearn_texture.synthesis import synthesize_textures


def blobs(size, sigma, seed):
    rng = np.random.default_rng(seed)
    frequencies = np.add.outer(np.fft.fftfreq(size) ** 2, np.fft.fftfreq(size) ** 2)
    field = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size)))
                         * np.exp(-2 * np.pi**2 * sigma**2 * frequencies)).real
    return (field > np.median(field)).astype(np.float64)


def textures(size):
    perlin = PerlinTextureDataset([0.0, np.pi / 3, 1.0], k=[6, 12, 8], amplitude=[1.0, 2.0, 1.5],
                                  size=size, random_state=0).images
    yy, xx = np.mgrid[:size, :size]
    stripes = (np.sin(2 * np.pi * (xx + 0.5 * yy) / 10.0) > 0).astype(np.float64)
    return {
        "blobs σ=2 (two-phase)": blobs(size, 2.0, 0),
        "blobs σ=5 (two-phase)": blobs(size, 5.0, 1),
        "Perlin θ=0 k=6": perlin[0],
        "Perlin θ=π/3 k=12": perlin[1],
        "stripes (two-phase)": stripes,
        "Perlin θ=1 k=8 thresholded (two-phase)": (perlin[2] > 0).astype(np.float64),
    }


def max_circular_correlation(a, b):
    a = (a - a.mean()) / (a.std() + 1e-12)
    b = (b - b.mean()) / (b.std() + 1e-12)
    correlation = np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b))).real / a.size
    return float(correlation.max())


def quality(size, n_iter, spectrum_weight, weights):
    named = textures(size)
    names, exemplars = list(named), np.stack(list(named.values()))
    start = time.perf_counter()
    syntheses, losses = synthesize_textures(
        exemplars, n_iter=n_iter, weights=weights, spectrum_weight=spectrum_weight,
        random_state=0, return_losses=True)
    seconds = time.perf_counter() - start
    vectorizer = GramTextureVectorizer(weights=weights).fit(exemplars)
    v_ex, v_syn = vectorizer.transform(exemplars), vectorizer.transform(syntheses)
    s_ex, s_syn = power_spectrum(exemplars), power_spectrum(syntheses)
    d_gram = np.linalg.norm(v_syn[:, None] - v_ex[None], axis=2)
    d_spec = np.linalg.norm(s_syn[:, None] - s_ex[None], axis=2)
    rows = []
    for i, name in enumerate(names):
        two_phase = "two-phase" in name
        rows.append({
            "texture": name, "spectrum_weight": spectrum_weight,
            "final/start loss": f"{losses[i][-1] / losses[i][0]:.4f}",
            "nearest by Eq. 4": bool(d_gram[i].argmin() == i),
            "nearest by Eq. 7": bool(d_spec[i].argmin() == i),
            "phase fraction exemplar": f"{exemplars[i].mean():.3f}" if two_phase else "",
            "phase fraction synthesis": f"{(syntheses[i] > 0.5).mean():.3f}"
            if two_phase else "",
            "max circular xcorr": f"{max_circular_correlation(syntheses[i], exemplars[i]):.3f}",
        })
    return rows, syntheses, exemplars, seconds


def speed(size, n_eval, weights):
    """Seconds per evaluation vs per bare forward+backward; batch of 8 vs 8 single runs."""
    exemplars = np.stack([blobs(size, 2.0 + i, i) for i in range(8)])
    vectorizer = GramTextureVectorizer(weights=weights).fit(exemplars)
    network = vectorizer._network()
    x = torch.rand(8, 3, size, size)

    def bare():
        pixels = x.clone().requires_grad_(True)
        vectors = gram_texture_vectors(network.input_convention.apply(pixels), network,
                                       vectorizer.layer_weights_)
        vectors.square().sum().backward()

    bare()
    start = time.perf_counter()
    for _ in range(3):
        bare()
    bare_seconds = (time.perf_counter() - start) / 3
    start = time.perf_counter()
    synthesize_textures(exemplars, n_iter=n_eval, weights=weights, random_state=0)
    batch_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for image in exemplars:
        synthesize_textures(image[None], n_iter=n_eval, weights=weights, random_state=0)
    single_seconds = time.perf_counter() - start
    # The batched run also computes the targets once (one forward pass): counted in it.
    return [{
        "size": size, "evaluations": n_eval,
        "bare fwd+bwd, batch of 8 (s)": f"{bare_seconds:.3f}",
        "evaluation / bare fwd+bwd": f"{batch_seconds / n_eval / bare_seconds:.2f}",
        "batch of 8 (s per image)": f"{batch_seconds / 8:.2f}",
        "8 single runs (s per image)": f"{single_seconds / 8:.2f}",
        "single / batched per image": f"{single_seconds / batch_seconds:.2f}",
    }]


def panel(columns, size):
    """The Fig. 1-like panel: one row per texture, exemplar | syntheses."""
    from pathlib import Path

    from matplotlib.figure import Figure

    names = list(textures(8))
    figure = Figure(figsize=(2.2 * len(columns), 2.2 * len(names)), layout="constrained")
    axes = figure.subplots(len(names), len(columns), squeeze=False)
    for column, (title, images) in enumerate(columns.items()):
        for row, name in enumerate(names):
            axis = axes[row, column]
            axis.imshow(images[row], cmap="gray", vmin=images[row].min(),
                        vmax=images[row].max())
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(title, fontsize=9)
            if column == 0:
                axis.set_ylabel(name, fontsize=8)
    out = Path(__file__).resolve().parents[1] / "docs" / "_static" / "synthesis"
    out.mkdir(parents=True, exist_ok=True)
    figure.savefig(out / f"fig1_panel_{size}.png", dpi=80)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--n-iter", type=int, default=300)
    parser.add_argument("--weights", default="vgg19_normalized")
    parser.add_argument("--quick", action="store_true", help="64², 60 evaluations")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    size, n_iter = (64, 60) if args.quick else (args.size, args.n_iter)
    rows, names_and_images = [], {}
    for spectrum_weight in (0.0, 1.0):
        result, syntheses, exemplars, seconds = quality(size, n_iter, spectrum_weight,
                                                        args.weights)
        print(f"spectrum_weight={spectrum_weight}: {seconds:.0f} s")
        rows += result
        names_and_images["exemplar"] = exemplars
        names_and_images[f"synthesis, spectrum_weight={spectrum_weight:g}"] = syntheses
        np.savez_compressed(f"benchmarks/results/synthesis_images_sw{spectrum_weight:g}.npz",
                            syntheses=syntheses, exemplars=exemplars)
    write_table("synthesis_quality", rows, title=f"Synthesis quality, {size}², "
                f"{n_iter} evaluations, weights={args.weights}")
    panel(names_and_images, size)
    if not args.skip_speed:
        write_table("synthesis_speed", speed(size, 10, args.weights),
                    title="Synthesis speed (same run)")


if __name__ == "__main__":
    main()
