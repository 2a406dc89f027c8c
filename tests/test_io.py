"""Reading micrographs losslessly (sklearn_texture.io) and embed's reading options.

Issue 13, parts 1-2: every bit depth and byte order read as stored (16-bit stays 16-bit
until the vectorizers' intensity mapping), one image per page, unsupported formats listed
with the reason, a pixel limit that can be raised, --recursive, --crop-bottom, large
images tiled by embed.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from sklearn_texture import GramTextureVectorizer, PowerSpectrumVectorizer
from sklearn_texture.cli import main
from sklearn_texture.io import (
    IMAGE_SUFFIXES,
    UNSUPPORTED_FORMATS,
    find_image_files,
    iter_images,
    read_image,
    read_images,
    thumbnail,
)

RNG = np.random.default_rng(13)


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _micrograph(size=48, levels=None, seed=0):
    """A 16-bit texture using the whole 16-bit range (not a multiple of 257: not 8-bit)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size]
    field = np.sin(x / 3.0 + rng.random()) * np.cos(y / 5.0) + 0.3 * rng.random((size, size))
    field = (field - field.min()) / np.ptp(field)
    image = np.round(field * 65534).astype(np.uint16) | 1  # odd: never v * 257
    return image


def _png16(path, image):
    """A 16-bit PNG written by Pillow (mode I;16, as ImageJ and Fiji write them)."""
    Image.fromarray(image).save(path)
    assert Image.open(path).mode == "I;16"
    return path


def _twins(folder, image):
    """The same 16-bit micrograph as big-endian TIFF (tifffile and Pillow), little-endian
    TIFF and 16-bit PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(folder / "big.tif", image, byteorder=">")
    tifffile.imwrite(folder / "little.tif", image, byteorder="<")
    Image.frombuffer("I;16B", image.shape[::-1], image.astype(">u2").tobytes(), "raw",
                     "I;16B", 0, 1).save(folder / "pillow_big.tif")  # ImageJ's default
    _png16(folder / "png.png", image)
    return [folder / n for n in ("big.tif", "little.tif", "pillow_big.tif", "png.png")]


# ---------------------------------------------------------------- 16-bit stays 16-bit


def test_byte_order_twins_read_identically(tmp_path):
    image = _micrograph()
    files = _twins(tmp_path, image)
    with tifffile.TiffFile(files[0]) as tif:
        assert tif.byteorder == ">"
    with tifffile.TiffFile(files[2]) as tif:
        assert tif.byteorder == ">"  # Pillow's I;16B, which convert("L") used to quantise
    for file in files:
        read = read_image(file)
        assert read.dtype == np.uint16 and read.dtype.isnative
        np.testing.assert_array_equal(read, image)


def test_byte_order_twins_have_equal_texture_vectors(tmp_path):
    image = _micrograph()
    images = [read_image(f) for f in _twins(tmp_path, image)]
    spectra = PowerSpectrumVectorizer().fit_transform(np.stack(images))
    grams = GramTextureVectorizer(weights="random", random_state=0).fit_transform(images)
    for vectors in (spectra, grams):
        assert np.ptp(vectors, axis=0).max() == 0  # identical rows
    # and the 16-bit values matter: the 8-bit version of the image is another texture
    eight = (image >> 8).astype(np.uint8)
    assert not np.array_equal(
        GramTextureVectorizer(weights="random", random_state=0).fit_transform([eight])[0],
        grams[0])


def test_twins_land_on_one_point_of_the_map(tmp_path):
    folder = tmp_path / "images"
    _twins(folder, _micrograph(seed=1))
    for seed in (2, 3):
        tifffile.imwrite(folder / f"other{seed}.tif", _micrograph(seed=seed))
    out = tmp_path / "map"
    assert main(["embed", str(folder), "--weights", "random", "--no-progress",
                 "--out", str(out)]) == 0
    rows = {Path(r["file"]).name: np.array([float(r["mds_1"]), float(r["mds_2"])])
            for r in _rows(out / "coordinates.csv")}
    extent = np.ptp(np.array(list(rows.values())), axis=0).max()
    assert extent > 0
    twins = [rows[n] for n in ("big.tif", "little.tif", "pillow_big.tif", "png.png")]
    for twin in twins[1:]:
        assert np.linalg.norm(twin - twins[0]) < 0.01 * extent


def test_no_16_bit_level_is_lost(tmp_path):
    """4096 distinct 16-bit levels (none representable in 8 bits) all survive reading."""
    levels = (np.arange(4096, dtype=np.uint16) * 16 + 7)  # 7, 23, ..., 65527
    image = RNG.permutation(levels).reshape(64, 64)
    tifffile.imwrite(tmp_path / "big.tif", image, byteorder=">")
    tifffile.imwrite(tmp_path / "zlib.tif", image, compression="zlib")
    _png16(tmp_path / "levels.png", image)
    for name in ("big.tif", "zlib.tif", "levels.png"):
        read = read_image(tmp_path / name)
        assert read.dtype == np.uint16
        assert len(np.unique(read)) == 4096
        np.testing.assert_array_equal(read, image)


def test_rgb_16_bit_stays_16_bit(tmp_path):
    import imagecodecs

    rgb = np.stack([_micrograph(seed=s) for s in range(3)], axis=-1)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb", byteorder=">")
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(rgb, -1, 0), photometric="rgb",
                     planarconfig="separate")
    (tmp_path / "rgb.png").write_bytes(imagecodecs.png_encode(rgb))
    assert Image.open(tmp_path / "rgb.png").mode == "RGB"  # Pillow alone: 8 bits
    for name in ("rgb.tif", "planar.tif", "rgb.png"):
        read = read_image(tmp_path / name)
        assert read.dtype == np.uint16 and read.shape == (48, 48, 3)
        np.testing.assert_array_equal(read, rgb)


def test_float_and_signed_images_keep_their_values(tmp_path):
    floats = (RNG.standard_normal((20, 24)) * 1e6).astype(np.float32)
    signed = RNG.integers(-30000, 30000, (20, 24)).astype(np.int16)
    wide = RNG.integers(-2**31, 2**31 - 1, (20, 24)).astype(np.int32)
    half = RNG.standard_normal((20, 24)).astype(np.float16)
    tifffile.imwrite(tmp_path / "f.tif", floats, byteorder=">")
    tifffile.imwrite(tmp_path / "i16.tif", signed)
    tifffile.imwrite(tmp_path / "i32.tif", wide, byteorder=">")
    tifffile.imwrite(tmp_path / "f16.tif", half)
    Image.fromarray(floats, mode="F").save(tmp_path / "pillow.tif")
    for name, original, dtype in [("f.tif", floats, np.float32), ("i16.tif", signed, np.int16),
                                  ("i32.tif", wide, np.int32), ("f16.tif", half, np.float32),
                                  ("pillow.tif", floats, np.float32)]:
        read = read_image(tmp_path / name)
        assert read.dtype == dtype, name
        np.testing.assert_array_equal(read, original.astype(dtype))


def test_eight_bit_palette_bilevel_and_alpha(tmp_path):
    grey = RNG.integers(0, 256, (20, 20), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(grey).save(tmp_path / "grey.bmp")
    Image.fromarray(np.stack([grey, grey], -1), mode="LA").save(tmp_path / "la.png")
    colour = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    Image.fromarray(colour).save(tmp_path / "rgb.png")
    Image.fromarray(colour).quantize(16).save(tmp_path / "palette.png")
    Image.fromarray(grey > 127).save(tmp_path / "bilevel.png")
    np.testing.assert_array_equal(read_image(tmp_path / "grey.png"), grey)
    np.testing.assert_array_equal(read_image(tmp_path / "grey.bmp"), grey)
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), grey)  # alpha dropped
    np.testing.assert_array_equal(read_image(tmp_path / "rgb.png"), colour)
    palette = Image.open(tmp_path / "palette.png")
    np.testing.assert_array_equal(read_image(tmp_path / "palette.png"),
                                  np.asarray(palette.convert("RGB")))
    assert read_image(tmp_path / "bilevel.png").dtype == bool
    np.testing.assert_array_equal(read_image(tmp_path / "bilevel.png"), grey > 127)


def test_tiff_colour_maps_and_min_is_white(tmp_path):
    index = RNG.integers(0, 4, (20, 20), dtype=np.uint8)
    colormap = np.zeros((3, 256), np.uint16)
    colormap[:, :4] = [[0, 65535, 0, 1000], [0, 0, 65535, 2000], [0, 0, 0, 3000]]
    tifffile.imwrite(tmp_path / "palette.tif", index, photometric="palette",
                     colormap=colormap)
    np.testing.assert_array_equal(read_image(tmp_path / "palette.tif"),
                                  np.moveaxis(colormap[:, index], 0, -1))
    values = _micrograph(20)
    tifffile.imwrite(tmp_path / "white.tif", values, photometric="miniswhite")
    np.testing.assert_array_equal(read_image(tmp_path / "white.tif"), 65535 - values)


# ---------------------------------------------------------------- pages, channels, stacks


def test_three_pages_give_three_images(tmp_path):
    pages = np.stack([_micrograph(32, seed=s) for s in range(3)])
    tifffile.imwrite(tmp_path / "stack.tif", pages, photometric="minisblack")
    images, names, skipped = read_images([tmp_path / "stack.tif"])
    assert names == [f"{tmp_path / 'stack.tif'}[{i}]" for i in range(3)] and skipped == []
    for image, page in zip(images, pages, strict=True):
        np.testing.assert_array_equal(image, page)
    with pytest.raises(ValueError, match=r"stack\.tif holds 3 images .*stack\.tif\[2\]"):
        read_image(tmp_path / "stack.tif")


def test_pages_of_different_sizes_and_types(tmp_path):
    with tifffile.TiffWriter(tmp_path / "mixed.tif") as writer:
        writer.write(_micrograph(32))
        writer.write(RNG.random((20, 24)).astype(np.float32))
        writer.write(RNG.integers(0, 255, (16, 40, 3), dtype=np.uint8), photometric="rgb")
    images, names, _ = read_images([tmp_path / "mixed.tif"])
    assert [n[-3:] for n in names] == ["[0]", "[1]", "[2]"]
    assert [(i.shape, i.dtype) for i in images] == [
        ((32, 32), np.uint16), ((20, 24), np.float32), ((16, 40, 3), np.uint8)]


def test_reduced_resolution_pages_are_not_images(tmp_path):
    image = _micrograph(64)
    with tifffile.TiffWriter(tmp_path / "thumb.tif") as writer:
        writer.write(image)
        writer.write(image[::4, ::4], subfiletype=1)  # a thumbnail of the same image
    images, names, skipped = read_images([tmp_path / "thumb.tif"])
    assert names == [str(tmp_path / "thumb.tif")] and skipped == []
    np.testing.assert_array_equal(images[0], image)


def test_imagej_channels_split_or_rgb(tmp_path):
    channels = np.stack([_micrograph(32, seed=s) for s in range(3)])
    hyper = np.stack([channels, channels[::-1]])  # T=2, C=3
    tifffile.imwrite(tmp_path / "ij.tif", hyper, imagej=True, metadata={"axes": "TCYX"})
    tifffile.imwrite(tmp_path / "ome.ome.tif", hyper, metadata={"axes": "TCYX"},
                     compression="zlib")
    for name in ("ij.tif", "ome.ome.tif"):
        split, names, _ = read_images([tmp_path / name])
        assert len(split) == 6 and names[5].endswith("[5]")
        for k, image in enumerate(split):  # file order: T, then C fastest
            np.testing.assert_array_equal(image, hyper[k // 3, k % 3])
        rgb, names, _ = read_images([tmp_path / name], channels="rgb")
        assert [n[-3:] for n in names] == ["[0]", "[1]"]
        np.testing.assert_array_equal(rgb[0], np.moveaxis(channels, 0, -1))
        np.testing.assert_array_equal(rgb[1], np.moveaxis(channels[::-1], 0, -1))
    # on the command line: 3 time points of 3 channels, 9 grey images or 3 RGB ones
    folder = tmp_path / "hyper"
    folder.mkdir()
    times = np.stack([[_micrograph(32, seed=10 + 3 * t + c) for c in range(3)]
                      for t in range(3)])
    tifffile.imwrite(folder / "t3c3.tif", times, imagej=True, metadata={"axes": "TCYX"})
    for policy, count in [("split", 9), ("rgb", 3)]:
        out = tmp_path / f"map_{policy}"
        assert main(["embed", str(folder), "--method", "ps", "--channels", policy,
                     "--no-progress", "--out", str(out)]) == 0
        rows = _rows(out / "coordinates.csv")
        assert [Path(r["file"]).name for r in rows] == [f"t3c3.tif[{k}]" for k in range(count)]
        assert json.loads((out / "settings.json").read_text())["channels"] == policy
    tifffile.imwrite(tmp_path / "two.tif", channels[:2], imagej=True,
                     metadata={"axes": "CYX"})
    images, _, skipped = read_images([tmp_path / "two.tif"], channels="rgb")
    assert images == [] and len(skipped) == 2
    assert all("channel axis of 2" in reason for _, reason in skipped)


def test_npy_images_and_stacks(tmp_path):
    grey = _micrograph(24)
    np.save(tmp_path / "grey.npy", grey.astype(">u2"))
    np.save(tmp_path / "rgb.npy", np.stack([grey] * 3, -1))
    np.save(tmp_path / "stack.npy", np.stack([grey, grey + 1]))
    np.save(tmp_path / "half.npy", (grey / 64.0).astype(np.float16))
    assert read_image(tmp_path / "grey.npy").dtype == np.uint16
    np.testing.assert_array_equal(read_image(tmp_path / "grey.npy"), grey)
    assert read_image(tmp_path / "rgb.npy").shape == (24, 24, 3)
    images, names, _ = read_images([tmp_path / "stack.npy"])
    assert names == [f"{tmp_path / 'stack.npy'}[0]", f"{tmp_path / 'stack.npy'}[1]"]
    np.testing.assert_array_equal(images[1], grey + 1)
    half = read_image(tmp_path / "half.npy")
    assert half.dtype == np.float32
    np.testing.assert_array_equal(half, (grey / 64.0).astype(np.float16).astype(np.float32))


def test_memmap_reads_uncompressed_files_lazily(tmp_path):
    image = _micrograph(32)
    tifffile.imwrite(tmp_path / "plain.tif", image)
    tifffile.imwrite(tmp_path / "zlib.tif", image, compression="zlib")
    np.save(tmp_path / "plain.npy", image)
    for name, mapped in [("plain.tif", True), ("zlib.tif", False), ("plain.npy", True)]:
        read = read_image(tmp_path / name, memmap=True)
        assert isinstance(read, np.memmap) == mapped, name
        np.testing.assert_array_equal(read, image)
        assert not isinstance(read_image(tmp_path / name), np.memmap)


# ---------------------------------------------------------------- files and folders


def test_unsupported_formats_are_listed_with_the_reason(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(_micrograph(24, seed=i)).save(folder / f"ok{i}.png")
    for suffix in (".dm3", ".dm4", ".emd", ".mrc", ".ser", ".sem"):
        (folder / f"scan{suffix}").write_bytes(b"\x00\x00\x00\x03 microscope data")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "map"
    assert main(["embed", str(folder), "--method", "ps", "--no-progress",
                 "--out", str(out)]) == 0
    reasons = {Path(r["file"]).name: r["reason"] for r in _rows(out / "skipped.csv")}
    assert set(reasons) == {f"scan{s}" for s in (".dm3", ".dm4", ".emd", ".mrc", ".ser",
                                                  ".sem")}
    assert reasons["scan.dm3"].startswith("Gatan DM3 (.dm3) files are not supported; "
                                          "export the image as TIFF")
    # a microscope file named on the command line is reported the same way
    images, _, skipped = read_images([folder / "scan.dm4"])
    assert images == [] and "Gatan DM4" in skipped[0][1]


def test_format_is_recognised_by_content(tmp_path):
    image = _micrograph(24)
    tifffile.imwrite(tmp_path / "really_a_tiff.png", image)
    np.testing.assert_array_equal(read_image(tmp_path / "really_a_tiff.png"), image)
    assert {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".npy"} <= set(IMAGE_SUFFIXES)
    assert not set(IMAGE_SUFFIXES) & set(UNSUPPORTED_FORMATS)


def test_recursive_search(tmp_path):
    folder = tmp_path / "images"
    (folder / "run1" / "deep").mkdir(parents=True)
    Image.fromarray(_micrograph(24, seed=0)).save(folder / "top.png")
    Image.fromarray(_micrograph(24, seed=1)).save(folder / "run1" / "a.png")
    Image.fromarray(_micrograph(24, seed=2)).save(folder / "run1" / "deep" / "b.png")
    (folder / "run1" / "c.dm3").write_bytes(b"x")
    assert find_image_files([folder]) == [folder / "top.png"]
    assert find_image_files([folder], recursive=True) == [
        folder / "run1" / "a.png", folder / "run1" / "deep" / "b.png", folder / "top.png"]
    out = tmp_path / "map"
    assert main(["embed", str(folder), "--method", "ps", "--no-progress",
                 "--out", str(out)]) == 1  # one image at the top: too few
    assert main(["embed", str(folder), "--recursive", "--method", "ps", "--no-progress",
                 "--out", str(out)]) == 0
    assert sorted(Path(r["file"]).name for r in _rows(out / "coordinates.csv")) == [
        "a.png", "b.png", "top.png"]
    assert [Path(r["file"]).name for r in _rows(out / "skipped.csv")] == ["c.dm3"]


def test_max_pixels_refuses_and_allows(tmp_path, monkeypatch):
    folder = tmp_path / "images"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", _micrograph(40))
    np.save(folder / "b.npy", _micrograph(40, seed=1))
    Image.fromarray(_micrograph(40, seed=2)).save(folder / "c.png")
    images, _, skipped = read_images([folder], max_pixels=1599)
    assert images == [] and len(skipped) == 3
    assert all(r.startswith("refused as a possible decompression bomb: 40x40 = 1,600 "
                            "pixels, more than the limit of 1,599") for _, r in skipped)
    assert len(read_images([folder], max_pixels=1600)[0]) == 3
    # the default is Pillow's guard, for every format; --max-pixels raises it
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert len(read_images([folder])[2]) == 3
    out = tmp_path / "map"
    assert main(["embed", str(folder), "--method", "ps", "--no-progress",
                 "--out", str(out)]) == 1
    assert main(["embed", str(folder), "--method", "ps", "--no-progress", "--max-pixels",
                 "1600", "--out", str(out)]) == 0
    assert json.loads((out / "settings.json").read_text())["max_pixels"] == 1600


def test_crop_bottom_removes_the_data_bar(tmp_path):
    image = _micrograph(48)
    image[40:] = 65535  # an SEM data bar
    tifffile.imwrite(tmp_path / "sem.tif", image)
    np.testing.assert_array_equal(read_image(tmp_path / "sem.tif", crop_bottom=8),
                                  image[:40])
    with pytest.raises(ValueError, match=r"sem\.tif: the image is 48 pixels tall, not taller "
                                         r"than crop_bottom=48"):
        read_image(tmp_path / "sem.tif", crop_bottom=48)
    folder = tmp_path / "images"
    folder.mkdir()
    for seed in range(3):
        tifffile.imwrite(folder / f"s{seed}.tif", _micrograph(48, seed=seed))
    out = tmp_path / "map"
    assert main(["embed", str(folder), "--method", "ps", "--crop-bottom", "16",
                 "--no-progress", "--out", str(out)]) == 0
    assert json.loads((out / "settings.json").read_text())["crop_bottom"] == 16
    # 48 - 16 = 32 rows are left: 32x48 images are compared (no common crop needed)
    assert main(["embed", str(folder), "--method", "ps", "--crop-bottom", "40",
                 "--no-progress", "--out", str(out)]) == 1  # 8 rows: below 16


def test_embed_reads_every_page_and_keeps_uint8_mapping(tmp_path):
    """A 3-page TIFF gives 3 rows; uint8 and uint16 images of one size keep their own
    intensity mappings (no promotion of the uint8 image to uint16)."""
    folder = tmp_path / "images"
    folder.mkdir()
    pages = np.stack([_micrograph(32, seed=s) for s in range(3)])
    tifffile.imwrite(folder / "stack.tif", pages, photometric="minisblack")
    eight = (pages[0] >> 8).astype(np.uint8)
    Image.fromarray(eight).save(folder / "eight.png")
    out = tmp_path / "map"
    assert main(["embed", str(folder), "--weights", "random", "--no-progress",
                 "--out", str(out)]) == 0
    names = [Path(r["file"]).name for r in _rows(out / "coordinates.csv")]
    assert names == ["eight.png", "stack.tif[0]", "stack.tif[1]", "stack.tif[2]"]
    vectors = np.load(out / "vectors.npy")  # rows in the order of coordinates.csv
    alone = GramTextureVectorizer(weights="random", random_state=0)
    for row, image in [(0, eight), (1, pages[0])]:
        expected = alone.fit_transform([image])[0]  # up to float32 batch rounding
        np.testing.assert_allclose(vectors[row], expected, rtol=0,
                                   atol=1e-5 * np.abs(expected).max())
    # as uint16 the 8-bit image would be another, far darker texture
    darker = alone.fit_transform([eight.astype(np.uint16)])[0]
    assert np.abs(darker - vectors[0]).max() > 0.1 * np.abs(vectors[0]).max()


def test_thumbnail_is_small_8_bit_rgb_of_the_mapping():
    image = np.zeros((1000, 250), np.uint16)
    image[:, 125:] = 65535
    small = thumbnail(image, size=100)
    assert small.shape == (100, 25, 3) and small.dtype == np.uint8
    assert small[:, :12].max() == 0 and small[:, 13:].min() == 255
    assert thumbnail(np.full((20, 20), 3.5, np.float32)).max() == 128  # uniform: mid grey
    bilevel = thumbnail(np.eye(20, dtype=bool))
    assert bilevel.shape == (20, 20, 3) and set(np.unique(bilevel)) == {0, 255}
    np.testing.assert_array_equal(bilevel[..., 1] == 255, np.eye(20, dtype=bool))


# ---------------------------------------------------------------- round trips (property)

DTYPES = ["u1", "u2", "u4", "i1", "i2", "i4", "f4", "f8"]


@given(dtype=st.sampled_from(DTYPES), order=st.sampled_from("<>"),
       shape=st.sampled_from([(1, 1), (3, 5), (17, 16), (16, 17, 3), (9, 8, 4)]),
       compression=st.sampled_from([None, "zlib", "lzw"]), seed=st.integers(0, 2**16))
def test_tiff_round_trip_is_exact(tmp_path_factory, dtype, order, shape, compression, seed):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        data = (rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
    path = tmp_path_factory.mktemp("rt") / "x.tif"
    photometric = "rgb" if len(shape) == 3 else "minisblack"
    extras = ["unassalpha"] if shape[-1] == 4 and len(shape) == 3 else None
    tifffile.imwrite(path, data, byteorder=order, compression=compression,
                     photometric=photometric, extrasamples=extras)
    read = read_image(path)
    assert read.dtype == dtype and read.dtype.isnative
    np.testing.assert_array_equal(read, data)
    np.save(path.with_suffix(".npy"), data.astype(dtype.newbyteorder(order)))
    np.testing.assert_array_equal(read_image(path.with_suffix(".npy")), data)


@given(dtype=st.sampled_from(["u1", "u2"]), colour=st.booleans(), seed=st.integers(0, 2**16))
def test_png_round_trip_is_exact(tmp_path_factory, dtype, colour, seed):
    import imagecodecs

    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    data = rng.integers(0, info.max, (11, 13, 3) if colour else (11, 13), endpoint=True,
                        dtype=dtype)
    path = tmp_path_factory.mktemp("png") / "x.png"
    path.write_bytes(imagecodecs.png_encode(data))
    read = read_image(path)
    assert read.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(read, data)


# ---------------------------------------------------------------- bad input


def _truncated_tiff(t):
    tifffile.imwrite(t / "cut.tif", _micrograph(64), compression="zlib", rowsperstrip=8)
    data = (t / "cut.tif").read_bytes()
    (t / "cut.tif").write_bytes(data[: len(data) // 2])
    return t / "cut.tif"


def _broken_page_chain(t):
    pages = np.stack([_micrograph(32, seed=s) for s in range(3)])
    with tifffile.TiffWriter(t / "chain.tif") as writer:
        for page in pages:
            writer.write(page, metadata=None)  # three separate pages, no shape metadata
    data = bytearray((t / "chain.tif").read_bytes())
    with tifffile.TiffFile(t / "chain.tif") as tif:
        second = tif.pages[1].offset
    (t / "chain.tif").write_bytes(bytes(data[:second]))  # pages 2 and 3 are gone
    return t / "chain.tif"


def _write(t, name, writer):
    writer(t / name)
    return t / name


BAD = {
    "truncated-tiff": (_truncated_tiff, r"cut\.tif is not a readable image \(.*Deflate"),
    "broken-page-chain": (_broken_page_chain,
                          r"chain\.tif is not a readable image \(damaged TIFF: .*offset"),
    "truncated-uncompressed": (
        lambda t: _write(t, "u.tif", lambda p: p.write_bytes(
            tifffile_bytes(_micrograph(64))[:3000])),
        r"u\.tif is not a readable image \(failed to read"),
    "two-channels-tiff": (
        lambda t: _write(t, "two.tif", lambda p: tifffile.imwrite(
            p, np.zeros((20, 20, 2), np.uint8), photometric="minisblack",
            planarconfig="contig")),
        r"two\.tif: 2 samples per pixel .*an image is grey, RGB or RGBA"),
    "two-channels-npy": (lambda t: _write(t, "two.npy", lambda p: np.save(
        p, np.zeros((20, 20, 2)))), r"two\.npy: has 2 channels"),
    "five-channels-npy": (lambda t: _write(t, "five.npy", lambda p: np.save(
        p, np.zeros((1, 20, 20, 5)))), r"five\.npy: has 5 channels"),
    "zero-size-npy": (lambda t: _write(t, "zero.npy", lambda p: np.save(
        p, np.zeros((0, 16)))), r"zero\.npy: has no pixels \(shape \(0, 16\)\)"),
    "empty-stack-npy": (lambda t: _write(t, "none.npy", lambda p: np.save(
        p, np.zeros((0, 16, 16)))), r"none\.npy: holds an empty stack"),
    "complex-tiff": (lambda t: _write(t, "c.tif", lambda p: tifffile.imwrite(
        p, np.ones((20, 20), np.complex64))), r"c\.tif: pixels of dtype complex64 are not "
        r"supported"),
    "complex-npy": (lambda t: _write(t, "c.npy", lambda p: np.save(
        p, np.ones((20, 20), complex))), r"c\.npy: pixels of dtype complex128"),
    "nan-tiff": (lambda t: _write(t, "nan.tif", lambda p: tifffile.imwrite(
        p, np.where(np.eye(20) > 0, np.nan, 1.0).astype(np.float32))),
        r"nan\.tif: 20 of 400 pixels are NaN or infinite \(the first at row 0, column 0\)"),
    "inf-npy": (lambda t: _write(t, "inf.npy", lambda p: np.save(
        p, np.pad(np.full((1, 1), np.inf), ((7, 12), (3, 16))))),
        r"inf\.npy: 1 of 400 pixels are NaN or infinite \(the first at row 7, column 3\)"),
    "truncated-npy": (lambda t: _write(t, "cut.npy", lambda p: p.write_bytes(
        npy_bytes(np.ones((20, 20)))[:1000])), r"cut\.npy is not a readable image \(a "
        r"truncated \.npy file"),
    "pickle-npy": (lambda t: _write(t, "p.npy", lambda p: np.save(
        p, np.array([{"x": 1}], dtype=object), allow_pickle=True)),
        r"p\.npy: holds Python objects \(a pickle\), which are never loaded"),
    "longdouble-npy": (lambda t: _write(t, "ld.npy", lambda p: np.save(
        p, np.ones((20, 20), np.longdouble))), r"ld\.npy: float128 pixels cannot be kept"),
    "cmyk-tiff": (lambda t: _write(t, "cmyk.tif", lambda p: tifffile.imwrite(
        p, np.zeros((20, 20, 4), np.uint8), photometric="separated")),
        r"cmyk\.tif: CMYK \(separated\) colour is not read"),
    "cmyk-jpeg": (lambda t: _write(t, "cmyk.jpg", lambda p: Image.new(
        "CMYK", (20, 20)).save(p)), r"cmyk\.jpg: Pillow mode CMYK \(CMYK colour\)"),
    "empty-file": (lambda t: _write(t, "e.tif", lambda p: p.write_bytes(b"")),
                   r"e\.tif is not a readable image \(empty file\)"),
    "not-an-image": (lambda t: _write(t, "n.png", lambda p: p.write_text("hello")),
                     r"n\.png is not a readable image \(not a TIFF, PNG, JPEG, BMP or \.npy "
                     r"file\)"),
    "truncated-png": (lambda t: _write(t, "cut.png", lambda p: p.write_bytes(
        png_bytes(_micrograph(64))[:300])), r"cut\.png is not a readable image \("),
    "dm3": (lambda t: _write(t, "x.dm3", lambda p: p.write_bytes(b"\0\0\0\3....")),
            r"x\.dm3 is not a readable image \(Gatan DM3 \(\.dm3\) files are not supported"),
}


def tifffile_bytes(image):
    import io

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image)
    return buffer.getvalue()


def npy_bytes(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def png_bytes(image):
    import io

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_the_file_and_reason(case, tmp_path):
    make, pattern = BAD[case]
    path = make(tmp_path)
    with pytest.raises(ValueError, match=pattern):
        read_image(path)
    # read_images lists it as skipped with the same reason (without the file name)
    images, names, skipped = read_images([path])
    assert images == [] and names == []
    assert skipped and all(name.startswith(str(path)) for name, _ in skipped)


def test_bad_options_are_refused():
    for kwargs, pattern in [({"max_pixels": 0}, "max_pixels must be a positive integer"),
                            ({"channels": "merge"}, "channels must be one of"),
                            ({"crop_bottom": -1}, "crop_bottom must be an integer >= 0")]:
        with pytest.raises(ValueError, match=pattern):
            list(iter_images(["."], **kwargs))
