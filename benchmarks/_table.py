"""Write a benchmark table as markdown and CSV, and print it."""

import os
import platform
from pathlib import Path

from sklearn_texture.reports import markdown_table, write_csv

RESULTS = Path(__file__).resolve().parent / "results"


def machine_description():
    """Name the machine the numbers were measured on."""
    import torch

    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.system()} {cpu}, {os.cpu_count()} logical CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}"
    )


def write_table(name, rows, *, title, notes=""):
    """Print ``rows`` (a list of dicts) and write ``results/<name>.md`` and ``.csv``.

    The CSV and markdown writers are the package's own (:mod:`sklearn_texture.reports`).
    """
    RESULTS.mkdir(exist_ok=True)
    lines = [f"## {title}", "", f"Machine: {machine_description()}", "",
             markdown_table(rows, digits=4)]
    if notes:
        lines += ["", notes]
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{name}.md").write_text(text)
    write_csv(rows, RESULTS / f"{name}.csv")
    print(text)
    return text
