"""The documentation builds without warnings (user guide, results, API from docstrings)."""

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_docs_build_without_warnings(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert (tmp_path / "html" / "api.html").is_file()
