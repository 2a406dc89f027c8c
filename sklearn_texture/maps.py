"""Maps that last: a texture map saved as a folder, new images placed on it, and the
paper's Table I analysis (Eq. 13, 14) for a user's own parameters.

A map folder (``sklearn-texture embed FOLDER --out MAP``) holds

* ``coordinates.csv``: one row per image, ``file``, ``mds_1`` ... ``mds_D`` (and
  ``role`` in a map with placed images: ``map`` for the images the map was fitted on,
  ``placed`` for images placed on it later);
* ``vectors.npy``: the texture vectors, rows in the order of ``coordinates.csv``;
* ``distances.npy``: their texture distances (Eq. 4 or Eq. 7), in the same order;
* ``model.joblib``: the fitted pipeline, vectorizer then
  :class:`~sklearn_texture.LandmarkMDS`, that places new images (no network inside:
  the vectorizer loads it when it runs);
* ``thumbnails.json``: a small PNG of each image (data URIs), for the report;
* ``settings.json``: how the map was made (method, weights and their identity,
  package versions, seed, options).

The map is classical (Torgerson) MDS of the texture distances, computed by
:class:`~sklearn_texture.LandmarkMDS` with every image a landmark. Placing an image by
triangulation then gives each image the map was fitted on its own coordinates again
(up to rounding), so images placed later lie in the same map as the originals, and the
map is never refitted. (``reproduce`` uses metric SMACOF MDS, as the paper does; for
the maps of ``embed`` classical MDS is what makes placement exact.)

Loading a map unpickles ``model.joblib``: load only maps you made or trust.
"""

import base64
import csv
import io
import json
import logging
import math
import platform
import re
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path, PurePath

import numpy as np

__all__ = ["MAP_FILES", "MAX_ANALYSIS_DIMENSIONS", "DimensionAnalysis", "Labels",
           "TextureMap", "decode_thumbnail", "describe_r2", "dimension_analysis",
           "encode_thumbnail", "fit_map", "load_map", "match_labels", "package_versions",
           "place_images", "place_vectors", "read_labels", "save_map", "weights_identity"]

logger = logging.getLogger(__name__)

#: The files every map folder holds (``coordinates.csv`` first: it is written first).
MAP_FILES = ("coordinates.csv", "vectors.npy", "distances.npy", "model.joblib",
             "thumbnails.json", "settings.json")

#: Table I of the paper goes up to D* = 10; so does :func:`dimension_analysis`.
MAX_ANALYSIS_DIMENSIONS = 10

ROLE_MAP, ROLE_PLACED = "map", "placed"
_DATA_URI = "data:image/png;base64,"

# The packages whose versions decide a map's numbers.
_VERSIONED = ("sklearn-texture", "numpy", "scipy", "scikit-learn", "torch", "torchvision",
              "pillow", "joblib", "tifffile", "imagecodecs")


# ---------------------------------------------------------------- identity and versions


def package_versions():
    """Versions of Python and of the packages that decide a map's numbers.

    Returns
    -------
    versions : dict of str to str
        ``{"python": ..., "numpy": ..., ...}``; packages that are not installed are
        left out.
    """
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def weights_identity(vectorizer):
    """What identifies the network weights behind a fitted vectorizer's texture vectors.

    Two maps whose identities differ were made with different weights: their texture
    vectors, and so their coordinates, are not comparable.

    Parameters
    ----------
    vectorizer : GramTextureVectorizer or PowerSpectrumVectorizer
        A fitted vectorizer.

    Returns
    -------
    identity : dict
        ``{"method": "ps"}`` for power spectra (no weights); for the CNN the weights'
        name and: the pinned sha256 of the normalised VGG-19, torchvision's weights
        file for ``vgg19_imagenet``, the network seed for ``random``, or the sha256 of
        a weights file (read now) and its path.

    Raises
    ------
    OSError
        If a weights file cannot be read.
    """
    if not hasattr(vectorizer, "weights"):
        return {"method": "ps"}
    from sklearn_texture.backbones import sort_layers

    weights = vectorizer.weights
    # The layers in network order, as a fitted vectorizer uses them (fitted or not).
    identity = {"method": "cnn", "weights": str(weights),
                "layers": list(sort_layers(vectorizer.layers)),
                "pooling": vectorizer.pooling}
    if weights == "vgg19_normalized":
        from sklearn_texture.backbones import NORMALIZED_VGG19_SAFETENSORS_SHA256

        identity["sha256"] = NORMALIZED_VGG19_SAFETENSORS_SHA256
    elif weights == "vgg19_imagenet":
        from torchvision.models import VGG19_Weights

        identity["source"] = VGG19_Weights.IMAGENET1K_V1.url
    elif weights == "random":
        identity["seed"] = int(vectorizer.network_seed_)
    else:
        import hashlib

        path = Path(weights).expanduser().resolve()
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 24), b""):
                digest.update(block)
        identity.update(weights=str(path), sha256=digest.hexdigest())
    return identity


# ---------------------------------------------------------------- the map


@dataclass
class TextureMap:
    """A texture map: images, their coordinates, vectors, distances and the model.

    Parameters
    ----------
    names : list of str
        The images' names (files, as read).
    coordinates : ndarray of shape (n_images, n_components)
        Their coordinates in the map.
    vectors : ndarray of shape (n_images, n_features)
        Their texture vectors.
    distances : ndarray of shape (n_images, n_images)
        Their texture distances.
    model : sklearn.pipeline.Pipeline
        The fitted vectorizer and :class:`~sklearn_texture.LandmarkMDS`.
    roles : list of str
        ``"map"`` for each image the map was fitted on (its landmarks, which come
        first), ``"placed"`` for images placed on it later.
    thumbnails : list of str
        A PNG data URI of each image (see :func:`encode_thumbnail`).
    settings : dict
        How the map was made (written to ``settings.json``).
    """

    names: list
    coordinates: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray
    model: object
    roles: list
    thumbnails: list
    settings: dict = field(default_factory=dict)

    @property
    def n_components(self):
        """int: The dimension of the map."""
        return self.coordinates.shape[1]

    @property
    def landmarks(self):
        """ndarray of int: Indices of the images the map was fitted on."""
        return np.flatnonzero(np.asarray(self.roles) == ROLE_MAP)


def encode_thumbnail(pixels):
    """A thumbnail as a PNG data URI, for an HTML page.

    Parameters
    ----------
    pixels : ndarray of shape (height, width) or (height, width, 3), uint8
        The thumbnail (e.g. :func:`sklearn_texture.io.thumbnail` of an image).

    Returns
    -------
    uri : str
        ``data:image/png;base64,...``.
    """
    from PIL import Image

    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"a thumbnail must be a 2-D or RGB uint8 array; got {pixels.dtype} "
                         f"of shape {pixels.shape}.")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    return _DATA_URI + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_thumbnail(uri):
    """The pixels of a thumbnail written by :func:`encode_thumbnail`.

    Parameters
    ----------
    uri : str
        A PNG data URI.

    Returns
    -------
    pixels : ndarray of shape (height, width) or (height, width, 3), float64
        Intensities in [0, 1].
    """
    from PIL import Image

    if not isinstance(uri, str) or not uri.startswith(_DATA_URI):
        raise ValueError("not a PNG data URI.")
    with Image.open(io.BytesIO(base64.b64decode(uri[len(_DATA_URI):]))) as image:
        return np.asarray(image, dtype=np.float64) / 255.0


def fit_map(vectors, names, vectorizer, n_components, *, settings=None):
    """The classical MDS map of texture vectors, with the model that places new images.

    Parameters
    ----------
    vectors : ndarray of shape (n_images, n_features)
        Texture vectors of the images, from ``vectorizer``.
    names : list of str
        A name for each image.
    vectorizer : GramTextureVectorizer or PowerSpectrumVectorizer
        The fitted vectorizer that made ``vectors``; it becomes the first step of the
        map's model.
    n_components : int
        Dimension of the map.
    settings : dict or None, default=None
        How the map was made; the weights' identity (:func:`weights_identity`) and
        :func:`package_versions` are added to a copy.

    Returns
    -------
    texture_map : TextureMap
        With no thumbnails yet.

    Raises
    ------
    ValueError
        If there are fewer than ``n_components + 1`` images, or their texture
        distances span fewer than ``n_components`` dimensions (e.g. identical images).
    """
    from sklearn.pipeline import Pipeline

    from sklearn_texture.distances import texture_distances
    from sklearn_texture.embedding import LandmarkMDS

    n_images = len(names)
    if len(vectors) != n_images:
        raise ValueError(f"got {len(vectors)} texture vectors for {n_images} names.")
    if n_images < n_components + 1:
        raise ValueError(f"a {n_components}-dimensional map needs at least "
                         f"{n_components + 1} images; got {n_images}.")
    logger.info("texture distances and classical MDS of %d images into %d dimension(s)",
                n_images, n_components)
    distances = texture_distances(vectors)
    mds = LandmarkMDS(n_components=n_components)
    try:
        coordinates = mds.fit_transform(vectors)
    except ValueError as error:
        raise ValueError(f"cannot make a {n_components}-dimensional map of these "
                         f"{n_images} images: {error}") from None
    model = Pipeline([("vectorizer", vectorizer), ("mds", mds)])
    settings = {**(settings or {}), "weights_identity": weights_identity(vectorizer),
                "versions": package_versions()}
    return TextureMap(list(names), coordinates, np.asarray(vectors), distances, model,
                      [ROLE_MAP] * n_images, [], settings)


def place_vectors(texture_map, vectors, names):
    """Place new images, given their texture vectors, on a map without refitting it.

    Parameters
    ----------
    texture_map : TextureMap
        The map (e.g. from :func:`load_map`).
    vectors : ndarray of shape (n_new, n_features)
        Texture vectors of the new images, from the map's vectorizer
        (``texture_map.model[0].transform``).
    names : list of str
        A name for each new image.

    Returns
    -------
    texture_map : TextureMap
        A new map holding the old images (unchanged) and then the new ones, with the
        role ``"placed"``; its thumbnails are the old ones only (append the new ones).
    """
    from sklearn_texture.distances import texture_distances

    if len(vectors) != len(names):
        raise ValueError(f"got {len(vectors)} texture vectors for {len(names)} names.")
    logger.info("placing %d images on a map of %d", len(names), len(texture_map.names))
    coordinates = texture_map.model[-1].transform(vectors)
    old = texture_map.vectors
    cross = texture_distances(vectors, old)
    within = texture_distances(vectors)
    distances = np.block([[texture_map.distances, cross.T], [cross, within]])
    return replace(
        texture_map, names=[*texture_map.names, *names],
        coordinates=np.vstack([texture_map.coordinates, coordinates]),
        vectors=np.vstack([old, np.asarray(vectors).astype(old.dtype, copy=False)]),
        distances=distances, roles=[*texture_map.roles, *[ROLE_PLACED] * len(names)],
        thumbnails=list(texture_map.thumbnails), settings=dict(texture_map.settings))


def place_images(texture_map, images, names):
    """Place new images on a map with its saved model, without refitting it.

    Parameters
    ----------
    texture_map : TextureMap
        The map (e.g. from :func:`load_map`).
    images : list of ndarray or ndarray
        The new images, as the map's vectorizer takes them.
    names : list of str
        A name for each new image.

    Returns
    -------
    texture_map : TextureMap
        As :func:`place_vectors` returns it.
    """
    logger.info("texture vectors of %d new images", len(names))
    return place_vectors(texture_map, texture_map.model[0].transform(images), names)


def save_map(texture_map, folder):
    """Write a map's files (:data:`MAP_FILES`) into ``folder``, coordinates first.

    Parameters
    ----------
    texture_map : TextureMap
        The map; it must have one thumbnail per image.
    folder : str or path-like
        An existing folder (the command line writes into a staging folder that
        becomes the output folder whole).
    """
    import joblib

    from sklearn_texture.reports import write_csv, write_settings

    folder = Path(folder)
    if len(texture_map.thumbnails) != len(texture_map.names):
        raise ValueError(f"the map has {len(texture_map.names)} images but "
                         f"{len(texture_map.thumbnails)} thumbnails.")
    placed = ROLE_PLACED in texture_map.roles
    rows = []
    for name, point, role in zip(texture_map.names, texture_map.coordinates,
                                 texture_map.roles, strict=True):
        row = {"file": name, **{f"mds_{j + 1}": float(v) for j, v in enumerate(point)}}
        if placed:
            row["role"] = role
        rows.append(row)
    write_csv(rows, folder / "coordinates.csv")
    np.save(folder / "vectors.npy", texture_map.vectors)
    np.save(folder / "distances.npy", texture_map.distances)
    joblib.dump(texture_map.model, folder / "model.joblib")
    (folder / "thumbnails.json").write_text(json.dumps(texture_map.thumbnails) + "\n")
    write_settings(texture_map.settings, folder / "settings.json")


def _not_a_map(folder, why):
    return ValueError(f"{folder} is not a map made by `sklearn-texture embed` ({why}).")


def load_map(folder):
    """Read a map folder written by ``sklearn-texture embed`` and check it is whole.

    Parameters
    ----------
    folder : str or path-like
        The map folder. Its ``model.joblib`` is unpickled: load only maps you trust.

    Returns
    -------
    texture_map : TextureMap

    Raises
    ------
    ValueError
        If ``folder`` is not a map: a file is missing or unreadable, or the files do
        not describe the same images (the message names the problem).
    """
    import joblib
    from sklearn.pipeline import Pipeline

    from sklearn_texture.embedding import LandmarkMDS

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder (a map made by `sklearn-texture "
                         "embed --out MAP` is).")
    missing = [name for name in MAP_FILES if not (folder / name).is_file()]
    if missing:
        raise _not_a_map(folder, f"no {', '.join(missing)}")
    try:
        settings = json.loads((folder / "settings.json").read_text())
    except (OSError, ValueError) as error:
        raise _not_a_map(folder, f"settings.json is not readable JSON: {error}") from None
    if not isinstance(settings, dict) or settings.get("command") != "embed" or \
            "method" not in settings:
        raise _not_a_map(folder, "settings.json is not that of an embed run")
    try:
        with open(folder / "coordinates.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns = list(rows[0]) if rows else []
        dims = [c for c in columns if c.startswith("mds_")]
        names = [row["file"] for row in rows]
        coordinates = np.array([[float(row[c]) for c in dims] for row in rows])
        roles = [row.get("role") or ROLE_MAP for row in rows]
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        distances = np.load(folder / "distances.npy", allow_pickle=False)
        thumbnails = json.loads((folder / "thumbnails.json").read_text())
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise _not_a_map(folder, f"unreadable file: {error}") from None
    try:
        model = joblib.load(folder / "model.joblib")
    except Exception as error:  # unpickling can fail in any way
        raise _not_a_map(folder, f"model.joblib cannot be loaded: "
                         f"{type(error).__name__}: {error}") from None
    n = len(names)
    problems = []
    if not n or not dims or dims != [f"mds_{j + 1}" for j in range(len(dims))]:
        problems.append("coordinates.csv has no rows or no mds_1, mds_2, ... columns")
    elif not np.isfinite(coordinates).all():
        problems.append("coordinates.csv has coordinates that are not finite numbers")
    elif vectors.ndim != 2 or len(vectors) != n:
        problems.append(f"vectors.npy has shape {vectors.shape}, not {n} rows")
    elif distances.shape != (n, n):
        problems.append(f"distances.npy has shape {distances.shape}, not ({n}, {n})")
    elif not isinstance(thumbnails, list) or len(thumbnails) != n:
        problems.append(f"thumbnails.json does not hold {n} thumbnails")
    elif set(roles) - {ROLE_MAP, ROLE_PLACED}:
        problems.append(f"coordinates.csv has roles other than {ROLE_MAP!r}/{ROLE_PLACED!r}")
    elif not (isinstance(model, Pipeline) and isinstance(model[-1], LandmarkMDS)):
        problems.append("model.joblib is not a vectorizer + LandmarkMDS pipeline")
    else:
        mds = model[-1]
        landmarks = np.flatnonzero(np.asarray(roles) == ROLE_MAP)
        if mds.n_components != len(dims) or settings.get("n_components") != len(dims):
            problems.append(f"model.joblib maps into {mds.n_components} dimensions, "
                            f"coordinates.csv has {len(dims)}")
        elif not np.array_equal(landmarks, np.arange(len(landmarks))) or \
                not np.array_equal(getattr(mds, "landmarks_", None), vectors[landmarks]):
            problems.append("vectors.npy does not hold the model's landmarks")
    if problems:
        raise _not_a_map(folder, problems[0])
    return TextureMap(names, coordinates, vectors, distances, model, roles, thumbnails,
                      settings)


# ---------------------------------------------------------------- labels


@dataclass
class Labels:
    """Numeric parameters of images, read from a CSV by :func:`read_labels`.

    Parameters
    ----------
    path : str
        The CSV file.
    columns : list of str
        The parameters' names (the CSV's columns other than ``file``).
    files : list of str
        The ``file`` of each row.
    values : ndarray of shape (n_rows, n_columns)
        The parameters; NaN where a cell was empty.
    """

    path: str
    columns: list
    files: list
    values: np.ndarray


def read_labels(path):
    """Read a labels CSV: a ``file`` column and numeric columns (parameters).

    Empty cells are missing values (NaN). Everything else must be a finite number.

    Parameters
    ----------
    path : str or path-like
        The CSV file (UTF-8, comma separated, one header row).

    Returns
    -------
    labels : Labels

    Raises
    ------
    ValueError
        If the file cannot be read, has no ``file`` column or no other column, repeats
        a column or a file, leaves a ``file`` empty, or has a cell that is not a finite
        number; the message names the row and column.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            body = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"labels file {path} cannot be read ({error}).") from None
    if not header:
        raise ValueError(f"labels file {path} is empty; it needs a header row with a "
                         "'file' column and numeric columns.")
    header = [name.strip() for name in header]
    if "file" not in header:
        raise ValueError(f"labels file {path} has no 'file' column (columns: "
                         f"{', '.join(map(repr, header))}).")
    seen = set()
    for name in header:
        if name in seen or not name:
            what = "an empty column name" if not name else f"the column {name!r} twice"
            raise ValueError(f"labels file {path} has {what}.")
        seen.add(name)
    key = header.index("file")
    columns = [name for name in header if name != "file"]
    if not columns:
        raise ValueError(f"labels file {path} has no numeric columns besides 'file'.")
    files, values, first_row = [], [], {}
    for number, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            raise ValueError(f"labels file {path}, line {number}: {len(row)} cells, but the "
                             f"header has {len(header)}.")
        file = row[key].strip()
        if not file:
            raise ValueError(f"labels file {path}, line {number}: the 'file' cell is empty.")
        if file in first_row:
            raise ValueError(f"labels file {path} names {file!r} twice (lines "
                             f"{first_row[file]} and {number}).")
        first_row[file] = number
        numbers = []
        for name, cell in zip(header, row, strict=True):
            if name == "file":
                continue
            cell = cell.strip()
            try:
                value = float(cell) if cell else math.nan
            except ValueError:
                raise ValueError(
                    f"labels file {path}, line {number} ({file}), column {name!r}: {cell!r} "
                    "is not a number (every column but 'file' must hold numbers; leave a "
                    "cell empty for a missing value).") from None
            if math.isinf(value) or (cell and math.isnan(value)):
                raise ValueError(f"labels file {path}, line {number} ({file}), column "
                                 f"{name!r}: {cell!r} is not a finite number.")
            numbers.append(value)
        files.append(file)
        values.append(numbers)
    if not files:
        raise ValueError(f"labels file {path} has a header but no rows.")
    return Labels(str(path), columns, files, np.array(values, dtype=np.float64))


_PAGE = re.compile(r"(.*)\[\d+\]")  # page k of a multi-page file: "name.tif[k]"


def _file_of(name):
    """The file of an image name: ``a.tif[3]`` -> ``a.tif``."""
    page = _PAGE.fullmatch(name)
    return page[1] if page else name


def _name_parts(name):
    """The path components of an image name (``dir/a.tif[2]`` -> ``("dir", "a.tif[2]")``)."""
    return PurePath(name.replace("\\", "/")).parts


def _matches(label_file, name):
    """Whether a labels ``file`` names the image ``name``: equal, or its last components."""
    wanted, parts = _name_parts(label_file), _name_parts(name)
    return len(wanted) <= len(parts) and parts[len(parts) - len(wanted):] == wanted


def match_labels(labels, names, *, skipped=()):
    """The labels' values for each image, matched on the ``file`` column.

    A ``file`` names an image when it equals the image's name or its last path
    components (``a.png`` and ``run1/a.png`` both name ``data/run1/a.png``).

    Parameters
    ----------
    labels : Labels
        From :func:`read_labels`.
    names : list of str
        The images' names.
    skipped : iterable of str, default=()
        Files that were found but could not be read: rows naming them are ignored.

    Returns
    -------
    values : ndarray of shape (n_images, n_columns)
        NaN for an image that has no row (or an empty cell).

    Raises
    ------
    ValueError
        If a row names no image (a missing file) or several images, or two rows name
        the same image.
    """
    index = {}
    for name_index, name in enumerate(names):
        index.setdefault(_name_parts(name)[-1] if _name_parts(name) else name,
                         []).append(name_index)
    values = np.full((len(names), len(labels.columns)), np.nan)
    owner = {}
    missing = []
    for row, file in enumerate(labels.files):
        parts = _name_parts(file)
        candidates = [i for i in index.get(parts[-1] if parts else file, ())
                      if _matches(file, names[i])]
        pages = not candidates
        if pages:  # a multi-page file: the row holds for each of its pages
            candidates = [i for i, name in enumerate(names) if _PAGE.fullmatch(name)
                          and _matches(file, _file_of(name))]
        if not candidates:
            if not any(_matches(file, _file_of(str(name))) for name in skipped):
                missing.append(file)
            continue
        if len({_file_of(names[i]) if pages else names[i] for i in candidates}) > 1:
            shown = ", ".join(names[i] for i in candidates[:3])
            raise ValueError(f"labels file {labels.path}: {file!r} names {len(candidates)} "
                             f"images ({shown}); give more of its path.")
        for image in candidates:  # one file (also placed on a map that holds it: twice)
            if image in owner:
                raise ValueError(f"labels file {labels.path}: {owner[image]!r} and {file!r} "
                                 f"both name the image {names[image]}.")
            owner[image] = file
            values[image] = labels.values[row]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ValueError(f"labels file {labels.path} names {len(missing)} file(s) that are "
                         f"not among the images: {shown}{more}.")
    unlabelled = int(np.isnan(values).all(axis=1).sum())
    if unlabelled:
        logger.info("%d of %d images have no row in %s", unlabelled, len(names), labels.path)
    return values


# ---------------------------------------------------------------- Table I for the user


@dataclass
class DimensionAnalysis:
    """Stress and Table I (Eq. 13, 14) of a map's images at each dimension D*.

    Parameters
    ----------
    dimensions : list of int
        D* = 1, 2, ... up to the largest the images allow (at most 10).
    embedding : ndarray of shape (n_images, max(dimensions))
        Classical MDS coordinates; the first D* columns are the D*-dimensional map.
    stress : list of float
        Kruskal's stress (Eq. 8) at each D*.
    rows : list of dict
        One row per D* (``D*``, ``stress``, ``R2_<column>``, ``angle_<a>_<b>``), as
        ``r2.csv`` holds them; NaN where a value is undefined.
    notes : dict of str to str
        Why a column's R² or a pair's angle is undefined.
    counts : dict of str to int
        Images with a value, per column.
    """

    dimensions: list
    embedding: np.ndarray
    stress: list
    rows: list
    notes: dict
    counts: dict


def _map_embedding(texture_map, max_dimensions):
    """Classical MDS coordinates of every image in up to ``max_dimensions`` dimensions.

    The landmarks' map is refitted from their distances at the largest feasible
    dimension; its first ``n_components`` columns are the saved map (up to rounding).
    """
    from sklearn_texture.embedding import LandmarkMDS

    landmarks = texture_map.landmarks
    distances = texture_map.distances
    fitted = distances[np.ix_(landmarks, landmarks)]
    for dims in range(min(max_dimensions, len(landmarks) - 1), 0, -1):
        try:
            mds = LandmarkMDS(n_components=dims, metric="precomputed").fit(fitted)
        except ValueError:  # fewer positive eigenvalues than dims
            continue
        return mds.transform(distances[:, landmarks])
    raise ValueError("the texture distances span no dimension (all images identical?).")


def dimension_analysis(texture_map, values=None, columns=(), *,
                       max_dimensions=MAX_ANALYSIS_DIMENSIONS):
    """Stress, and R² (Eq. 13) and regression angles (Eq. 14) of parameters, per D*.

    The paper's Table I for any parameters: for D* = 1, 2, ... the images' classical
    MDS map in D* dimensions, Kruskal's stress of it, the R² of a linear model of
    each parameter (:func:`~sklearn_texture.linear_r2`) and the angle between the
    regression directions of each pair of parameters
    (:func:`~sklearn_texture.metrics.regression_angle`). Each parameter uses the
    images that have a value for it.

    Parameters
    ----------
    texture_map : TextureMap
        The map (placed images included).
    values : ndarray of shape (n_images, n_columns) or None, default=None
        Parameters of the images (NaN where unknown), e.g. from :func:`match_labels`.
    columns : sequence of str, default=()
        Their names.
    max_dimensions : int, default=10
        The largest D*; fewer if the images span fewer dimensions (at most
        ``n_landmarks - 1``).

    Returns
    -------
    analysis : DimensionAnalysis
    """
    from sklearn_texture.metrics import kruskal_stress, linear_r2, regression_angle

    embedding = _map_embedding(texture_map, max_dimensions)
    dimensions = list(range(1, embedding.shape[1] + 1))
    values = np.empty((len(embedding), 0)) if values is None else np.asarray(values, float)
    columns = list(columns)
    notes, counts = {}, {}
    stress = [kruskal_stress(texture_map.distances, embedding[:, :d]) for d in dimensions]
    rows = [{"D*": d, "stress": s} for d, s in zip(dimensions, stress, strict=True)]
    for k, column in enumerate(columns):
        known = np.isfinite(values[:, k])
        counts[column] = int(known.sum())
        for row in rows:
            d = row["D*"]
            row[f"R2_{column}"] = math.nan
            if known.sum() < d + 2:
                notes.setdefault(column, f"{int(known.sum())} images have a value; R² at "
                                 f"D* = {d} needs at least {d + 2}")
                continue
            try:
                row[f"R2_{column}"] = float(linear_r2(embedding[known, :d], values[known, k]))
            except ValueError as error:
                notes.setdefault(column, str(error))
    for a in range(len(columns)):
        for b in range(a + 1, len(columns)):
            both = np.isfinite(values[:, a]) & np.isfinite(values[:, b])
            key = f"angle_{columns[a]}_{columns[b]}"
            for row in rows:
                row[key] = math.nan
                if both.sum() < row["D*"] + 2:
                    continue
                try:
                    row[key] = regression_angle(embedding[both, :row["D*"]],
                                                values[both, a], values[both, b])
                except ValueError as error:
                    notes.setdefault(key, str(error))
    return DimensionAnalysis(dimensions, embedding, stress, rows, notes, counts)


def _verdict(adjusted):
    if adjusted >= 0.8:
        return "shows strongly in the textures"
    if adjusted >= 0.5:
        return "shows clearly in the textures"
    if adjusted >= 0.2:
        return "shows weakly in the textures"
    return "shows no clear linear trend in the textures"


def describe_r2(analysis, columns, n_components):
    """One plain-language sentence per parameter about its R² (Eq. 13).

    Parameters
    ----------
    analysis : DimensionAnalysis
        From :func:`dimension_analysis`.
    columns : sequence of str
        The parameters.
    n_components : int
        The dimension of the map the user looks at.

    Returns
    -------
    lines : list of str
    """
    lines = []
    for column in columns:
        n = analysis.counts.get(column, 0)
        r2 = {row["D*"]: row[f"R2_{column}"] for row in analysis.rows}
        defined = {d: v for d, v in r2.items() if not math.isnan(v)}
        if not defined:
            why = analysis.notes.get(column, "no R² could be computed")
            lines.append(f"{column}: R² is undefined ({why}).")
            continue
        # Adjusted R²: a column of random numbers scores R² ≈ D*/(n-1) by chance.
        adjusted = {d: 1 - (1 - v) * (n - 1) / (n - d - 1) for d, v in defined.items()}
        best = max(adjusted, key=adjusted.get)
        shown = n_components if n_components in defined else min(defined)
        text = (f"{column}: a linear model of the {shown}-D map explains "
                f"{100 * max(defined[shown], 0):.0f} % of its variation over {n} images "
                f"(R² = {defined[shown]:.2f}; about {shown / (n - 1):.2f} by chance)")
        if best != shown:
            text += (f"; with {best} dimension{'s' if best > 1 else ''} "
                     f"{100 * max(defined[best], 0):.0f} % "
                     f"(R² = {defined[best]:.2f})")
        lines.append(f"{text}. It {_verdict(adjusted[best])}.")
    return lines
