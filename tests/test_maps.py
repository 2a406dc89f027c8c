"""Maps that last, new images placed on them, Table I for a user's parameters (issue 13).

* ``embed FOLDER --out MAP`` writes exactly one run's files; vectors.npy, distances.npy
  and model.joblib are what the library computes (the model holds no torch tensor).
* ``embed NEW... --into MAP --out MAP2``: an image of MAP lands on its own coordinates
  (1e-6 of the map's extent); a folder that is not a map, or other weights, is refused.
* ``--labels``: Perlin textures saved as PNGs with their (θ, k, A) reproduce the
  library's own R² (Eq. 13) and angle (Eq. 14) at D* = 4 to 1e-6; bad label files are
  one error line and write nothing.
* Messages: progress on stderr, ``--quiet`` silences it; a figure that fails is a
  warning, never lost coordinates; ``--n-components 1`` works.
"""

import csv
import html.parser
import json
import logging
import pickle
import shutil

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import Pipeline

from sklearn_texture import (
    GramTextureVectorizer,
    LandmarkMDS,
    PerlinTextureDataset,
    linear_r2,
    maps,
    regression_angle,
    reports,
    texture_distances,
)
from sklearn_texture.cli import main
from sklearn_texture.io import read_images

SIZE = 32
N_PERLIN = 16
MAP_FILES = sorted([*maps.MAP_FILES, "map.png", "report.html", "stress.csv"])


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _coordinates(path):
    rows = _rows(path / "coordinates.csv")
    columns = [c for c in rows[0] if c.startswith("mds_")]
    return [r["file"] for r in rows], np.array([[float(r[c]) for c in columns] for r in rows])


def _snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def perlin(tmp_path_factory):
    """Perlin textures as 8-bit PNGs in ``images/`` and their (θ, k, A) in params.csv."""
    root = tmp_path_factory.mktemp("perlin")
    rng = np.random.default_rng(3)
    theta = rng.uniform(0, np.pi, N_PERLIN)
    k = rng.uniform(2, 6, N_PERLIN)
    amplitude = rng.uniform(0.5, 3, N_PERLIN)
    data = PerlinTextureDataset(theta, k, amplitude, size=SIZE, random_state=0)
    (root / "images").mkdir()
    with open(root / "params.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "theta", "k", "A"])
        for i, image in enumerate(data.images):
            pixels = np.round((image + 1) * 127.5).astype(np.uint8)
            Image.fromarray(pixels).save(root / "images" / f"p{i:02d}.png")
            writer.writerow([f"p{i:02d}.png", *(repr(float(v[i])) for v in (theta, k, amplitude))])
    return root


@pytest.fixture(scope="module")
def cnn_map(perlin):
    """A CNN map (random weights) of the first 10 Perlin images, with labels."""
    out = perlin / "cnn_map"
    files = sorted((perlin / "images").iterdir())[:10]
    assert main(["embed", *map(str, files), "--weights", "random", "--device", "cpu",
                 "--no-progress", "--out", str(out)]) == 0
    return out


def test_a_map_holds_one_run_of_reusable_files(cnn_map):
    assert sorted(p.name for p in cnn_map.iterdir()) == MAP_FILES
    # a later embed may replace the map folder; map-walk, which reads maps, may not
    assert set(maps.MAP_FILES) <= set(reports.RUN_FILES["embed"][0])
    assert reports.check_output_folder(cnn_map, "embed") == cnn_map
    with pytest.raises(ValueError, match="an earlier `embed` run, which `map-walk` does"):
        reports.check_output_folder(cnn_map, "map-walk")
    names, coordinates = _coordinates(cnn_map)
    images, read_names, _ = read_images(names)
    assert read_names == names
    vectorizer = GramTextureVectorizer(weights="random", random_state=0, device="cpu")
    expected = vectorizer.fit_transform(np.stack(images))
    vectors = np.load(cnn_map / "vectors.npy")
    assert vectors.shape == expected.shape  # rows in the order of coordinates.csv
    np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())
    np.testing.assert_allclose(np.load(cnn_map / "distances.npy"), texture_distances(vectors),
                               rtol=1e-10, atol=0)
    # the saved model is the map: it places the map's own images on their coordinates
    model = joblib.load(cnn_map / "model.joblib")
    assert isinstance(model, Pipeline) and isinstance(model[-1], LandmarkMDS)
    extent = np.ptp(coordinates, axis=0).max()
    assert np.abs(model.transform(np.stack(images)) - coordinates).max() < 1e-6 * extent
    settings = json.loads((cnn_map / "settings.json").read_text())
    assert settings["weights_identity"] == maps.weights_identity(vectorizer)
    assert settings["weights_identity"]["seed"] == vectorizer.network_seed_
    assert {"python", "numpy", "scikit-learn", "torch", "sklearn-texture"} <= \
        set(settings["versions"])
    thumbnails = json.loads((cnn_map / "thumbnails.json").read_text())
    assert len(thumbnails) == len(names)
    assert all(t.startswith("data:image/png;base64,") for t in thumbnails)


def test_the_model_holds_no_torch_tensor(cnn_map):
    model = joblib.load(cnn_map / "model.joblib")
    found = []

    class Finder(pickle.Pickler):
        def persistent_id(self, obj):
            if type(obj).__module__.split(".")[0] == "torch":
                found.append(type(obj).__name__)
            return None

    import io

    Finder(io.BytesIO()).dump(model)
    assert found == []
    # and the finder does find one (the check can fail)
    import torch

    Finder(io.BytesIO()).dump({"model": model, "tensor": torch.zeros(2)})
    assert "Tensor" in found


def test_into_places_map_images_on_their_own_coordinates(perlin, cnn_map, tmp_path):
    files = sorted((perlin / "images").iterdir())
    new, again = files[10:13], files[2:4]  # three new images, two already on the map
    out = tmp_path / "placed"
    assert main(["embed", *map(str, [*new, *again]), "--into", str(cnn_map), "--no-progress",
                 "--out", str(out)]) == 0
    old_names, old = _coordinates(cnn_map)
    rows = _rows(out / "coordinates.csv")
    names, coordinates = _coordinates(out)
    assert names[:10] == old_names
    assert sorted(names[10:]) == sorted(map(str, [*new, *again]))
    assert [r["role"] for r in rows] == ["map"] * 10 + ["placed"] * 5
    np.testing.assert_array_equal(coordinates[:10], old)  # the map is not refitted
    extent = np.ptp(old, axis=0).max()
    placed = dict(zip(names[10:], coordinates[10:], strict=True))
    for path in again:
        own = old[old_names.index(str(path))]
        assert np.abs(placed[str(path)] - own).max() < 1e-6 * extent, (path, own)
    # the new images sit where the model puts them, and the map holds their vectors
    model = joblib.load(cnn_map / "model.joblib")
    images, read_names, _ = read_images(list(map(str, new)))
    np.testing.assert_allclose(np.array([placed[n] for n in read_names]),
                               model.transform(np.stack(images)), rtol=0, atol=1e-6 * extent)
    vectors = np.load(out / "vectors.npy")
    distances = np.load(out / "distances.npy")
    assert vectors.shape[0] == 15 and distances.shape == (15, 15)
    np.testing.assert_allclose(distances, texture_distances(vectors), rtol=1e-6,
                               atol=1e-9 * distances.max())
    settings = json.loads((out / "settings.json").read_text())
    assert settings["placed"][0]["into"] == str(cnn_map)
    assert settings["weights"] == "random"
    report = (out / "report.html").read_text()
    data = json.loads(_report_data(report))
    assert data["roles"] == ["map"] * 10 + ["placed"] * 5  # the report shows both
    # a map with placed images is a map: place onto it again
    again_out = tmp_path / "again"
    assert main(["embed", str(new[0]), "--into", str(out), "--no-progress",
                 "--out", str(again_out)]) == 0
    names2, coordinates2 = _coordinates(again_out)
    assert names2 == [*names, str(new[0])]
    assert np.abs(coordinates2[-1] - placed[str(new[0])]).max() < 1e-6 * extent


def _report_data(page):
    start = page.index('id="report-data">') + len('id="report-data">')
    return page[start:page.index("</script>", start)]


def _corrupt_model(folder):
    (folder / "model.joblib").write_bytes(b"not a pickle")


def _other_seed(folder):
    settings = json.loads((folder / "settings.json").read_text())
    settings["weights_identity"]["seed"] += 1
    (folder / "settings.json").write_text(json.dumps(settings))


@pytest.mark.parametrize(
    ("change", "extra", "message"),
    [
        ("images", (), "is not a map made by `sklearn-texture embed` (no coordinates.csv"),
        ("missing", (), "is not a folder"),
        (_corrupt_model, (), "model.joblib cannot be loaded"),
        (lambda f: (f / "vectors.npy").unlink(), (), "(no vectors.npy)"),
        (None, ("--weights", "vgg19_normalized"),
         "the map was made with --weights random, not vgg19_normalized"),
        (None, ("--n-components", "3"), "the map was made with --n-components 2, not 3"),
        (None, ("--method", "ps"), "the map was made with --method cnn, not ps"),
        (_other_seed, (), "the map was made with other weights than these"),
    ],
)
def test_into_refuses_what_is_not_this_map(perlin, cnn_map, tmp_path, capsys, change, extra,
                                           message):
    folder = tmp_path / "map"
    if change == "images":
        folder = perlin / "images"
    elif change != "missing":
        shutil.copytree(cnn_map, folder)
        if change is not None:
            change(folder)
    before = _snapshot(tmp_path)
    status = main(["embed", str(perlin / "images" / "p12.png"), "--into", str(folder),
                   *extra, "--no-progress", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and err[0].startswith("sklearn-texture: error: "), err
    assert message in err[0]
    assert _snapshot(tmp_path) == before  # nothing written, nothing beside --out


def test_labels_reproduce_the_library_table_i(perlin, tmp_path):
    """r2.csv at D* = 4 equals linear_r2 / regression_angle of the library's own map."""
    out = tmp_path / "labelled"
    assert main(["embed", str(perlin / "images"), "--labels", str(perlin / "params.csv"),
                 "--weights", "random", "--device", "cpu", "--no-progress",
                 "--out", str(out)]) == 0
    rows = _rows(out / "r2.csv")
    assert [int(r["D*"]) for r in rows] == list(range(1, 11))
    assert list(rows[0]) == ["D*", "R2_theta", "R2_k", "R2_A", "angle_theta_k",
                             "angle_theta_A", "angle_k_A"]
    params = {r["file"]: r for r in _rows(perlin / "params.csv")}
    images, names, _ = read_images([perlin / "images"])
    k = np.array([float(params[name.rsplit("/", 1)[-1]]["k"]) for name in names])
    amplitude = np.array([float(params[name.rsplit("/", 1)[-1]]["A"]) for name in names])
    vectors = GramTextureVectorizer(weights="random", random_state=0,
                                    device="cpu").fit_transform(np.stack(images))
    embedding = LandmarkMDS(n_components=4).fit_transform(vectors)
    d4 = rows[3]
    assert abs(float(d4["R2_k"]) - linear_r2(embedding, k)) < 1e-6
    assert abs(float(d4["angle_k_A"]) - regression_angle(embedding, k, amplitude)) < 1e-6
    stress = _rows(out / "stress.csv")
    assert [int(r["D*"]) for r in stress] == list(range(1, 11))
    report = (out / "report.html").read_text()
    assert report.count("a linear model of the 2-D map explains") == 3  # one line a column


def _labels(tmp_path, text):
    path = tmp_path / "params.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file,k\np00.png,1\nmissing.png,2\n",
         "names 1 file(s) that are not among the images: 'missing.png'"),
        ("file,k\np00.png,1\np01.png,high\n",
         "line 3 (p01.png), column 'k': 'high' is not a number"),
        ("file,k\np00.png,1\np01.png,2\np00.png,3\n", "names 'p00.png' twice (lines 2 and 4)"),
        ("name,k\np00.png,1\n", "has no 'file' column"),
        ("file,k,k\np00.png,1,2\n", "has the column 'k' twice"),
        ("file,k\np00.png,inf\n", "'inf' is not a finite number"),
        ("file\np00.png\n", "has no numeric columns besides 'file'"),
        ("", "is empty"),
        ("file,k\np00.png,1,2\n", "line 2: 3 cells, but the header has 2"),
    ],
)
def test_bad_labels_are_one_line_and_write_nothing(perlin, tmp_path, capsys, text, message):
    labels = _labels(tmp_path, text)
    before = _snapshot(tmp_path)
    status = main(["embed", str(perlin / "images"), "--labels", str(labels), "--method", "ps",
                   "--no-progress", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and err[0].startswith("sklearn-texture: error: labels file"), err
    assert message in err[0]
    assert _snapshot(tmp_path) == before


def test_labels_match_by_path_suffix_pages_and_skipped_files():
    labels = maps.Labels("p.csv", ["t"], ["a.png", "run2/b.png", "stack.tif", "bad.png"],
                         np.array([[1.0], [2.0], [3.0], [4.0]]))
    names = ["data/run1/a.png", "data/run2/b.png", "data/run1/b.png", "stack.tif[0]",
             "stack.tif[1]", "data/run1/a.png"]
    values = maps.match_labels(labels, names, skipped=["data/bad.png"])
    np.testing.assert_array_equal(values[:, 0], [1, 2, np.nan, 3, 3, 1])
    ambiguous = maps.Labels("p.csv", ["t"], ["b.png"], np.array([[1.0]]))
    with pytest.raises(ValueError, match=r"'b.png' names 2 images .*give more of its path"):
        maps.match_labels(ambiguous, names)
    twice = maps.Labels("p.csv", ["t"], ["a.png", "run1/a.png"], np.array([[1.0], [2.0]]))
    with pytest.raises(ValueError, match=r"'a\.png' and 'run1/a\.png' both name the image"):
        maps.match_labels(twice, names)


def test_read_labels_empty_cells_are_missing_values(tmp_path):
    path = _labels(tmp_path, "\ufefffile, T , t\n a.png ,1.5,\n\nb.png,,2e3\n")
    labels = maps.read_labels(path)
    assert labels.columns == ["T", "t"] and labels.files == ["a.png", "b.png"]
    np.testing.assert_array_equal(labels.values, [[1.5, np.nan], [np.nan, 2000.0]])


def test_describe_r2_says_what_the_numbers_mean():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3)) * [5, 2, 1]
    texture_map = maps.TextureMap(
        [f"{i}.png" for i in range(40)], points[:, :2], points,
        texture_distances(points), None, ["map"] * 40, [])
    values = np.c_[points[:, 0] * 3 + 1, rng.normal(size=40)]
    analysis = maps.dimension_analysis(texture_map, values, ["linear", "noise"])
    assert analysis.dimensions == [1, 2, 3]  # three real dimensions, no more
    assert analysis.stress[-1] < 1e-6
    linear, noise = maps.describe_r2(analysis, ["linear", "noise"], 2)
    assert linear.startswith("linear: a linear model of the 2-D map explains 100 %")
    assert linear.endswith("It shows strongly in the textures.")
    assert noise.endswith("shows no clear linear trend in the textures.")
    constant = maps.dimension_analysis(texture_map, np.ones((40, 1)), ["flat"])
    assert np.isnan(constant.rows[0]["R2_flat"])
    assert "constant" in maps.describe_r2(constant, ["flat"], 2)[0]


# ---------------------------------------------------------------- messages and figures


def _ps_folder(tmp_path, perlin, count=5):
    folder = tmp_path / "images"
    folder.mkdir()
    for path in sorted((perlin / "images").iterdir())[:count]:
        shutil.copy(path, folder)
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return folder


def test_progress_on_stderr_and_quiet_silences_it(perlin, tmp_path, capsys):
    folder = _ps_folder(tmp_path, perlin)
    assert main(["embed", str(folder), "--method", "ps", "--out", str(tmp_path / "a")]) == 0
    captured = capsys.readouterr()
    assert "sklearn-texture: texture distances and classical MDS of 5 images" in captured.err
    assert "skipped " in captured.err and "Embedded 5 images" in captured.out
    assert main(["embed", str(folder), "--method", "ps", "--quiet",
                 "--out", str(tmp_path / "b")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert (tmp_path / "b" / "skipped.csv").is_file()  # quiet, not forgetful


def test_the_library_logs_through_logging(cnn_map, caplog):
    texture_map = maps.load_map(cnn_map)
    vectors = texture_map.vectors[:2]
    with caplog.at_level(logging.INFO, logger="sklearn_texture"):
        placed = maps.place_vectors(texture_map, vectors, ["x.png", "y.png"])
    assert [r.name for r in caplog.records] == ["sklearn_texture.maps"]
    assert "placing 2 images on a map of 10" in caplog.text
    np.testing.assert_allclose(placed.coordinates[-2:], texture_map.coordinates[:2],
                               atol=1e-9 * np.abs(texture_map.coordinates).max())


def test_one_component_map_is_a_strip(perlin, tmp_path):
    folder = _ps_folder(tmp_path, perlin, count=4)
    out = tmp_path / "strip"
    assert main(["embed", str(folder), "--method", "ps", "--n-components", "1",
                 "--no-progress", "--out", str(out)]) == 0
    assert list(_rows(out / "coordinates.csv")[0]) == ["file", "mds_1"]
    assert (out / "map.png").stat().st_size > 1000
    assert "MDS 1 (a strip)" in (out / "report.html").read_text()
    assert [int(r["D*"]) for r in _rows(out / "stress.csv")] == [1, 2, 3]


@pytest.mark.parametrize(("target", "lost"), [("sklearn_texture.plotting.plot_image_map",
                                               "map.png"),
                                              ("sklearn_texture.html_report.write_report",
                                               "report.html")])
def test_a_failing_figure_is_a_warning_and_keeps_the_results(perlin, tmp_path, capsys,
                                                             monkeypatch, target, lost):
    folder = _ps_folder(tmp_path, perlin)

    def fail(*args, **kwargs):
        raise RuntimeError("no room to draw")

    monkeypatch.setattr(target, fail)
    out = tmp_path / "out"
    assert main(["embed", str(folder), "--method", "ps", "--no-progress",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"sklearn-texture: warning: {lost} was not" in err and "no room to draw" in err
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted({*MAP_FILES, "skipped.csv"} - {lost})
    assert len(_rows(out / "coordinates.csv")) == 5


# ---------------------------------------------------------------- the page itself


class _Sources(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        self.sources += [(tag, name, value) for name, value in attrs
                         if name in ("src", "href", "srcset", "data")]


def test_report_is_one_self_contained_file(cnn_map):
    page = (cnn_map / "report.html").read_text()
    parser = _Sources()
    parser.feed(page)
    assert parser.sources == []  # no script, style sheet or image loaded from anywhere
    assert "<script" in page and "Plotly.newPlot" in page  # plotly.js is inlined
    data = json.loads(_report_data(page))
    assert data["thumbnails"] == json.loads((cnn_map / "thumbnails.json").read_text())
    assert data["names"] == _coordinates(cnn_map)[0]


def test_report_escapes_names():
    from sklearn_texture.html_report import render_report

    name = "x</script><img src=y onerror=alert(1)>.png"
    page = render_report(names=[name, "b.png", "c.png"], coordinates=np.eye(3)[:, :2],
                         thumbnails=["data:,"] * 3, skipped=[(name, "<b>bad</b>")])
    assert name not in page and "<b>bad</b>" not in page
    parser = _Sources()
    parser.feed(page)
    assert parser.sources == []
    assert json.loads(_report_data(page))["names"][0] == name


def test_into_follows_a_weights_file_and_refuses_it_changed(perlin, tmp_path, monkeypatch,
                                                            capsys):
    """A map of a weights file finds it from any folder, and refuses it once it changed."""
    import torch
    import torchvision

    def save_weights(seed):
        torch.manual_seed(seed)
        state = torchvision.models.vgg19(weights=None).features.state_dict()
        torch.save(state, tmp_path / "work" / "mine.pth")

    (tmp_path / "work").mkdir()
    save_weights(0)
    files = [str(p) for p in sorted((perlin / "images").iterdir())[:5]]
    monkeypatch.chdir(tmp_path / "work")
    assert main(["embed", *files[:4], "--weights", "mine.pth", "--device", "cpu",
                 "--no-progress", "--out", str(tmp_path / "map")]) == 0
    settings = json.loads((tmp_path / "map" / "settings.json").read_text())
    assert settings["weights"] == str(tmp_path / "work" / "mine.pth")
    assert len(settings["weights_identity"]["sha256"]) == 64
    monkeypatch.chdir(tmp_path)  # elsewhere: the map names its weights file in full
    assert main(["embed", files[4], "--into", "map", "--no-progress", "--out", "placed"]) == 0
    capsys.readouterr()
    save_weights(1)  # the file changes: the map's vectors are no longer its vectors
    assert main(["embed", files[4], "--into", "map", "--no-progress",
                 "--out", "placed2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the map was made with other weights than these" in err[0]
    assert settings["weights_identity"]["sha256"] in err[0]
    assert not (tmp_path / "placed2").exists()


def _pixels_near(path, rgb, tolerance=30):
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=int)
    return int((np.abs(pixels - rgb).max(axis=-1) <= tolerance).sum())


def test_map_png_frames_show_labels_and_placed_images(tmp_path):
    from sklearn_texture import plotting

    rng = np.random.default_rng(0)
    points, images = rng.normal(size=(6, 2)), [rng.random((16, 16)) for _ in range(6)]
    orange, yellow = (255, 127, 14), (253, 231, 37)  # tab:orange; viridis at the maximum
    plotting.plot_image_map(points, images, tmp_path / "plain.png")
    plotting.plot_image_map(points, images, tmp_path / "placed.png",
                            highlight=[False] * 4 + [True] * 2)
    plotting.plot_image_map(points, images, tmp_path / "values.png",
                            values=[1, 2, 3, 4, np.nan, 9], value_label="k")
    assert _pixels_near(tmp_path / "plain.png", orange) == 0
    assert _pixels_near(tmp_path / "placed.png", orange) > 100
    assert _pixels_near(tmp_path / "plain.png", yellow) == 0
    assert _pixels_near(tmp_path / "values.png", yellow) > 100  # frame and colour bar
