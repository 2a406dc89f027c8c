"""The sklearn-texture command: reproduce, embed, errors as one line, nothing half-written."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sklearn_texture import PerlinTextureDataset
from sklearn_texture.cli import main
from sklearn_texture.reports import check_output_folder


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_reproduce_angle_small(tmp_path):
    out = tmp_path / "angle"
    status = main(["reproduce", "angle", "--n-images", "12", "--amplitudes", "1", "2.5",
                   "--size", "32", "--n-trials", "2", "--no-progress", "--out", str(out)])
    assert status == 0
    summary = _rows(out / "angle_task.csv")
    assert [(r["method"], r["A"]) for r in summary] == [
        ("cnn", "1.0"), ("cnn", "2.5"), ("ps", "1.0"), ("ps", "2.5")]
    assert all(r["trials"] == "2" for r in summary)
    assert len(_rows(out / "angle_task_trials.csv")) == 8
    for row in summary:
        assert 0 <= float(row["angle_rmse"]) <= np.pi / 2 and float(row["stress"]) >= 0
    text = (out / "angle_task.md").read_text()
    assert "paper (Fig. 6)" in text and "size=32" in text
    for figure in ("fig5_angle_panels.png", "fig6_angle_rmse.png", "fig7_stress.png"):
        assert (out / figure).stat().st_size > 1000
    # nothing beside the output folder: no staging folder, no lock file
    assert [p.name for p in tmp_path.iterdir()] == ["angle"]
    # every file is one reports.RUN_FILES lists: the next reproduce angle may replace it
    assert check_output_folder(out, "reproduce angle") == out
    with pytest.raises(ValueError, match="an earlier `reproduce angle` run"):
        check_output_folder(out, "reproduce manifold")


def test_reproduce_manifold_small(tmp_path, capsys):
    out = tmp_path / "manifold"
    assert main(["reproduce", "manifold", "--n-levels", "3", "--size", "32", "--quick",
                 "--no-progress", "--out", str(out)]) == 0
    table = _rows(out / "table1.csv")
    assert [r["D*"] for r in table] == ["2", "3", "4", "5", "6", "10"]
    assert table[0]["paper R2_k"] == "0.532"
    stress = _rows(out / "manifold_stress.csv")
    assert {r["method"] for r in stress} == {"cnn", "ps"}
    assert "beta angle" in capsys.readouterr().out
    assert (out / "fig8_stress_vs_dim.png").is_file()
    assert (out / "fig9_11_embedding_d3.png").is_file()
    assert check_output_folder(out, "reproduce manifold") == out


def test_reproduce_uses_the_noise_options(tmp_path):
    """--noise-* and --octaves reach the datasets: the CLI's rows are run_angle_task's."""
    from sklearn_texture.experiments import run_angle_task

    noise = {"noise_scale": 0.04, "noise_frequency": 6.0, "octaves": 2}
    out = tmp_path / "angle"
    assert main(["reproduce", "angle", "--n-images", "8", "--amplitudes", "2", "--size", "32",
                 "--n-trials", "1", "--noise-scale", "0.04", "--noise-frequency", "6",
                 "--octaves", "2", "--no-progress", "--out", str(out)]) == 0
    rows = {r["method"]: float(r["angle_rmse"]) for r in _rows(out / "angle_task_trials.csv")}
    config = {"n_images": (8,), "amplitudes": (2.0,), "n_trials": 1, "size": 32}
    with_noise = run_angle_task(**config, noise=noise).rows
    default = run_angle_task(**config).rows
    assert rows == {r["method"]: pytest.approx(r["angle_rmse"], rel=1e-9) for r in with_noise}
    assert rows["cnn"] != pytest.approx(default[0]["angle_rmse"], rel=1e-3)
    text = (out / "angle_task.md").read_text()
    assert "noise_scale=0.04, noise_frequency=6.0, octaves=2" in text


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "micrographs"
    folder.mkdir()
    data = PerlinTextureDataset(theta=[0.0, 0.8, 1.6, 2.4], k=6, amplitude=1.0, size=40,
                                random_state=0)
    for index, image in enumerate(data.images):
        pixels = np.round((image + 1) * 127.5).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"img{index}.png")
    Image.fromarray(pixels[:32, :36]).save(folder / "smaller.tif")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (folder / "notes.jpg").write_text("not an image")
    (folder / "readme.txt").write_text("ignored: not an image suffix")
    return folder


def test_embed_folder_reports_and_skips_unreadable(image_folder, tmp_path, capsys):
    out = tmp_path / "map"
    assert main(["embed", str(image_folder), "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "corrupt.png" in err and "notes.jpg" in err
    coordinates = _rows(out / "coordinates.csv")
    assert sorted(os.path.basename(r["file"]) for r in coordinates) == [
        "img0.png", "img1.png", "img2.png", "img3.png", "smaller.tif"]
    assert set(coordinates[0]) == {"file", "mds_1", "mds_2"}
    skipped = {os.path.basename(r["file"]) for r in _rows(out / "skipped.csv")}
    assert skipped == {"corrupt.png", "notes.jpg"}
    assert (out / "map.png").stat().st_size > 1000


def test_embed_power_spectrum_crops_to_common_size(image_folder, tmp_path, capsys):
    out = tmp_path / "map"
    assert main(["embed", str(image_folder), "--method", "ps", "--n-components", "3",
                 "--out", str(out), "--no-progress"]) == 0
    assert "centre-cropped to 32x36" in capsys.readouterr().err
    assert "mds_3" in _rows(out / "coordinates.csv")[0]


def test_decompression_bomb_is_refused(image_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40x40 images now look like bombs
    assert main(["embed", str(image_folder), "--out", str(tmp_path / "m")]) == 1
    captured = capsys.readouterr().err
    assert "decompression bomb" in captured
    assert captured.strip().splitlines()[-1].startswith("sklearn-texture: error: embed needs")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["embed", "/nonexistent/folder"], "does not exist"),
        (["reproduce", "angle", "--n-images", "6", "--amplitudes", "1", "--size", "8"],
         "at least 16x16 pixels to reach conv5_1"),
        (["reproduce", "angle", "--n-images", "6", "--amplitudes", "1", "--size", "32",
          "--weights", "/nonexistent/weights.pth"], "does not exist"),
    ],
)
def test_errors_are_one_line_and_write_nothing(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sklearn-texture: error:") and message in err[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["reproduce", "angle", "--amplitudes", "-1"],
        ["reproduce", "angle", "--n-images", "0"],
        ["reproduce", "angle", "--size", "nan"],
        ["embed"],
        ["reproduce", "shapes"],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_module_entry_point_and_version():
    completed = subprocess.run([sys.executable, "-m", "sklearn_texture", "--version"],
                               capture_output=True, text=True, check=True)
    from sklearn_texture import __version__

    assert completed.stdout.strip() == f"sklearn-texture {__version__}"


def test_synthesis_output_stems_never_collide():
    from sklearn_texture.cli import _unique_stems

    stems = _unique_stems(["x/a.png", "a-2.png", "y/a.png", "z/a b.tif"])
    assert len(set(stems)) == len(stems) == 4
    assert stems[:2] == ["a", "a-2"] and stems[3] == "a_b"
