"""``sklearn-texture reproduce synthesis`` and ``map-walk``, and the photographs they use.

Runs use random weights, 16-32 px and a few evaluations: seconds to ~20 s each, those
over a few seconds marked slow with their measured time; one run (also slow) uses the
paper's normalised VGG-19.
"""

import csv
import importlib.util
import json

import numpy as np
import pytest
from PIL import Image

from sklearn_texture import datasets
from sklearn_texture.cli import main
from sklearn_texture.datasets import TEXTURE_PHOTOGRAPHS, load_texture_photographs
from sklearn_texture.reports import check_output_folder

# The photographs ship with scikit-image (in the [test] extra): found, not imported.
needs_photographs = pytest.mark.skipif(importlib.util.find_spec("skimage") is None,
                                       reason="scikit-image is not installed")


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image)


def snapshot(folder):
    """Every path under ``folder`` with its bytes (folders: None)."""
    return {p: (None if p.is_dir() else p.read_bytes()) for p in folder.rglob("*")}


def one_error(capsys):
    """The single stderr line of a refused run, without its prefix."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sklearn-texture: error: "), lines
    return lines[0].removeprefix("sklearn-texture: error: ")


# ---------------------------------------------------------------- the photographs


@needs_photographs
def test_photographs_are_central_crops_of_the_bundled_files():
    whole, _ = load_texture_photographs(list(TEXTURE_PHOTOGRAPHS))
    cropped, names = load_texture_photographs(list(TEXTURE_PHOTOGRAPHS), size=40)
    assert names == list(TEXTURE_PHOTOGRAPHS)
    for name, full, crop in zip(names, whole, cropped, strict=True):
        assert full.dtype == crop.dtype == np.uint8
        assert crop.shape[:2] == (40, 40)
        assert crop.ndim == (3 if name == "ihc" else 2)
        top, left = (full.shape[0] - 40) // 2, (full.shape[1] - 40) // 2
        np.testing.assert_array_equal(crop, full[top:top + 40, left:left + 40])
        assert crop.std() > 2, f"{name} is flat"
    assert whole[names.index("cell")].shape == (660, 550)


@needs_photographs
@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"names": ["bricks"]}, r"unknown texture photograph 'bricks'; available: brick, grass"),
    ({"names": "wood"}, "available: brick, grass, gravel, ihc, cell, moon"),
    ({"names": []}, "names is empty"),
    ({"names": ["grass", "grass"]}, "must not repeat; got grass"),
    ({"names": ["cell"], "size": 551}, r"at most 550 for cell \(660x550 pixels\); got 551"),
    ({"size": 0}, "size must be an integer >= 1"),
    ({"names": None}, r"names must be a name or a sequence of names; choose from brick, "
                      r"grass, gravel, ihc, cell, moon; got None\."),
    ({"names": 5}, "names must be a name or a sequence of names; .* got 5"),
])
def test_photographs_bad_input(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        load_texture_photographs(**kwargs)


def test_textures_are_public_and_photographs():
    assert "TEXTURES" in datasets.__all__ and "TEXTURE_PHOTOGRAPHS" in datasets.__all__
    assert set(datasets.TEXTURES) <= set(TEXTURE_PHOTOGRAPHS)


def test_photographs_without_scikit_image_name_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "skimage" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install 'sklearn-texture\[examples\]'"):
        load_texture_photographs(["brick"])


# ---------------------------------------------------------------- reproduce synthesis

TINY = ["--weights", "random", "--size", "32", "--no-progress"]


@pytest.fixture(scope="module")
def synthesis_run(tmp_path_factory):
    """brick, grass and the RGB micrograph ihc at 32², random weights, 8 evaluations
    (two optimiser groups, grey and colour): 18 s here (2 cores, load ~5, imports
    included)."""
    if importlib.util.find_spec("skimage") is None:
        pytest.skip("scikit-image is not installed")
    out = tmp_path_factory.mktemp("synthesis") / "out"
    status = main(["reproduce", "synthesis", "--out", str(out), *TINY, "--n-iter", "8",
                   "--textures", "brick", "grass", "ihc"])
    assert status == 0
    return out


# slow: the synthesis_run fixture (see its docstring)
@pytest.mark.slow
def test_reproduce_synthesis_writes_every_file(synthesis_run):
    out = synthesis_run
    names = ["brick", "grass", "ihc"]
    expected = {"settings.json", "panel.png", "loss_curve.png", "losses.csv",
                "synthesis.csv", "synthesis.md"}
    expected |= {f"{n}_{kind}.png" for n in names for kind in ("original", "synthesis")}
    assert {p.name for p in out.iterdir()} == expected
    for name in names:
        for kind in ("original", "synthesis"):
            pixels = decoded(out / f"{name}_{kind}.png")
            assert pixels.dtype == np.uint8
            assert pixels.shape == ((32, 32, 3) if name == "ihc" else (32, 32))
            assert pixels.min() == 0 and pixels.max() == 255  # span [0, 1] as written
    settings = json.loads((out / "settings.json").read_text())
    assert settings["command"] == "reproduce synthesis"
    assert settings["textures"] == names and settings["size"] == 32
    assert settings["n_iter"] == 8 and settings["weights"] == "random"
    assert "scikit-image" in settings["source"]
    # every file is one reports.RUN_FILES lists: a later run may replace the folder,
    # a run of another command may not
    assert check_output_folder(out, "reproduce synthesis") == out
    with pytest.raises(ValueError, match="holds an earlier `reproduce synthesis` run"):
        check_output_folder(out, "synthesize")


@pytest.mark.slow
def test_reproduce_synthesis_panel_shows_originals_over_syntheses(synthesis_run):
    panel = decoded(synthesis_run / "panel.png")[..., :3].astype(float)
    # three columns of two images: wide, and far from one flat colour
    assert panel.shape[1] > panel.shape[0]
    assert panel.std() > 30
    curve = decoded(synthesis_run / "loss_curve.png")
    assert curve.std() > 10


@pytest.mark.slow
def test_reproduce_synthesis_losses_fall(synthesis_run):
    rows = read_csv(synthesis_run / "losses.csv")
    assert [r["file"] for r in rows] == ["brick", "grass", "ihc"]
    for row in rows:
        assert int(row["evaluations"]) == 8
        assert float(row["final_loss"]) < 0.5 * float(row["start_loss"])
        assert float(row["final/start"]) == pytest.approx(
            float(row["final_loss"]) / float(row["start_loss"]))


@pytest.mark.slow
def test_reproduce_synthesis_nearest_columns_match_the_written_images(synthesis_run):
    """synthesis.csv's Eq. 4 and Eq. 7 columns, recomputed from the PNGs written (8-bit,
    so ratios agree to a few per cent; flags are compared where the ratio is clear)."""
    from sklearn_texture import GramTextureVectorizer, power_spectrum

    out = synthesis_run
    table = read_csv(out / "synthesis.csv")
    names = [row["texture"] for row in table]
    originals = [decoded(out / f"{n}_original.png") / 255.0 for n in names]
    syntheses = [decoded(out / f"{n}_synthesis.png") / 255.0 for n in names]
    vectorizer = GramTextureVectorizer(weights="random", random_state=0).fit(
        originals[0][None])

    def gram(images):
        return np.vstack([vectorizer.transform(image[None]) for image in images])

    def spectra(images):
        return power_spectrum(np.stack([i.mean(axis=-1) if i.ndim == 3 else i
                                        for i in images]))

    for label, features in (("Eq. 4", gram), ("Eq. 7", spectra)):
        d = np.linalg.norm(features(syntheses)[:, None] - features(originals)[None], axis=2)
        for i, row in enumerate(table):
            others = np.delete(d[i], i)
            ratio = d[i, i] / others.min()
            written = float(row[f"{label} own/other"])
            assert row[f"nearest by {label}"] == str(written < 1)
            assert ratio == pytest.approx(written, rel=0.05), (label, row["texture"])
            if abs(written - 1) > 0.1:
                assert (ratio < 1) == (written < 1)
    markdown = (out / "synthesis.md").read_text()
    count = sum(row["nearest by Eq. 4"] == "True" for row in table)
    assert f"{count} of 3 by Eq. 4" in markdown
    assert "| brick |" in markdown


def test_full_contrast_is_the_packages_intensity_mapping():
    """reproduce synthesis stretches each photograph from its own range onto [0, 1]
    (colour channels jointly), as the intensity mapping does for floats; uniform: 0.5."""
    from sklearn_texture._images import intensity_bounds, rescale_intensities
    from sklearn_texture.cli import _full_contrast

    grey = np.array([[100, 110], [120, 150]], np.uint8)
    np.testing.assert_allclose(_full_contrast(grey), [[0, 0.2], [0.4, 1]], atol=1e-7)
    rgb = np.stack([grey, grey // 2, grey + 50], axis=-1)
    unit = _full_contrast(rgb)
    assert unit.dtype == np.float32 and unit.min() == 0 and unit.max() == 1
    low, high = intensity_bounds(rgb.astype(np.float32))
    assert (low, high) == (50, 200)
    np.testing.assert_array_equal(unit, rescale_intensities(rgb, low, high))
    assert np.all(_full_contrast(np.full((4, 4), 7, np.uint16)) == 0.5)


def test_nearest_exemplars_flags_a_swap():
    """The table's logic on known answers: syntheses that are (near) copies of their own
    exemplar are nearest to it; two swapped ones are not, with own/other > 1."""
    from argparse import Namespace

    from sklearn_texture.cli import _nearest_exemplars

    rng = np.random.default_rng(0)
    exemplars = [rng.random((16, 16)) ** p for p in (1, 4, 0.25)]
    exemplars = [e * (np.arange(16) % (3 + 2 * i) < 1 + i) for i, e in enumerate(exemplars)]
    near = [e + 0.01 * rng.random(e.shape) for e in exemplars]
    args = Namespace(weights="random", device="cpu", random_state=0)
    rows = _nearest_exemplars(exemplars, near, args)
    assert all(r["nearest by Eq. 4"] and r["nearest by Eq. 7"] for r in rows)
    assert all(r["Eq. 4 own/other"] < 0.5 and r["Eq. 7 own/other"] < 0.5 for r in rows)
    swapped = _nearest_exemplars(exemplars, [near[1], near[0], near[2]], args)
    assert [r["nearest by Eq. 4"] for r in swapped] == [False, False, True]
    assert [r["nearest by Eq. 7"] for r in swapped] == [False, False, True]
    assert swapped[0]["Eq. 4 own/other"] > 1 and swapped[1]["Eq. 7 own/other"] > 1


# slow: two runs, 11 s here (2 cores, load ~5)
@pytest.mark.slow
@needs_photographs
def test_reproduce_synthesis_is_reproducible(tmp_path):
    """Same seed, same bytes (CPU): two tiny runs write identical syntheses."""
    argv = ["reproduce", "synthesis", *TINY, "--n-iter", "3", "--device", "cpu",
            "--textures", "gravel", "moon"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    for name in ("gravel", "moon"):
        assert (tmp_path / "a" / f"{name}_synthesis.png").read_bytes() == \
            (tmp_path / "b" / f"{name}_synthesis.png").read_bytes()


@needs_photographs
def test_reproduce_synthesis_spectrum_weight_names_the_colour_photograph(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "synthesis", "--out", str(out), *TINY, "--n-iter", "1",
                 "--textures", "brick", "ihc", "--spectrum-weight", "1"]) == 1
    assert one_error(capsys) == (
        "--spectrum-weight > 0 needs grey photographs; ihc is colour: leave it out of "
        "--textures or leave --spectrum-weight out.")
    assert not any(tmp_path.iterdir())


def test_synthesize_spectrum_weight_refusals_name_the_option(tmp_path, capsys):
    rng = np.random.default_rng(0)
    grey, colour = tmp_path / "grey.png", tmp_path / "colour.png"
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(grey)
    Image.fromarray((rng.random((32, 32, 3)) * 255).astype(np.uint8)).save(colour)
    out = tmp_path / "out"
    argv = ["synthesize", "--weights", "random", "--n-iter", "1", "--no-progress",
            "--spectrum-weight", "1", "--out", str(out)]
    assert main([*argv, str(grey), str(colour)]) == 1
    assert one_error(capsys) == (
        f"--spectrum-weight > 0 needs grey images; {colour} is colour: leave it out or "
        "leave --spectrum-weight out.")
    assert main([*argv, str(grey), "--size", "16"]) == 1
    assert one_error(capsys) == (
        "--spectrum-weight > 0 needs syntheses of each image's own size (power spectra of "
        f"other sizes sample other wavevectors, Eq. 7); {grey} is 32x32, not 16x16: leave "
        "--size out.")
    assert not out.exists()


def test_reproduce_synthesis_without_scikit_image_writes_nothing(tmp_path, monkeypatch,
                                                                 capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "skimage" else real(name, *a))
    out = tmp_path / "out"
    assert main(["reproduce", "synthesis", "--out", str(out), *TINY]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error == ["sklearn-texture: error: the texture photographs ship with "
                     "scikit-image, which is not installed: pip install "
                     "'sklearn-texture[examples]'."]
    assert not out.exists() and not any(tmp_path.iterdir())


@needs_photographs
@pytest.mark.slow
def test_reproduce_synthesis_with_the_paper_network(tmp_path):
    """The normalised VGG-19 at 48², 40 evaluations (43 s on 2 cores, load ~5): every
    synthesis is nearest to its own photograph by Eq. 4, and the loss falls 100-fold."""
    out = tmp_path / "out"
    assert main(["reproduce", "synthesis", "--out", str(out), "--size", "48",
                 "--n-iter", "40", "--no-progress"]) == 0
    table = read_csv(out / "synthesis.csv")
    assert [r["texture"] for r in table] == ["brick", "grass", "gravel"]
    assert all(r["nearest by Eq. 4"] == "True" for r in table)
    assert all(float(r["final/start loss"]) < 0.01 for r in table)


# ---------------------------------------------------------------- map-walk


def perlin_folder(folder, n=6, size=32):
    """Perlin textures of varying angle and scale, as 8-bit PNG files."""
    from sklearn_texture import PerlinTextureDataset

    folder.mkdir(parents=True)
    data = PerlinTextureDataset(theta=np.linspace(0, np.pi, n, endpoint=False),
                                k=np.where(np.arange(n) % 2, 4.0, 8.0), amplitude=1.0,
                                size=size, random_state=0)
    for index, image in enumerate(data.images):
        Image.fromarray(np.round((image + 1) * 127.5).astype(np.uint8)).save(
            folder / f"t{index}.png")
    return folder


@pytest.fixture(scope="module")
def gram_map(tmp_path_factory):
    """A 3-D Gram map (random weights) of six 32² Perlin textures (with the walk
    below, 9 s here on 2 cores, load ~5)."""
    scratch = tmp_path_factory.mktemp("map")
    folder = perlin_folder(scratch / "images")
    out = scratch / "map"
    assert main(["embed", str(folder), "--weights", "random", "--n-components", "3",
                 "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def walk(gram_map, tmp_path_factory):
    """A 3x3 walk over dimensions 1 and 3 of the map, 32², 6 evaluations (a few s)."""
    out = tmp_path_factory.mktemp("walk") / "out"
    assert main(["map-walk", str(gram_map), "--out", str(out), "--n-points", "3",
                 "--size", "32", "--n-iter", "6", "--dims", "1", "3", "--no-progress"]) == 0
    return out


# slow: the gram_map and walk fixtures (see their docstrings)
@pytest.mark.slow
def test_map_walk_writes_every_file(walk):
    names = {f"walk_r{r}_c{c}.png" for r in range(3) for c in range(3)}
    assert {p.name for p in walk.iterdir()} == names | {"grid.png", "points.csv",
                                                        "settings.json"}
    for name in names:
        pixels = decoded(walk / name)
        assert pixels.dtype == np.uint8 and pixels.shape == (32, 32)
        assert pixels.std() > 10  # a texture, not a flat image
    grid = decoded(walk / "grid.png")[..., :3].astype(float)
    assert grid.shape[0] > 400 and grid.std() > 30
    settings = json.loads((walk / "settings.json").read_text())
    assert settings["command"] == "map-walk" and settings["weights"] == "random"
    assert check_output_folder(walk, "map-walk") == walk
    with pytest.raises(ValueError, match="holds an earlier `map-walk` run"):
        check_output_folder(walk, "embed")
    assert settings["dims"] == [1, 3] and settings["n_points"] == 3
    assert settings["size"] == 32 and settings["n_iter"] == 6
    assert settings["weights_identity"]["weights"] == "random"


@pytest.mark.slow
def test_map_walk_grid_spans_the_maps_box(walk, gram_map):
    """Rows from the top (largest mds_3) down, columns along mds_1, over exactly the
    landmarks' bounding box; mds_2 held at the landmarks' mean."""
    landmarks = np.array([[float(row[f"mds_{j}"]) for j in (1, 2, 3)]
                          for row in read_csv(gram_map / "coordinates.csv")])
    rows = read_csv(walk / "points.csv")
    assert len(rows) == 9
    points = np.array([[float(row[f"mds_{j}"]) for j in (1, 2, 3)] for row in rows])
    for index, row in enumerate(rows):
        assert (int(row["row"]), int(row["column"])) == divmod(index, 3)
        assert row["file"] == f"walk_r{row['row']}_c{row['column']}.png"
    grid = points.reshape(3, 3, 3)
    low, high = landmarks.min(axis=0), landmarks.max(axis=0)
    np.testing.assert_allclose(grid[0, :, 0], np.linspace(low[0], high[0], 3))
    np.testing.assert_allclose(grid[:, 0, 2], np.linspace(high[2], low[2], 3))
    np.testing.assert_allclose(grid[..., 0], np.broadcast_to(grid[0, :, 0], (3, 3)))
    np.testing.assert_allclose(points[:, 1], landmarks[:, 1].mean())


@pytest.mark.slow
def test_map_walk_reports_the_error_it_reached(walk, gram_map):
    """points.csv's relative Eq. 4 error, recomputed from the written PNGs (8-bit) with
    the map's own model: the target is its inverse_transform at the point."""
    from sklearn_texture.maps import load_map

    model = load_map(gram_map).model
    rows = read_csv(walk / "points.csv")
    points = np.array([[float(row[f"mds_{j}"]) for j in (1, 2, 3)] for row in rows])
    targets = model[-1].inverse_transform(points)
    images = np.stack([decoded(walk / row["file"]) / 255.0 for row in rows])
    achieved = model[0].set_params(verbose=0).transform(images)
    errors = np.linalg.norm(achieved - targets, axis=1) / np.linalg.norm(targets, axis=1)
    written = np.array([float(row["relative_eq4_error"]) for row in rows])
    np.testing.assert_allclose(errors, written, rtol=0.05)
    assert (written < 1).all()


# slow: the gram_map fixture
@pytest.mark.slow
def test_map_walk_refusal_leaves_an_earlier_folder_alone(gram_map, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    earlier = '{"command": "map-walk"}\n'  # an earlier map-walk's (replaceable)
    (out / "settings.json").write_text(earlier)
    status = main(["map-walk", str(gram_map), "--out", str(out), "--dims", "2", "4",
                   "--no-progress"])
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "sklearn-texture: error: --dims: give two different dimensions from 1 to 3 (the "
        "map's mds_1 ... mds_3); got 2 4.")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in out.iterdir()] == ["settings.json"]
    assert (out / "settings.json").read_text() == earlier


# reports.RUN_FILES decides which folders a run may replace: an earlier run of the same
# command (its settings.json says so) and nothing else, so a second run into the same
# --out replaces the first, and nothing else is ever replaced.


@pytest.mark.slow
def test_map_walk_replaces_its_own_earlier_folder(walk, gram_map, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(walk, out)
    assert main(["map-walk", str(gram_map), "--out", str(out), "--n-points", "2",
                 "--size", "32", "--n-iter", "1", "--no-progress"]) == 0
    assert len(read_csv(out / "points.csv")) == 4


@pytest.mark.slow
def test_reproduce_synthesis_replaces_its_own_earlier_folder(synthesis_run, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(synthesis_run, out)
    assert main(["reproduce", "synthesis", "--out", str(out), *TINY, "--n-iter", "1",
                 "--textures", "brick", "grass"]) == 0
    assert not (out / "ihc_original.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("inside", ["", "walk", "deeper/walk"])
def test_map_walk_refuses_an_out_in_the_map(gram_map, inside, capsys):
    """--out the map folder itself, or a folder inside it: refused before anything is
    created (not even a lock file in the map), the map unchanged."""
    before = snapshot(gram_map.parent)
    out = gram_map / inside if inside else gram_map
    assert main(["map-walk", str(gram_map), "--out", str(out), "--size", "32",
                 "--n-iter", "1", "--n-points", "2", "--no-progress"]) == 1
    assert one_error(capsys) == (
        f"--out {out} is the map folder {gram_map} or inside it; map-walk writes a folder "
        "of its own (by default sklearn-texture-walk): name one outside the map.")
    assert snapshot(gram_map.parent) == before


# slow: one embed and two walks, 9 s here (2 cores, load ~5)
@pytest.mark.slow
def test_embed_then_map_walk_with_defaults_keep_the_map(tmp_path, monkeypatch, capsys):
    """embed's default folder holds the map; map-walk's default is its own, so the map
    survives; each command replaces only its own earlier folder."""
    perlin_folder(tmp_path / "imgs", n=4)
    monkeypatch.chdir(tmp_path)
    assert main(["embed", "imgs", "--weights", "random", "--quiet"]) == 0
    the_map = snapshot(tmp_path / "sklearn-texture-results")
    walk_argv = ["map-walk", "sklearn-texture-results", "--size", "32", "--n-iter", "1",
                 "--n-points", "2", "--no-progress"]
    assert main(walk_argv) == 0
    assert snapshot(tmp_path / "sklearn-texture-results") == the_map
    assert len(read_csv(tmp_path / "sklearn-texture-walk" / "points.csv")) == 4
    assert main([*walk_argv, "--n-points", "3"]) == 0  # replaces its own earlier walk
    assert len(read_csv(tmp_path / "sklearn-texture-walk" / "points.csv")) == 9
    walk = snapshot(tmp_path / "sklearn-texture-walk")
    capsys.readouterr()
    assert main(["embed", "imgs", "--weights", "random", "--quiet",
                 "--out", "sklearn-texture-walk"]) == 1
    assert one_error(capsys) == (
        "output folder sklearn-texture-walk holds an earlier `map-walk` run, which `embed` "
        "does not replace; choose a new or empty folder (a run replaces only a folder "
        "holding an earlier run of the same command and nothing else, so that no other "
        "file is ever deleted).")
    assert snapshot(tmp_path / "sklearn-texture-walk") == walk
    assert snapshot(tmp_path / "sklearn-texture-results") == the_map


@pytest.mark.slow
@pytest.mark.parametrize("settings", [None, '{"command": "map-walk"}'])
def test_map_walk_never_replaces_a_folder_of_user_files(gram_map, tmp_path, capsys,
                                                        settings):
    """The reviewer's folder: files named like reproduce synthesis' originals and like
    map-walk's points.csv, without (or beside) an earlier map-walk's settings.json."""
    userdata = tmp_path / "userdata"
    userdata.mkdir()
    for name in ("scan_original.png", "scan2_original.png", "points.csv"):
        (userdata / name).write_text(f"the user's {name}")
    if settings is not None:
        (userdata / "settings.json").write_text(settings)
    before = snapshot(tmp_path)
    assert main(["map-walk", str(gram_map), "--out", str(userdata), "--size", "32",
                 "--n-iter", "1", "--n-points", "2", "--no-progress"]) == 1
    error = one_error(capsys)
    assert error.startswith(f"output folder {userdata} holds files that sklearn-texture "
                            "did not write (")
    if settings is not None:
        assert "(scan2_original.png, scan_original.png) beside an earlier `map-walk` run" \
            in error
    assert snapshot(tmp_path) == before


def _features_state(path, change=0.0):
    """A VGG-19 feature stack with random weights (the network's layout only, quick to
    build), saved as a weights file; ``change`` is added to the first kernel."""
    import torch
    from torchvision.models import vgg

    torch.manual_seed(0)
    state = vgg.make_layers(vgg.cfgs["E"]).state_dict()
    state["0.weight"] += change
    torch.save(state, path)


# slow: one embed and two walks with a weights file, 10 s here (2 cores, load ~5)
@pytest.mark.slow
def test_map_walk_refuses_a_changed_weights_file(tmp_path, capsys):
    """The map records its weights file's sha256; map-walk hashes the file again, records
    what it measured, and refuses the file once it changed (or is gone)."""
    import hashlib

    weights = tmp_path / "w.pth"
    _features_state(weights)
    images = perlin_folder(tmp_path / "imgs", n=4)
    assert main(["embed", str(images), "--weights", str(weights), "--device", "cpu",
                 "--quiet", "--out", str(tmp_path / "map")]) == 0
    recorded = json.loads((tmp_path / "map" / "settings.json").read_text())
    walk = ["map-walk", str(tmp_path / "map"), "--size", "32", "--n-iter", "1",
            "--n-points", "2", "--no-progress"]
    assert main([*walk, "--out", str(tmp_path / "walk")]) == 0
    settings = json.loads((tmp_path / "walk" / "settings.json").read_text())
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert settings["weights_identity"]["sha256"] == digest
    assert settings["weights_identity"] == recorded["weights_identity"]
    capsys.readouterr()
    _features_state(weights, change=1.0)  # the file changes: other texture vectors
    assert main([*walk, "--out", str(tmp_path / "walk2")]) == 1
    error = one_error(capsys)
    assert error.startswith(f"map-walk {tmp_path / 'map'}: the map was made with other "
                            "weights than these (")
    assert digest in error and hashlib.sha256(weights.read_bytes()).hexdigest() in error
    assert error.endswith("so its points cannot be turned into images with them.")
    weights.unlink()
    assert main([*walk, "--out", str(tmp_path / "walk2")]) == 1
    error = one_error(capsys)
    assert "the map's weights cannot be read now" in error and "No such file" in error
    assert not (tmp_path / "walk2").exists()
