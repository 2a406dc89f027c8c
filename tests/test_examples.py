"""The examples run and print what they promise, so they never rot."""

import os
import subprocess
import sys
from ast import literal_eval
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(name, *args):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run([sys.executable, str(EXAMPLES / name), *args], env=env,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_angle_task_example():
    output = _run("angle_task.py")
    rmse = float(output.split("angle RMSE:")[1].split()[0])
    assert 0 <= rmse < 0.3


def test_grid_search_example():
    output = _run("grid_search.py")
    assert output.count("angle RMSE") == 4
    assert "best: {" in output and "mds__n_components" in output


@pytest.mark.parametrize("given_folder", [False, True])
def test_embed_folder_example(tmp_path, given_folder):
    args = []
    if given_folder:
        sys.path.insert(0, str(EXAMPLES))
        try:
            from embed_folder import demo_folder
        finally:
            sys.path.pop(0)
        (tmp_path / "in").mkdir()
        args = [demo_folder(tmp_path / "in"), str(tmp_path / "out")]
    output = _run("embed_folder.py", *map(str, args))
    assert "\nfile,mds_1,mds_2\n" in output
    assert output.count("texture_") == 8


def test_synthesis_example(tmp_path):
    """--quick: random weights, 32², 10 evaluations (about 10 s here)."""
    figure = tmp_path / "synthesis.png"
    output = _run("synthesis.py", "--quick", "--out", str(figure))
    finals = [float(line.split("final loss")[1].split()[0])
              for line in output.splitlines() if line.startswith("synthesis ")]
    assert len(finals) == 2 and all(0 < f < 1 for f in finals)  # the loss fell
    to_a = literal_eval(output.split("morph distance to A:")[1].splitlines()[0])
    to_b = literal_eval(output.split("morph distance to B:")[1].splitlines()[0])
    assert to_a[0] < to_a[-1] and to_b[-1] < to_b[0]  # the morph travels from A to B
    midpoint = literal_eval(output.split("distances to A, B, A', B':")[1].splitlines()[0])
    assert len(midpoint) == 4 and all(d > 0 for d in midpoint)
    from PIL import Image

    assert Image.open(figure).size[0] > 500
