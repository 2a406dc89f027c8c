"""Read a user's micrographs losslessly: TIFF, PNG, JPEG, BMP and NumPy ``.npy`` files.

Every image is returned with the values stored in the file, in their own dtype: an 8-bit
image stays ``uint8``, a 16-bit one ``uint16`` (whatever its byte order), a 32-bit float
one ``float32``; the one intensity mapping onto [0, 1] happens later, in the
vectorizers (``uint8`` as 0-255, ``uint16`` as 0-65535, other types by their own
minimum and maximum; see :mod:`sklearn_texture._images`). Nothing is quantised,
rescaled or converted to grey on reading.

Formats and readers

* TIFF (``.tif``, ``.tiff``, ``.btf``, ``.tf2``, ``.tf8``) by ``tifffile``, with
  ``imagecodecs`` for compressed files: every bit depth, signed and float samples, both
  byte orders, ImageJ and OME metadata. Palette images get their colour map (16-bit
  RGB, or grey when the map is grey); ``MinIsWhite`` unsigned images are inverted
  (``max - value``, lossless). CMYK, CIE L*a*b*, colour-filter-array (raw Bayer) and
  other colour spaces are refused with the reason. Reduced-resolution copies
  (pyramid levels, thumbnail pages marked as such) are not images of their own and are
  not read; one that tifffile does not attach to its image is skipped with that reason.
* PNG, JPEG and BMP by Pillow; 16-bit PNG (grey or colour) by ``imagecodecs``, since
  Pillow cuts 16-bit colour PNG to 8 bits. Palette images are read as their RGB colours
  (grey when the palette is grey); 1-bit images as ``bool``.
* ``.npy`` by :func:`numpy.load` with ``allow_pickle=False`` (a file holding Python
  objects is refused, never unpickled). A 2-D array is one grey image; a 3-D array
  whose last axis has 1, 3 or 4 entries is one ``(H, W, C)`` image; any other 3-D
  array is a stack ``(N, H, W)`` of N grey images; a 4-D array ``(N, H, W, C)`` a stack
  of N images with channels.

The format is recognised from the file's first bytes, not its name. In folders, files
with one of :data:`IMAGE_SUFFIXES` are read; files of microscope and other image formats
this module does not read (:data:`UNSUPPORTED_FORMATS`, e.g. Gatan ``.dm3``) are listed
as skipped with the reason; other files (notes, tables) are not images and are left out.

Pages and channels

A file holding several images (TIFF pages or an ImageJ/OME hyperstack, PNG/JPEG
frames, an ``.npy`` stack) gives one image per page, named ``file.tif[0]``,
``file.tif[1]``, ... (0-based, in the order stored in the file: for ImageJ hyperstacks
T, Z, C with C fastest); a file holding one image keeps its plain name. Never only the
first page. RGB samples stay colour (RGBA keeps its alpha, which the vectorizers drop:
alpha carries no texture); a grey image with an alpha sample is read as grey. Channels
that ImageJ or OME metadata marks as such are separate grey images with
``channels="split"`` (the default); ``channels="rgb"`` reads exactly three grey channels
as one RGB image (red, green, blue in channel order) and refuses other channel counts.
Images with 2 or more than 4 samples per pixel are refused with the reason.

Types

Integer and float images keep their dtype (in native byte order); ``float16`` becomes
``float32`` (exact). Complex, structured, object and extended-precision float images are
refused, as are images with NaN or infinite pixels (with the first bad pixel's
position).

Size

Each image is checked against a pixel limit before it is decoded (``max_pixels``; by
default Pillow's ``Image.MAX_IMAGE_PIXELS`` decompression-bomb guard, for every format).
``crop_bottom`` removes a data bar of that many rows from the bottom of every image.
With ``memmap=True`` uncompressed TIFF series and ``.npy`` files in native byte order
are memory-mapped (read-only) instead of read, so that an image's pixels are only read
when used.
"""

import logging
import math
import os
import struct
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sklearn_texture._images import intensity_bounds, unit_rgb

__all__ = [
    "CHANNEL_POLICIES",
    "IMAGE_SUFFIXES",
    "THUMBNAIL_SIZE",
    "UNSUPPORTED_FORMATS",
    "ImageEntry",
    "find_image_files",
    "iter_images",
    "read_image",
    "read_images",
    "thumbnail",
]

#: Suffixes of the files read in folders (the format itself is recognised by content).
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf2", ".tf8")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".npy", *TIFF_SUFFIXES)

#: Image and microscope formats that are not read, with the reason given for them.
UNSUPPORTED_FORMATS = {
    ".dm3": "Gatan DM3", ".dm4": "Gatan DM4", ".emd": "EMD (Velox or Berkeley, HDF5)",
    ".mrc": "MRC", ".mrcs": "MRC stack", ".ser": "FEI TIA SER", ".emi": "FEI TIA EMI",
    ".sem": "SEM", ".spe": "Princeton SPE", ".h5": "HDF5", ".hdf5": "HDF5", ".hdf": "HDF",
    ".nd2": "Nikon ND2", ".czi": "Zeiss CZI", ".lif": "Leica LIF", ".oib": "Olympus OIB",
    ".oif": "Olympus OIF", ".vsi": "Olympus VSI", ".ims": "Imaris", ".lsm": "Zeiss LSM",
    ".svs": "Aperio SVS whole-slide", ".ndpi": "Hamamatsu NDPI whole-slide",
    ".scn": "Leica SCN whole-slide", ".gif": "GIF", ".webp": "WebP", ".jp2": "JPEG 2000",
    ".j2k": "JPEG 2000", ".npz": "NumPy .npz archive", ".raw": "raw (headerless)",
    ".dcm": "DICOM", ".fits": "FITS", ".fit": "FITS", ".pgm": "PGM", ".ppm": "PPM",
    ".heic": "HEIC", ".avif": "AVIF", ".cr2": "camera raw", ".nef": "camera raw",
    ".dng": "camera raw (DNG)",
}

#: Values of ``channels``: how ImageJ/OME channel axes are read.
CHANNEL_POLICIES = ("split", "rgb")

#: Longest side of :func:`thumbnail` images, in pixels.
THUMBNAIL_SIZE = 128

_MAGIC = {
    b"II*\x00": "tiff", b"MM\x00*": "tiff", b"II+\x00": "tiff", b"MM\x00+": "tiff",
    b"\x89PNG": "png", b"\xff\xd8\xff": "jpeg", b"BM": "bmp", b"\x93NUMPY": "npy",
}
_FORMAT_NAMES = "TIFF, PNG, JPEG, BMP or .npy"
_SUPPORTED_KINDS = "biuf"


class ImageEntry(NamedTuple):
    """One image of :func:`iter_images`: a usable image, or a skipped one with the reason.

    Parameters
    ----------
    name : str
        The file, with ``[index]`` appended for an image of a file holding several.
    image : ndarray or None
        The pixels, ``(H, W)`` or ``(H, W, C)`` in the file's dtype; ``None`` when skipped.
    reason : str or None
        Why the image was skipped (not repeating the name); ``None`` when it is usable.
    """

    name: str
    image: np.ndarray | None
    reason: str | None


class _Options(NamedTuple):
    max_pixels: int | None
    channels: str
    crop_bottom: int
    memmap: bool


def _options(max_pixels, channels, crop_bottom, memmap):
    if max_pixels is None:
        from PIL import Image

        max_pixels = Image.MAX_IMAGE_PIXELS  # None: the user switched Pillow's guard off
    elif isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) \
            or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer or None; got {max_pixels!r}.")
    if channels not in CHANNEL_POLICIES:
        raise ValueError(f"channels must be one of {CHANNEL_POLICIES}; got {channels!r}.")
    if isinstance(crop_bottom, bool) or not isinstance(crop_bottom, (int, np.integer)) \
            or crop_bottom < 0:
        raise ValueError(f"crop_bottom must be an integer >= 0; got {crop_bottom!r}.")
    return _Options(None if max_pixels is None else int(max_pixels), channels,
                    int(crop_bottom), bool(memmap))


# ---------------------------------------------------------------------- finding files


def _scan(paths, recursive):
    """``(file, None)`` for each file to read, ``(file, reason)`` for unsupported ones."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            if recursive:
                files = [Path(root) / name
                         for root, _, names in os.walk(path) for name in names]
                files.sort(key=lambda p: p.relative_to(path).parts)
            else:
                files = sorted(p for p in path.iterdir() if p.is_file())
            for file in files:
                suffix = file.suffix.lower()
                if suffix in IMAGE_SUFFIXES:
                    found.append((file, None))
                elif suffix in UNSUPPORTED_FORMATS:
                    found.append((file, _unsupported_reason(suffix)))
        elif path.is_file():
            found.append((path, None))
        else:
            raise FileNotFoundError(f"{path} does not exist.")
    return found


def _unsupported_reason(suffix):
    return (f"{UNSUPPORTED_FORMATS[suffix]} ({suffix}) files are not supported; export "
            f"the image as TIFF (16-bit data stays 16-bit) or save it with numpy.save.")


def find_image_files(paths, *, recursive=False):
    """Expand files and folders into a list of image files, sorted within each folder.

    Parameters
    ----------
    paths : list of str or path-like
        Files (kept whatever their suffix: the format is recognised by content) and
        folders (their files with one of :data:`IMAGE_SUFFIXES`).
    recursive : bool, default=False
        Search subfolders too (symbolic links to folders are not followed).

    Returns
    -------
    files : list of pathlib.Path
        The files to read, folder by folder in sorted order.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    """
    return [file for file, reason in _scan(paths, recursive) if reason is None]


# ---------------------------------------------------------------------- reading


def read_image(path, *, max_pixels=None, channels="split", crop_bottom=0, memmap=False):
    """Read the one image of a file, with its values and dtype as stored.

    Parameters
    ----------
    path : str or path-like
        A TIFF, PNG, JPEG, BMP or ``.npy`` file (recognised by its first bytes).
    max_pixels : int or None, default=None
        Refuse images of more pixels (height x width) before decoding them;
        ``None`` uses Pillow's decompression-bomb limit ``Image.MAX_IMAGE_PIXELS``.
    channels : {"split", "rgb"}, default="split"
        How ImageJ/OME channel axes are read (see the module notes); with ``"split"``
        a file with several channels holds several images and is refused here.
    crop_bottom : int, default=0
        Rows removed from the bottom (an SEM data bar).
    memmap : bool, default=False
        Memory-map uncompressed data in native byte order instead of reading it.

    Returns
    -------
    image : ndarray of shape (H, W) or (H, W, C)
        The stored values in their own dtype (native byte order; ``float16`` as
        ``float32``); C is 3 (RGB) or 4 (RGBA).

    Raises
    ------
    ValueError
        If the file is not a readable image of a supported format, holds several images
        (read them with :func:`read_images`), is larger than ``max_pixels``, not taller
        than ``crop_bottom``, has 2 or more than 4 channels, an unsupported dtype
        (complex, object), or NaN or infinite pixels; the message names the file.
    """
    options = _options(max_pixels, channels, crop_bottom, memmap)
    path = Path(path)
    results = list(_file_images(path, options))
    if len(results) != 1:
        raise ValueError(
            f"{path} holds {len(results)} images (pages, frames, channels or a stack); "
            f"read_images reads each of them, named {path}[0] ... {path}[{len(results) - 1}]."
        )
    _, image = results[0]
    if isinstance(image, Exception):
        raise image
    return image


def iter_images(paths, *, recursive=False, min_size=1, size_reason="", max_pixels=None,
                channels="split", crop_bottom=0, memmap=False):
    """Read the images under ``paths`` one at a time, reporting those that cannot be used.

    Only one file's images are held at a time (one page at a time for multi-page
    TIFFs whose pages are the images), so a folder of any size can be streamed.

    Parameters
    ----------
    paths : list of str or path-like
        Image files and folders.
    recursive : bool, default=False
        Search subfolders too.
    min_size : int, default=1
        Smallest usable image height and width (after ``crop_bottom``).
    size_reason : str, default=""
        Why that minimum holds, appended to the reason (e.g. ``" to reach conv5_1"``).
    max_pixels : int or None, default=None
        As in :func:`read_image`.
    channels : {"split", "rgb"}, default="split"
        As in :func:`read_image`.
    crop_bottom : int, default=0
        As in :func:`read_image`.
    memmap : bool, default=False
        As in :func:`read_image`.

    Yields
    ------
    entry : ImageEntry
        ``(name, image, None)`` for a usable image, ``(name, None, reason)`` for a file
        or page that cannot be used (unreadable, unsupported format, too large, too
        small, bad pixels, ...).

    Raises
    ------
    FileNotFoundError
        If a path does not exist (before anything is read).
    """
    options = _options(max_pixels, channels, crop_bottom, memmap)
    for path, reason in _scan(paths, recursive):
        if reason is not None:
            yield ImageEntry(str(path), None, reason)
            continue
        try:
            for name, image in _file_images(path, options):
                if isinstance(image, Exception):
                    yield ImageEntry(name, None, _without_name(str(image), name))
                    continue
                height, width = image.shape[:2]
                if min(height, width) < min_size:
                    yield ImageEntry(name, None, f"image must be at least {min_size}x"
                                     f"{min_size} pixels{size_reason}; got {height}x{width}.")
                    continue
                yield ImageEntry(name, image, None)
        except ValueError as error:
            yield ImageEntry(str(path), None, _without_name(str(error), str(path)))


def read_images(paths, *, min_size=1, size_reason="", recursive=False, max_pixels=None,
                channels="split", crop_bottom=0, memmap=False):
    """Read every image under ``paths``, skipping those that cannot be used.

    Parameters
    ----------
    paths : list of str or path-like
        Image files and folders.
    min_size : int, default=1
        Smallest usable image height and width; smaller images are skipped.
    size_reason : str, default=""
        Why that minimum holds, appended to the reason (e.g. ``" to reach conv5_1"``).
    recursive : bool, default=False
        Search subfolders too.
    max_pixels : int or None, default=None
        As in :func:`read_image`.
    channels : {"split", "rgb"}, default="split"
        As in :func:`read_image`.
    crop_bottom : int, default=0
        As in :func:`read_image`.
    memmap : bool, default=False
        As in :func:`read_image`.

    Returns
    -------
    images : list of ndarray
        The images, in their own dtypes and sizes.
    names : list of str
        The name of each image (the file, with ``[index]`` for files holding several).
    skipped : list of (str, str)
        Files or pages that could not be used, with the reason (unreadable, an
        unsupported format, a decompression bomb, NaN or infinite pixels, smaller than
        ``min_size``, ...); the reason does not repeat the name.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    """
    images, names, skipped = [], [], []
    for entry in iter_images(paths, recursive=recursive, min_size=min_size,
                             size_reason=size_reason, max_pixels=max_pixels,
                             channels=channels, crop_bottom=crop_bottom, memmap=memmap):
        if entry.image is None:
            skipped.append((entry.name, entry.reason))
        else:
            images.append(entry.image)
            names.append(entry.name)
    return images, names, skipped


def thumbnail(image, size=THUMBNAIL_SIZE):
    """A small 8-bit RGB view of an image, as the network sees its intensities.

    The image is sampled every ``ceil(max(H, W) / size)`` pixels and mapped onto
    0-255 by the vectorizers' intensity mapping of the whole image (alpha dropped), so
    only the small copy is ever converted to float.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        An image as :func:`read_image` returns it.
    size : int, default=THUMBNAIL_SIZE
        Longest side of the thumbnail.

    Returns
    -------
    thumbnail : ndarray of shape (h, w, 3), uint8
    """
    image = np.asarray(image)
    image = image[..., np.newaxis] if image.ndim == 2 else image
    step = max(1, math.ceil(max(image.shape[:2]) / size))
    small = image[::step, ::step]
    if small.dtype == bool:  # bilevel: black and white
        return np.repeat(small.astype(np.uint8) * 255, 3, axis=-1)
    unit = unit_rgb(small, intensity_bounds(image))
    return np.round(np.clip(unit, 0, 1) * 255).astype(np.uint8)


# ---------------------------------------------------------------------- one file


def _format(path):
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head:
        return None, "empty file"
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind, None
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED_FORMATS:
        return None, _unsupported_reason(suffix)
    return None, f"not a {_FORMAT_NAMES} file"


class _Refused(ValueError):
    """A file or image that was read (or its header) but is not used, with the reason."""


def _file_images(path, options):
    """Yield ``(name, image or ValueError)`` for each image of one file.

    Raises ValueError (naming the file) when the file as a whole cannot be used.
    """
    try:
        kind, problem = _format(path)
    except OSError as error:
        raise ValueError(f"{path} is not a readable image ({error}).") from None
    if kind is None:
        raise ValueError(f"{path} is not a readable image ({problem}).")
    reader = {"tiff": _tiff_images, "npy": _npy_images}.get(kind, _pillow_images)
    planned = reader(path, kind, options)
    try:
        count = next(planned)
    except _Refused as error:
        raise ValueError(f"{path}: {_sentence(str(error))}") from None
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # decoders raise many kinds of errors on damaged files
        raise ValueError(f"{path} is not a readable image ({_describe(error)}).") from None
    if count == 0:
        raise ValueError(f"{path} is not a readable image (it holds no image).")
    try:
        for index in range(count):
            name = str(path) if count == 1 else f"{path}[{index}]"
            try:
                image = next(planned)
                if isinstance(image, str):  # a reason for this image alone
                    raise _Refused(image)
                image = _finish(image, name, options)
            except StopIteration:
                image = ValueError(f"{name} is not a readable image (reading the file "
                                   f"stopped at an error in an earlier image).")
            except _Refused as error:
                image = ValueError(f"{name}: {_sentence(str(error))}")
            except MemoryError:
                raise
            except Exception as error:
                image = ValueError(f"{name} is not a readable image ({_describe(error)}).")
            yield name, image
    finally:
        planned.close()


def _sentence(message):
    return message if message.endswith(".") else f"{message}."


def _describe(error):
    """An exception's message, with its type where it is not a ValueError or OSError."""
    message = str(error) or type(error).__name__
    if isinstance(error, (ValueError, OSError)):
        return message
    return f"{type(error).__name__}: {message}"


def _check_pixels(height, width, options):
    """A reason when an image is over the pixel limit, else None."""
    if options.max_pixels is not None and height * width > options.max_pixels:
        return (f"refused as a possible decompression bomb: {height}x{width} = "
                f"{height * width:,} pixels, more than the limit of {options.max_pixels:,} "
                f"(raise it with max_pixels, --max-pixels on the command line, if the "
                f"image is genuine).")
    return None


def _finish(image, name, options):
    """Check one decoded image and bring it to (H, W) or (H, W, C), native byte order."""
    dtype = image.dtype
    if dtype.fields is not None or dtype.kind not in _SUPPORTED_KINDS:
        raise _Refused(f"pixels of dtype {dtype} are not supported (real integer or "
                       f"float values only).")
    if dtype.kind == "f" and dtype.itemsize > 8:
        raise _Refused(f"{dtype} pixels cannot be kept without rounding; save them as "
                       f"float64.")
    if not dtype.isnative:
        image = image.astype(dtype.newbyteorder("="))
    if image.dtype == np.float16:
        image = image.astype(np.float32)  # exact
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
        channels = image.shape[-1] if image.ndim == 3 else None
        what = f"{channels} channels" if channels else f"a pixel array of shape {image.shape}"
        raise _Refused(f"has {what}; an image is grey (H, W), RGB or RGBA (H, W, 3 or "
                       f"4). Save each channel as its own page or image.")
    if image.size == 0:
        raise _Refused(f"has no pixels (shape {image.shape}).")
    if options.crop_bottom:
        height = image.shape[0]
        if height <= options.crop_bottom:
            raise _Refused(f"the image is {height} pixels tall, not taller than crop_bottom="
                           f"{options.crop_bottom} (the rows to remove).")
        image = image[:height - options.crop_bottom]
    if image.dtype.kind == "f":
        _check_finite(image, name)
    return image


def _check_finite(image, name):
    """Refuse NaN or infinite pixels, a block of rows at a time (no image-sized mask)."""
    rows = max(1, (1 << 22) // max(1, image[0].size))
    bad_total, first = 0, None
    for start in range(0, image.shape[0], rows):
        bad = ~np.isfinite(image[start:start + rows])
        count = int(bad.sum())
        if count and first is None:
            position = np.argwhere(bad)[0]
            first = (start + int(position[0]), int(position[1]))
        bad_total += count
    if bad_total:
        pixels = image.shape[0] * image.shape[1]
        raise _Refused(
            f"{bad_total} of {pixels} pixels are NaN or infinite (the first at row "
            f"{first[0]}, column {first[1]}); texture vectors need finite intensities.")


def _without_name(message, name):
    """A message without its leading image name (listed beside it)."""
    if message.startswith(name):
        message = message[len(name):].lstrip(": ")
        message = message[3:] if message.startswith("is ") else message
    return message


# ---------------------------------------------------------------------- Pillow formats


def _pillow_images(path, kind, options):
    """Generator: the number of images, then each image (or a reason string)."""
    import warnings

    from PIL import BmpImagePlugin, Image, JpegImagePlugin, PngImagePlugin

    opener = {"png": PngImagePlugin.PngImageFile, "jpeg": JpegImagePlugin.jpeg_factory,
              "bmp": BmpImagePlugin.BmpImageFile}[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # The plugin classes do not apply Pillow's global pixel limit: ours applies.
            with opener(str(path)) as image:
                width, height = image.size
                reason = _check_pixels(height, width, options)
                if reason:
                    raise _Refused(reason)
                frames = getattr(image, "n_frames", 1)
                sixteen = kind == "png" and _png_bit_depth(path) == 16
                if sixteen and frames > 1:
                    raise _Refused("an animated 16-bit PNG is not read; export TIFF")
                yield frames
                if sixteen:
                    yield _png16(path)
                    return
                for frame in range(frames):
                    if frame:
                        image.seek(frame)
                    reason = _check_pixels(image.size[1], image.size[0], options)
                    if reason:
                        yield reason
                        continue
                    image.load()
                    yield _pillow_array(image)
    except Image.DecompressionBombError as error:
        raise _Refused(f"refused as a possible decompression bomb: {error}") from None
    except (OSError, SyntaxError, EOFError, struct.error) as error:
        raise ValueError(str(error) or type(error).__name__) from None


def _png_bit_depth(path):
    with open(path, "rb") as handle:
        header = handle.read(26)
    return header[24] if len(header) == 26 and header[12:16] == b"IHDR" else None


def _png16(path):
    import imagecodecs

    try:
        array = imagecodecs.png_decode(Path(path).read_bytes())
    except Exception as error:  # imagecodecs.PngError and friends
        raise ValueError(f"16-bit PNG could not be decoded ({error})") from None
    if array.ndim == 3 and array.shape[-1] == 2:
        array = array[..., 0]  # grey + alpha: alpha carries no texture
    return array


def _pillow_array(image):
    mode = image.mode
    if mode in ("1", "L", "I", "F", "RGB", "RGBA") or mode.startswith("I;16"):
        if mode.startswith("I;16") and mode not in ("I;16", "I;16L", "I;16B", "I;16N"):
            raise _Refused(f"Pillow mode {mode} is not read")
        return np.asarray(image)
    if mode in ("LA", "La"):
        return np.asarray(image)[..., 0]
    if mode == "RGBX":
        return np.asarray(image)[..., :3]
    if mode in ("P", "PA"):
        palette = np.asarray(image.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)
        grey = bool(np.all(palette == palette[:, :1]))
        return np.asarray(image.convert("L" if grey else "RGB"))  # the palette's values
    what = "CMYK colour" if mode == "CMYK" else "a colour space"
    raise _Refused(f"Pillow mode {mode} ({what}) is not read; save the image as grey or RGB")


# ---------------------------------------------------------------------- NumPy


def _npy_images(path, kind, options):
    """Generator: the number of images, then each image."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        if "object" in str(error).lower():
            raise _Refused("holds Python objects (a pickle), which are never loaded; "
                           "save a numeric array") from None
        if "mmap length" in str(error):
            raise ValueError(f"a truncated .npy file ({error})") from None
        raise
    except (OSError, EOFError) as error:
        raise ValueError(str(error) or type(error).__name__) from None
    if array.dtype.hasobject:
        raise _Refused("holds Python objects (a pickle), which are never loaded; "
                       "save a numeric array")
    if array.ndim == 3 and array.shape[-1] <= 4:
        array = array[np.newaxis]  # one (H, W, C) image
    elif array.ndim == 2:
        array = array[np.newaxis]
    elif array.ndim not in (3, 4):
        raise _Refused(f"holds an array of shape {array.shape}; an image is (H, W) or "
                       f"(H, W, C), a stack (N, H, W) or (N, H, W, C)")
    if len(array) == 0:
        raise _Refused(f"holds an empty stack of shape {array.shape}")
    keep_mapped = options.memmap and array.dtype.isnative
    yield len(array)
    for plane in array:
        reason = _check_pixels(plane.shape[0], plane.shape[1], options)
        if reason:
            yield reason
        else:
            yield plane if keep_mapped else np.array(plane)


# ---------------------------------------------------------------------- TIFF


class _TiffLog(logging.Filter):
    """Collect (and hold back) tifffile's error records from this thread while reading."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()
        self.errors = []

    def filter(self, record):
        if record.levelno >= logging.ERROR and threading.get_ident() == self.thread:
            self.errors.append(record.getMessage())
            return False
        return True

    def check(self):
        if self.errors:
            raise ValueError(f"damaged TIFF: {self.errors[0]}")


_PHOTOMETRIC_REFUSED = {
    "SEPARATED": "CMYK (separated) colour", "CIELAB": "CIE L*a*b* colour",
    "ICCLAB": "ICC L*a*b* colour", "ITULAB": "ITU L*a*b* colour",
    "CFA": "a raw colour-filter-array (Bayer) image", "LINEAR_RAW": "linear raw data",
    "LOGL": "LogL", "LOGLUV": "LogLuv", "MASK": "a transparency mask",
}


def _tiff_images(path, kind, options):
    """Generator: the number of images, then each image (or a reason string)."""
    import tifffile

    log = _TiffLog()
    logger = logging.getLogger("tifffile")
    logger.addFilter(log)
    try:
        try:
            tif = tifffile.TiffFile(path)
        except MemoryError:
            raise
        except Exception as error:
            raise ValueError(f"damaged TIFF: {_describe(error)}") from None
        with tif:
            plans = [_TiffPlan(tif, path, index, series, options)
                     for index, series in enumerate(tif.series)]
            log.check()
            if not plans:
                raise ValueError("a TIFF without images")  # count 0 is refused too
            yield sum(plan.count for plan in plans)
            for plan in plans:
                for image in plan.images():
                    log.check()
                    yield image
    finally:
        logger.removeFilter(log)


class _TiffPlan:
    """How one tifffile series is read: its images, in file order."""

    def __init__(self, tif, path, index, series, options):
        self.tif, self.path, self.index = tif, path, index
        self.series, self.options = series, options
        keyframe = series.keyframe
        self.keyframe = keyframe
        separate, depth, height, width, contig = keyframe.shaped
        self.height, self.width = height, width
        self.samples = separate * contig
        self.page_size = separate * depth * height * width * contig
        shape = series.get_shape(False)
        axes = series.get_axes(False)
        total = math.prod(shape)
        self.n_pages = total // self.page_size if self.page_size else 0
        # The axes outside a page: the leading ones whose sizes multiply to n_pages.
        outer, size = [], 1
        for axis, length in zip(axes, shape, strict=True):
            if size == self.n_pages:
                break
            outer.append((axis, length))
            size *= length
        self.outer = outer if size == self.n_pages else [("I", self.n_pages)]
        self.problem = self._problem(depth)
        self.merge = self._merge()
        if isinstance(self.merge, str):
            self.problem, self.merge = self.merge, None
        self.count = self.n_pages // 3 if self.merge else self.n_pages

    def _problem(self, depth):
        """A reason that applies to every image of the series, or None."""
        keyframe = self.keyframe
        if self.index and keyframe.subfiletype & 1:
            return ("a reduced-resolution copy (TIFF NewSubfileType), not an image of "
                    "its own")
        if depth > 1:
            return "volumetric pages (ImageDepth > 1) are not read"
        photometric = keyframe.photometric.name
        if photometric in _PHOTOMETRIC_REFUSED:
            return (f"{_PHOTOMETRIC_REFUSED[photometric]} is not read; export grey or RGB")
        if photometric == "YCBCR" and keyframe.compression.name not in ("JPEG", "OJPEG"):
            return "uncompressed YCbCr colour is not read; export grey or RGB"
        if photometric == "MINISWHITE" and keyframe.dtype.kind not in "ub":
            return f"MinIsWhite {keyframe.dtype} samples are not read; export MinIsBlack"
        alpha = [int(e) in (1, 2) for e in keyframe.extrasamples]
        colour = photometric in ("RGB", "YCBCR")
        expected = (3 if colour else 1) + (1 if alpha[:1] == [True] else 0)
        if self.samples != expected or len(alpha) > 1:
            extras = len(keyframe.extrasamples)
            kind = "RGB" if colour else "grey"
            return (f"{self.samples} samples per pixel ({kind} with {extras} extra "
                    f"sample(s)); an image is grey, RGB or RGBA. Save each channel as "
                    f"its own page")
        return _check_pixels(self.height, self.width, self.options)

    def _merge(self):
        """The index of a channel axis to merge into RGB (channels='rgb'), a reason, or None."""
        channels = [i for i, (axis, _) in enumerate(self.outer) if axis == "C"]
        if self.options.channels != "rgb" or not channels or self.samples != 1:
            return None
        length = self.outer[channels[0]][1]
        if length != 3:
            return (f"a channel axis of {length} (ImageJ/OME metadata); channels='rgb' reads "
                    f"exactly 3 grey channels as RGB; use channels='split'")
        return channels[0]

    def images(self):
        if self.problem:
            for _ in range(self.count):
                yield self.problem
            return
        page = self._page_reader()
        if self.merge is None:
            for key in range(self.n_pages):
                yield self._image(page(key))
            return
        sizes = [length for _, length in self.outer]
        for flat in range(self.n_pages):
            index = np.unravel_index(flat, sizes)
            if index[self.merge] != 0:
                continue
            keys = []
            for channel in range(3):
                index = list(index)
                index[self.merge] = channel
                keys.append(int(np.ravel_multi_index(index, sizes)))
            yield np.stack([self._image(page(key)) for key in keys], axis=-1)

    def _page_reader(self):
        """A function of the page number returning its data shaped like keyframe.shaped."""
        import tifffile

        series, shaped = self.series, self.keyframe.shaped
        if (self.options.memmap and series.dataoffset is not None
                and self.keyframe.is_memmappable and self.tif.byteorder == _NATIVE):
            data = tifffile.memmap(self.path, series=self.index, mode="r")
            data = data.reshape(self.n_pages, *shaped)
            return lambda key: data[key]
        if len(series.pages) == self.n_pages:
            def page(key):  # one page at a time: a compressed stack is never read whole
                if series.pages[key] is None:
                    raise ValueError(f"page {key} of the series is missing")
                return self.tif.asarray(series=self.index, key=key).reshape(shaped)

            return page
        if any(p is None for p in series.pages):
            raise ValueError("pages of the series are missing")
        data = series.asarray().reshape(self.n_pages, *shaped)
        return lambda key: data[key]

    def _image(self, page):
        """One page (keyframe.shaped) as (H, W) or (H, W, S), colours applied."""
        image = np.moveaxis(page[:, 0, :, :, 0], 0, -1) if page.shape[0] > 1 else page[0, 0]
        if image.shape[-1] == 1:
            image = image[..., 0]
        photometric = self.keyframe.photometric.name
        if image.ndim == 3 and photometric not in ("RGB", "YCBCR"):
            image = image[..., 0]  # grey + alpha: alpha carries no texture
        if photometric == "MINISWHITE":
            image = ~image if image.dtype == bool else \
                (1 << self.keyframe.bitspersample) - 1 - image
        elif photometric == "PALETTE":
            colormap = self.keyframe.colormap
            if colormap is None:
                raise ValueError("a palette image without a colour map")
            grey = bool(np.all(colormap == colormap[:1]))
            image = colormap[0][image] if grey else np.moveaxis(colormap[:, image], 0, -1)
        return image


_NATIVE = "<" if np.little_endian else ">"
