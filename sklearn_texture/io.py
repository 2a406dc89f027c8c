"""Read a user's micrographs (PNG, JPEG, TIFF, BMP) from files and folders."""

import warnings
from pathlib import Path

import numpy as np

from sklearn_texture._images import rescale_intensities

__all__ = ["IMAGE_SUFFIXES", "find_image_files", "read_image", "read_images"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def find_image_files(paths):
    """Expand files and folders (not recursive) into a sorted list of image files.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist.")
    return files


def read_image(path):
    """Read one image as a float greyscale array in [0, 1].

    8-bit and colour images are converted to 8-bit grey and read as 0-255; 16-bit,
    32-bit integer and floating-point images are mapped from their own minimum and
    maximum (a uniform image becomes mid grey, 0.5), by
    :func:`sklearn_texture._images.rescale_intensities`.

    Parameters
    ----------
    path : str or path-like
        An image file Pillow can read (PNG, JPEG, TIFF, BMP, ...).

    Returns
    -------
    image : ndarray of shape (height, width), float64

    Raises
    ------
    ValueError
        If the file is not a readable image, is a decompression bomb (more pixels
        than Pillow's ``Image.MAX_IMAGE_PIXELS``), or has NaN or infinite pixels
        (floating-point TIFFs); the message names the file.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x its pixel limit: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                grey = image if image.mode == "F" or image.mode.startswith("I") else \
                    image.convert("L")
                array = np.asarray(grey)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"{path}: refused as a possible decompression bomb ({error}).") \
            from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{path} is not a readable image ({error}).") from None
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{path} is not a readable image (pixel array of shape "
                         f"{array.shape}).")
    if array.dtype == np.uint8:
        return rescale_intensities(array, 0.0, 255.0, dtype=np.float64)
    bad = ~np.isfinite(array) if array.dtype.kind == "f" else None
    if bad is not None and bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(
            f"{path}: {int(bad.sum())} of {array.size} pixels are NaN or infinite (the "
            f"first at row {row}, column {column}); texture vectors need finite intensities."
        )
    return rescale_intensities(array, float(array.min()), float(array.max()),
                               dtype=np.float64)


def read_images(paths, *, min_size=1, size_reason=""):
    """Read every image under ``paths``, skipping files that cannot be used.

    Parameters
    ----------
    paths : list of str or path-like
        Image files and folders (folders are not searched recursively).
    min_size : int, default=1
        Smallest usable image height and width; smaller images are skipped.
    size_reason : str, default=""
        Why that minimum holds, appended to the reason (e.g. ``" to reach conv5_1"``).

    Returns
    -------
    images : list of ndarray
        Greyscale images in [0, 1], possibly of different sizes.
    names : list of str
        The file of each image.
    skipped : list of (str, str)
        Files that could not be used, with the reason (unreadable, a decompression
        bomb, NaN or infinite pixels, smaller than ``min_size``); the reason does not
        repeat the file.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    """
    images, names, skipped = [], [], []
    for path in find_image_files(paths):
        try:
            image = read_image(path)
        except ValueError as error:
            skipped.append((str(path), _without_path(str(error), path)))
            continue
        height, width = image.shape
        if min(height, width) < min_size:
            skipped.append((str(path), f"image must be at least {min_size}x{min_size} "
                            f"pixels{size_reason}; got {height}x{width}."))
            continue
        images.append(image)
        names.append(str(path))
    return images, names, skipped


def _without_path(message, path):
    """``read_image``'s message without its leading file name (listed beside it)."""
    name = str(path)
    if message.startswith(name):
        message = message[len(name):].lstrip(": ")
        message = message[3:] if message.startswith("is ") else message
    return message
