"""The repository is ruff clean (configuration in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    completed = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True,
                               text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:]
