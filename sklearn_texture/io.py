"""Read a user's micrographs (PNG, JPEG, TIFF, BMP) from files and folders."""

import warnings
from pathlib import Path

import numpy as np

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

    Raises
    ------
    ValueError
        If the file is not a readable image or is a decompression bomb
        (more pixels than Pillow's ``Image.MAX_IMAGE_PIXELS``).
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x its pixel limit: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                grey = image.convert("F") if image.mode in ("I", "I;16", "F") else \
                    image.convert("L")
                array = np.asarray(grey, dtype=np.float64)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"{path}: refused as a possible decompression bomb ({error}).") \
            from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{path} is not a readable image ({error}).") from None
    if grey.mode == "L":
        return array / 255.0
    low, high = array.min(), array.max()
    return (array - low) / (high - low) if high > low else np.zeros_like(array)


def read_images(paths):
    """Read every image under ``paths``.

    Returns
    -------
    images : list of ndarray
        Greyscale images in [0, 1], possibly of different sizes.
    names : list of str
        The file of each image.
    skipped : list of (str, str)
        Files that could not be read, with the reason.
    """
    images, names, skipped = [], [], []
    for path in find_image_files(paths):
        try:
            images.append(read_image(path))
            names.append(str(path))
        except ValueError as error:
            skipped.append((str(path), str(error)))
    return images, names, skipped
