"""The examples run and print what they promise, so they never rot."""

import os
import subprocess
import sys
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
