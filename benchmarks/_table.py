"""Write a benchmark table as markdown and CSV, and print it."""

import csv
import os
import platform
from pathlib import Path

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
    """Print ``rows`` (a list of dicts) and write ``results/<name>.md`` and ``.csv``."""
    RESULTS.mkdir(exist_ok=True)
    columns = list(rows[0])
    lines = [
        f"## {title}",
        "",
        f"Machine: {machine_description()}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_format(row[c]) for c in columns) + " |")
    if notes:
        lines += ["", notes]
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{name}.md").write_text(text)
    with open(RESULTS / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(text)
    return text


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
