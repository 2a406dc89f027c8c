"""Texture synthesis quality and speed (issue 14).

Quality: six textures (two-phase blobs at two length scales, two Perlin textures of
different θ and k, binary stripes, a Perlin texture thresholded to two phases), each
synthesised with the normalised VGG-19 at ``--size``² for ``--n-iter`` evaluations, with
and without the power-spectrum term (``spectrum_weight``). Reported per texture: final
loss as a fraction of the starting loss; whether the synthesis is nearest to its own
exemplar by Eq. 4 and by the power spectrum (Eq. 7, which the Gram-only optimiser never
sees); for two-phase exemplars the phase fraction after thresholding at 0.5 against the
exemplar's; the maximum normalised circular cross-correlation with the exemplar (1 for a
shifted copy). The syntheses are saved to ``results/synthesis_images_<size>.npz`` and
drawn as ``docs/_static/synthesis/fig1_panel_<size>.png``; ``--redraw`` redraws the
panel from the saved arrays without synthesising.

Speed (``--parts speed``, same run, ratios) at each of ``--speed-sizes``: one optimiser
evaluation against one bare forward + backward (input gradient) of the same network on
the same batch of 8; a batch of 8 exemplars against 8 single runs, per image.

Time to a given loss (``--parts time-to-loss``) at each of ``--ttl-sizes``: a batch of
``--ttl-textures`` exemplars synthesised for ``--ttl-n-iter`` evaluations, every
evaluation timestamped (a duck-typed progress object handed to the optimiser); the
evaluations and seconds until the relative loss (loss / starting loss) of the batch mean
and of the worst image first falls to 0.1, 0.03, 0.01 and 0.003, also in units of one
bare forward + backward of the network on the same batch, timed in the same run.

The network runs on ``--device`` (``auto``: CUDA where there is one).

    python -m benchmarks.bench_synthesis [--size 96] [--n-iter 300] [--quick]
    python -m benchmarks.bench_synthesis --parts speed time-to-loss \
        --speed-sizes 96 128 256 --ttl-sizes 128 256
    python -m benchmarks.bench_synthesis --redraw [--size 96]
"""

import argparse
import os
import statistics
import sys
import textwrap
import time

import numpy as np
import torch

from benchmarks._table import RESULTS, write_table
from benchmarks._timing import load_note
from sklearn_texture import GramTextureVectorizer, PerlinTextureDataset, power_spectrum
from sklearn_texture._gram_math import gram_texture_vectors
from sklearn_texture._synthesis import BOUNDED_FRACTION, optimise_textures
from sklearn_texture.synthesis import synthesize_textures

#: Relative losses (loss / starting loss) whose first crossing is timed.
THRESHOLDS = (0.1, 0.03, 0.01, 0.003)

#: Exemplars of the time-to-loss batch by default (indices into ``textures``): the
#: slowest two-phase texture and the fastest continuous one of the 96² quality run.
TTL_TEXTURES = (1, 3)


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


class EvaluationClock:
    """Duck-typed progress for ``optimise_textures``: when each evaluation ended.

    The optimiser calls ``set_postfix`` and ``update(1)`` once per evaluation, after its
    forward and backward pass and after copying the losses to the host (so on a GPU
    the stamp follows the device's work). With ``bare``, every ``every``-th evaluation
    is followed by one timed bare forward + backward, so that the two are sampled side
    by side under the same load; the clock pauses for it (``times`` exclude it).
    """

    def __init__(self, bare=None, every=1):
        self.times, self.bare_samples = [], []
        self.bare, self.every, self.paused = bare, every, 0.0

    def update(self, n=1):
        self.times.extend([time.perf_counter() - self.paused] * n)
        if self.bare is not None and len(self.times) % self.every == 0:
            start = time.perf_counter()
            self.bare()
            seconds = time.perf_counter() - start
            self.bare_samples.append((len(self.times) - 1, seconds))
            self.paused += seconds

    def set_postfix(self, *args, **kwargs):
        pass

    def paired_ratios(self):
        """Each bare sample against the mean of the evaluations just before and after
        it (the first evaluation, which follows the optimiser's setup, is skipped)."""
        intervals = np.diff(self.times)  # intervals[k - 1]: evaluation k (0-based)
        ratios = []
        for k, seconds in self.bare_samples:
            around = [intervals[j - 1] for j in (k, k + 1) if 1 <= j <= len(intervals)]
            if around:
                ratios.append(float(np.mean(around)) / seconds)
        return ratios


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_synthesis(exemplars, n_iter, weights, device, bare=None, every=1):
    """``synthesize_textures``' steps with every evaluation timestamped.

    The vectorizer computes the targets (one forward pass), then ``optimise_textures``
    runs as ``synthesize_textures`` runs it for one group of equal shapes (the clock
    samples ``bare`` every ``every`` evaluations, see :class:`EvaluationClock`).
    Returns a dict: ``targets_s`` (fitting and target vectors), ``start``
    (``perf_counter`` when the optimiser was called), ``stamps`` (end of each
    evaluation, bare samples excluded), ``losses`` (``(n_evaluations + 1, B)``, the last
    row the returned images'), ``images``, ``total_s`` (targets and optimiser, bare
    samples excluded), ``clock``.
    """
    begin = time.perf_counter()
    vectorizer = GramTextureVectorizer(weights=weights, device=device)
    targets = vectorizer.fit_transform(exemplars)
    network = vectorizer.get_network()
    start = time.perf_counter()
    clock = EvaluationClock(bare, every)
    images, losses = optimise_textures(
        targets, (*exemplars.shape[1:3], 1), network, vectorizer.layer_weights_,
        n_iter=n_iter, seed=0, device=vectorizer.device_, stretch=True, progress=clock)
    end = time.perf_counter() - clock.paused
    return {"targets_s": start - begin, "start": start, "stamps": np.array(clock.times),
            "losses": losses, "images": images[..., 0], "total_s": end - begin,
            "clock": clock}


def bare_pass(batch, size, weights, device):
    """One bare forward + backward (input gradient) of the network: the optimiser's
    network work without its loss, L-BFGS and host copies. Grey pixels broadcast to RGB
    as the optimiser does."""
    vectorizer = GramTextureVectorizer(weights=weights, device=device).fit(
        np.zeros((1, size, size)))
    network, device = vectorizer.get_network(), vectorizer.device_
    x = torch.rand(batch, 1, size, size, generator=torch.Generator().manual_seed(0)).to(device)

    def run():
        pixels = x.clone().requires_grad_(True)
        rgb = pixels.expand(-1, 3, -1, -1)
        vectors = gram_texture_vectors(network.input_convention.apply(rgb), network,
                                       vectorizer.layer_weights_)
        vectors.square().sum().backward()
        sync(device)

    return run


def evaluation_seconds(run):
    """Median seconds between consecutive evaluations (the first, which follows the
    optimiser's setup, excluded)."""
    return statistics.median(np.diff(run["stamps"]))


def quality(size, n_iter, spectrum_weight, weights, device):
    named = textures(size)
    names, exemplars = list(named), np.stack(list(named.values()))
    start = time.perf_counter()
    syntheses, losses = synthesize_textures(
        exemplars, n_iter=n_iter, weights=weights, spectrum_weight=spectrum_weight,
        random_state=0, return_losses=True, device=device)
    seconds = time.perf_counter() - start
    vectorizer = GramTextureVectorizer(weights=weights, device=device).fit(exemplars)
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
    return rows, syntheses, exemplars, np.stack(losses), seconds


def speed(sizes, n_eval, weights, device):
    """Per size: seconds per evaluation vs per bare forward+backward (batch of 8, one bare
    pass after every evaluation of the batched run); a batch of 8 exemplars vs 8 single
    runs (4 singles, the batch, 4 singles, so that load changes hit both alike)."""
    rows = []
    for size in sizes:
        exemplars = np.stack([blobs(size, 2.0 + i, i) for i in range(8)])
        load_start = os.getloadavg()[0]
        bare = bare_pass(8, size, weights, device)
        bare()  # warm-up
        singles = [timed_synthesis(image[None], n_eval, weights, device)
                   for image in exemplars[:4]]
        batch = timed_synthesis(exemplars, n_eval, weights, device, bare=bare, every=1)
        singles += [timed_synthesis(image[None], n_eval, weights, device)
                    for image in exemplars[4:]]
        bare_seconds = [seconds for _, seconds in batch["clock"].bare_samples]
        single_total = sum(run["total_s"] for run in singles)
        single_eval = statistics.median(evaluation_seconds(run) for run in singles)
        rows.append({
            "size": size, "evaluations": n_eval,
            "bare fwd+bwd, batch of 8 (s)": f"{statistics.median(bare_seconds):.3f}",
            "evaluation, batch of 8 (s)": f"{evaluation_seconds(batch):.3f}",
            "evaluation / bare fwd+bwd":
                f"{statistics.median(batch['clock'].paired_ratios()):.2f}",
            "batch of 8 (s per image)": f"{batch['total_s'] / 8:.2f}",
            "8 single runs (s per image)": f"{single_total / 8:.2f}",
            "single / batched per image": f"{single_total / batch['total_s']:.2f}",
            "single / batched per evaluation and image":
                f"{8 * single_eval / evaluation_seconds(batch):.2f}",
            "load (1 min) start/end": f"{load_start:.1f}/{os.getloadavg()[0]:.1f}",
        })
        print(rows[-1], flush=True)
    return rows


def first_crossing(curve, threshold):
    """Index of the first entry ≤ threshold, or None."""
    below = np.flatnonzero(curve <= threshold)
    return int(below[0]) if below.size else None


def time_to_loss(budgets, names, weights, device, every=10):
    """Per size (``budgets`` maps each side to its evaluations): the batch's time to each
    relative loss, and a summary of the run (a bare forward + backward on the same
    batch after every ``every`` evaluations)."""
    threshold_rows, run_rows = [], []
    for size, n_iter in budgets.items():
        named = textures(size)
        exemplars = np.stack([named[name] for name in names])
        batch = len(names)
        load_start = os.getloadavg()[0]
        bare = bare_pass(batch, size, weights, device)
        bare()  # warm-up
        run = timed_synthesis(exemplars, n_iter, weights, device, bare=bare, every=every)
        bare_seconds = [seconds for _, seconds in run["clock"].bare_samples]
        bare_median = statistics.median(bare_seconds)
        evaluations = len(run["stamps"])
        relative = run["losses"][:evaluations] / run["losses"][0]
        curves = {"batch mean": relative.mean(axis=1), "worst image": relative.max(axis=1)}
        seconds = run["stamps"] - run["start"]
        row_of_size = []
        for threshold in THRESHOLDS:
            row = {"size": size, "exemplars": batch, "relative loss ≤": threshold}
            for label, curve in curves.items():
                index = first_crossing(curve, threshold)
                if index is None:
                    row[f"{label}: evaluations"] = f"not in {evaluations}"
                    row[f"{label}: seconds"] = ""
                    row[f"{label}: ≈ bare fwd+bwd"] = ""
                else:
                    row[f"{label}: evaluations"] = index + 1
                    row[f"{label}: seconds"] = f"{seconds[index]:.1f}"
                    row[f"{label}: ≈ bare fwd+bwd"] = f"{seconds[index] / bare_median:.0f}"
            row_of_size.append(row)
        threshold_rows += row_of_size
        returned = run["losses"][-1] / run["losses"][0]
        run_rows.append({
            "size": size, "exemplars": ", ".join(names), "evaluations": evaluations,
            "bounded from evaluation": evaluations - round(BOUNDED_FRACTION * n_iter) + 1,
            "targets (s)": f"{run['targets_s']:.2f}",
            "optimiser (s)": f"{seconds[-1]:.1f}",
            "bare fwd+bwd, median (s)": f"{bare_median:.3f}",
            "bare samples": len(bare_seconds),
            "evaluation, median (s)": f"{evaluation_seconds(run):.3f}",
            "evaluation / bare fwd+bwd, paired":
                f"{statistics.median(run['clock'].paired_ratios()):.2f}",
            "optimiser / (evaluations × bare)":
                f"{seconds[-1] / evaluations / bare_median:.2f}",
            "last evaluation, mean/worst relative loss":
                f"{curves['batch mean'][-1]:.4f}/{curves['worst image'][-1]:.4f}",
            "returned images, mean/worst relative loss":
                f"{returned.mean():.4f}/{returned.max():.4f}",
            "load (1 min) start/end": f"{load_start:.1f}/{os.getloadavg()[0]:.1f}",
        })
        print(run_rows[-1], flush=True)
        for row in row_of_size:
            print(row, flush=True)
        # The curves behind the table (the images are left out: 0.6 MB at 256²).
        np.savez_compressed(RESULTS / f"synthesis_time_to_loss_{size}.npz",
                            names=np.array(names), losses=run["losses"], seconds=seconds,
                            bare_samples=np.array(run["clock"].bare_samples))
    return threshold_rows, run_rows


def panel(names, columns, size):
    """The Fig. 1-like panel: one row per texture, exemplar | syntheses.

    ``columns`` maps a column title to ``(n_textures, H, W)`` images. Long titles and
    row labels are wrapped so that constrained layout keeps them inside the figure.
    """
    from pathlib import Path

    from matplotlib.figure import Figure

    figure = Figure(figsize=(2.2 * len(columns) + 0.4, 2.2 * len(names)),
                    layout="constrained")
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
                axis.set_ylabel(textwrap.fill(name, 18, break_on_hyphens=False), fontsize=8)
    out = Path(__file__).resolve().parents[1] / "docs" / "_static" / "synthesis"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"fig1_panel_{size}.png"
    figure.savefig(path, dpi=80)
    print(f"wrote {path}")
    return path


def panel_columns(saved):
    columns = {"exemplar": saved["exemplars"]}
    for spectrum_weight, what in ((0, "Gram only"), (1, "Gram + spectrum")):
        columns[f"synthesis, λ={spectrum_weight}\n({what})"] = saved[
            f"syntheses_sw{spectrum_weight}"]
    return columns


def images_path(size):
    return RESULTS / f"synthesis_images_{size}.npz"


def redraw(size):
    with np.load(images_path(size)) as saved:
        return panel([str(name) for name in saved["names"]], panel_columns(saved), size)


def main(quick=False, argv=()):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96, help="side of the quality run")
    parser.add_argument("--n-iter", type=int, default=300,
                        help="evaluations of the quality run")
    parser.add_argument("--weights", default="vgg19_normalized")
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', ...")
    parser.add_argument("--parts", nargs="+", choices=("quality", "speed", "time-to-loss"),
                        default=("quality", "speed"))
    parser.add_argument("--speed-sizes", type=int, nargs="+",
                        help="sides of the speed table (default: --size)")
    parser.add_argument("--speed-n-eval", type=int, default=10)
    parser.add_argument("--ttl-sizes", type=int, nargs="+", default=(128, 256))
    parser.add_argument("--ttl-n-iter", type=int, nargs="+", default=(300,),
                        help="evaluations of the time-to-loss runs: one, or one per size")
    parser.add_argument("--ttl-textures", type=int, nargs="+", default=TTL_TEXTURES,
                        help="indices of the time-to-loss exemplars (0-5)")
    parser.add_argument("--skip-speed", action="store_true",
                        help="drop 'speed' from --parts")
    parser.add_argument("--redraw", action="store_true",
                        help="only redraw the panel from results/synthesis_images_<size>.npz")
    parser.add_argument("--quick", action="store_true",
                        help="64²: quality 60 evaluations, speed 64², time to loss 64² with "
                             "60 evaluations")
    args = parser.parse_args(list(argv) + (["--quick"] if quick else []))
    if args.redraw:
        redraw(args.size)
        return
    device = args.device
    if args.quick:
        args.size, args.n_iter, args.ttl_sizes, args.ttl_n_iter = 64, 60, [64], [60]
    parts = set(args.parts) - ({"speed"} if args.skip_speed else set())
    gpu = torch.cuda.is_available() and device != "cpu"
    no_gpu = ("" if gpu else
              "Measured on the CPU: this machine has no GPU (none was lent to the task "
              "that ran this); `--device cuda` measures one where it exists. ")
    if "time-to-loss" in parts:
        all_names = list(textures(8))
        names = [all_names[i] for i in args.ttl_textures]
        before = load_note("before")
        if len(args.ttl_n_iter) not in (1, len(args.ttl_sizes)):
            parser.error("--ttl-n-iter takes one value or one per --ttl-sizes")
        budgets = dict(zip(args.ttl_sizes, args.ttl_n_iter * len(args.ttl_sizes)
                           if len(args.ttl_n_iter) == 1 else args.ttl_n_iter, strict=True))
        threshold_rows, run_rows = time_to_loss(budgets, names, args.weights, device)
        notes = (
            f"{no_gpu}Seconds from the start of the optimiser (the target vectors, one "
            "forward pass, are computed before: 'targets' in the runs table); relative "
            "loss = loss / loss of the starting noise, per image; 'batch mean' is the "
            "mean of the batch's relative losses, 'worst image' their maximum; "
            "'≈ bare fwd+bwd' divides by the median bare forward + backward pass of the "
            "network on the same batch, one timed after every 10th evaluation during the "
            "synthesis (excluded from its seconds); 'paired' is the median over those "
            "samples of (mean of the evaluations just before and after) / sample. The "
            "optimiser's pixels are free (with a range penalty) for the first "
            f"{1 - BOUNDED_FRACTION:.0%} of the evaluations, so a crossing before that "
            "does not depend on the budget. "
            f"{before} {load_note('after')}")
        write_table("synthesis_time_to_loss", threshold_rows,
                    title="Synthesis: time to a relative loss (" + ", ".join(
                        f"{n} evaluations at {size}²" for size, n in budgets.items())
                    + f"; weights={args.weights}, paper layers)", notes=notes)
        write_table("synthesis_time_to_loss_runs", run_rows,
                    title="Synthesis: the time-to-loss runs against a bare forward + "
                    "backward (same run)", notes=notes)
    if "speed" in parts:
        before = load_note("before")
        rows = speed(args.speed_sizes or [args.size], args.speed_n_eval, args.weights,
                     device)
        write_table("synthesis_speed", rows, title="Synthesis speed (same run)", notes=(
            f"{no_gpu}Batch of 8 two-phase blob exemplars (σ = 2..9 px). 'evaluation' is "
            "the median interval between the optimiser's evaluations; 'bare fwd+bwd' the "
            "median of the bare passes on the same batch, one timed after each evaluation "
            "of the batched run (excluded from its time); 'evaluation / bare' the median "
            "over those of (mean of the evaluations just before and after) / pass. Per "
            "image: whole runs (targets and optimiser); 4 single runs, the batch, then 4 "
            "single runs. "
            f"{before} {load_note('after')}"))
    if "quality" in parts:
        before = load_note("before")
        rows, saved = [], {}
        for spectrum_weight in (0, 1):
            result, syntheses, exemplars, losses, seconds = quality(
                args.size, args.n_iter, float(spectrum_weight), args.weights, device)
            print(f"spectrum_weight={spectrum_weight}: {seconds:.0f} s", flush=True)
            rows += result
            saved["exemplars"] = exemplars.astype(np.float32)
            saved[f"syntheses_sw{spectrum_weight}"] = syntheses
            saved[f"losses_sw{spectrum_weight}"] = losses
            saved[f"seconds_sw{spectrum_weight}"] = seconds
        saved["names"] = np.array(list(textures(8)))
        np.savez_compressed(images_path(args.size), **saved)
        write_table("synthesis_quality", rows, title=f"Synthesis quality, {args.size}², "
                    f"{args.n_iter} evaluations, weights={args.weights}", notes=(
                        f"{no_gpu}Six exemplars in one batch: "
                        f"{saved['seconds_sw0']:.0f} s with spectrum_weight 0, "
                        f"{saved['seconds_sw1']:.0f} s with 1. "
                        f"{before} {load_note('after')}"))
        redraw(args.size)


if __name__ == "__main__":
    main(argv=sys.argv[1:])
