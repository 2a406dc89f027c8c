"""report.html in a real browser: the system's headless Chromium, driven by Playwright.

The page is opened from file:// with every other request refused and recorded: it must
ask for nothing, draw its map (a screenshot that is not blank), raise no script error,
show the hovered point's own thumbnail, and switch the colouring. Marked ``browser``;
skipped, with the reason, only where no Chromium is installed (``.ci/run`` installs
the Debian package where it can). ``SKLEARN_TEXTURE_CHROMIUM`` names another binary.
"""

import csv
import io
import json
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from sklearn_texture import PerlinTextureDataset
from sklearn_texture.cli import main


def _chromium():
    named = os.environ.get("SKLEARN_TEXTURE_CHROMIUM")
    if named:
        return shutil.which(named) or named
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = _chromium()
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install "
                       "chromium, or set SKLEARN_TEXTURE_CHROMIUM)"),
]


@pytest.fixture(scope="module")
def placed_map(tmp_path_factory):
    """A power-spectrum map of 8 Perlin textures, 3 more placed on it, with labels."""
    root = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(5)
    n = 11
    theta, k = rng.uniform(0, np.pi, n), rng.uniform(2, 6, n)
    amplitude = rng.uniform(0.5, 3, n)
    data = PerlinTextureDataset(theta, k, amplitude, size=32, random_state=1)
    for folder in ("first", "second"):
        (root / folder).mkdir()
    with open(root / "params.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "theta", "k", "A"])
        for i, image in enumerate(data.images):
            folder = "first" if i < 8 else "second"
            pixels = np.round((image + 1) * 127.5).astype(np.uint8)
            Image.fromarray(pixels).save(root / folder / f"t{i:02d}.png")
            writer.writerow([f"t{i:02d}.png", *(float(v[i]) for v in (theta, k, amplitude))])
    assert main(["embed", str(root / "first"), "--method", "ps", "--quiet",
                 "--out", str(root / "map")]) == 0
    assert main(["embed", str(root / "second"), "--into", str(root / "map"),
                 "--labels", str(root / "params.csv"), "--quiet",
                 "--out", str(root / "both")]) == 0
    return root / "both"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=FLAGS)
        yield chromium
        chromium.close()


def _open(browser, path):
    """The report in a fresh context; every request but the file itself is refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    url = path.resolve().as_uri()
    requests, errors = [], []

    def route(request_route):
        requests.append(request_route.request.url)
        if request_route.request.url == url:
            request_route.continue_()
        else:
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(url)
    page.wait_for_selector("#map .scatterlayer .point")
    return page, requests, errors


_POINTS = """() => {
  const points = [];
  for (const trace of document.querySelectorAll('#map .scatterlayer .trace')) {
    const custom = trace.__data__[0].trace.customdata;
    for (const point of trace.querySelectorAll('.point')) {
      const box = point.getBoundingClientRect();
      points.push({index: custom[point.__data__.i], x: box.x + box.width / 2,
                   y: box.y + box.height / 2});
    }
  }
  return points;
}"""


def _isolated(points, indices):
    """The point among ``indices`` farthest from every other point (on the screen)."""
    xy = np.array([[p["x"], p["y"]] for p in points])
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(len(xy)) * 1e9
    candidates = [i for i, p in enumerate(points) if p["index"] in indices]
    best = max(candidates, key=lambda i: gaps[i].min())
    return points[best], gaps[best].min()


def test_report_renders_offline_and_hover_shows_the_image(browser, placed_map):
    thumbnails = json.loads((placed_map / "thumbnails.json").read_text())
    with open(placed_map / "coordinates.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    page, requests, errors = _open(browser, placed_map / "report.html")
    try:
        # the map is drawn: a screenshot of it is far from blank
        shot = Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")
        pixels = np.asarray(shot, dtype=float)
        assert pixels.std() > 10
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
        points = page.evaluate(_POINTS)
        assert sorted(p["index"] for p in points) == list(range(len(rows)))  # all drawn
        placed = {i for i, r in enumerate(rows) if r["role"] == "placed"}
        assert len(placed) == 3
        for group in (placed, set(range(len(rows))) - placed):
            point, gap = _isolated(points, group)
            assert gap > 4, "points overlap on the screen"  # hover takes the nearest
            page.mouse.move(point["x"], point["y"])
            index = point["index"]
            page.wait_for_selector(f'#hover-thumbnail[data-index="{index}"]', timeout=5000)
            assert page.get_attribute("#hover-thumbnail", "src") == thumbnails[index]
            assert rows[index]["file"] in page.inner_text("#hover-name")
            assert f"({rows[index]['role']})" in page.inner_text("#hover-name")
        assert not errors, errors
        assert requests == [(placed_map / "report.html").resolve().as_uri()]
    finally:
        page.context.close()


def test_report_colours_by_folder_role_and_labels(browser, placed_map):
    page, _, errors = _open(browser, placed_map / "report.html")
    try:
        def visible_traces():
            return page.evaluate("() => document.querySelectorAll("
                                 "'#map .scatterlayer .trace').length")

        header = page.locator(".updatemenu-header .updatemenu-item-text")
        assert header.text_content() == "theta"  # the first labels column, a colour scale
        assert visible_traces() == 1
        assert page.locator(".colorbar").count() == 1
        for choice, traces in (("folder", 2), ("map / placed", 2), ("k", 1)):
            page.locator(".updatemenu-header").click()
            page.locator(".updatemenu-dropdown-button-group .updatemenu-item-text",
                         has_text=re.compile(f"^{re.escape(choice)}$")).click()
            page.wait_for_function(
                "choice => document.querySelector('.updatemenu-header .updatemenu-item-text')"
                ".textContent === choice", arg=choice)
            assert visible_traces() == traces, choice
        assert not errors, errors
    finally:
        page.context.close()
