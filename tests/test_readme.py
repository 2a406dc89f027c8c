"""The README's promise: exactly two set-up commands, and CI runs the test one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands():
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up on a new machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", setup, flags=re.S)


def test_exactly_two_setup_commands():
    commands = _setup_commands()
    assert len(commands) == 2
    main_job, tests = commands
    assert all("\n" not in command for command in commands)
    assert "torch==2.14.1 torchvision==0.29.1" in main_job
    assert "sklearn-texture reproduce angle --quick" in main_job
    assert 'pip install -e ".[test]"' in tests and tests.endswith("python -m pytest -q")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    tests = _setup_commands()[1]
    assert "grep -m1 '^python3 -m venv .venv-test' README.md" in ci
    assert tests.startswith("python3 -m venv .venv-test")
    readme_lines = (ROOT / "README.md").read_text().splitlines()
    assert [line for line in readme_lines if line.startswith("python3 -m venv .venv-test")] == [
        tests]
