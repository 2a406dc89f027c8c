"""Write experiment results as CSV, markdown (ours beside the paper's) and figures.

All files of one report are written into a staging folder next to the output
folder and moved into place only when every file is complete, so a failed run
never leaves a half-written report behind.
"""

import contextlib
import csv
import math
import os
import shutil
import tempfile
from pathlib import Path

from sklearn_texture import plotting
from sklearn_texture.experiments import PAPER_BETA_ANGLE, PAPER_TABLE_I

__all__ = ["markdown_table", "staged_output", "write_angle_report", "write_csv",
           "write_manifold_report"]

# What Fig. 6 of the paper shows (the paper gives curves, not numbers).
_PAPER_FIG6 = {
    "cnn": "small for all A ≲ 4.5",
    "ps": "small only for 2 ≲ A ≲ 3.5; fails at A = 1 and A ≳ 4",
}


@contextlib.contextmanager
def staged_output(out_dir):
    """Yield a staging folder; on success move its files into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
        out_dir.mkdir(exist_ok=True)
        for path in sorted(staging.iterdir()):
            os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_csv(rows, path):
    """Write a list of dicts as CSV."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _cell(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def markdown_table(rows, columns=None):
    """Render a list of dicts as a GitHub markdown table."""
    columns = columns or list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_angle_report(result, out_dir, *, settings):
    """Fig. 5–7 and ``angle_task.csv``/``angle_task.md`` for :func:`run_angle_task`."""
    summary = result.summary()
    for row in summary:
        row["paper (Fig. 6)"] = _PAPER_FIG6[row["method"]]
    with staged_output(out_dir) as staging:
        write_csv(result.rows, staging / "angle_task_trials.csv")
        write_csv(summary, staging / "angle_task.csv")
        plotting.plot_angle_scores(summary, staging / "fig6_angle_rmse.png",
                                   score="angle_rmse", ylabel="angle RMSE (Eq. 10, rad)")
        plotting.plot_angle_scores(summary, staging / "fig7_stress.png", score="stress",
                                   ylabel="stress σ (Eq. 8)")
        if result.panels:
            plotting.plot_angle_panels(result, staging / "fig5_angle_panels.png")
        text = [
            "# Angle reconstruction task (Sec. IV B)", "",
            f"Settings: {settings}", "",
            "Mean ± std over trials of the angle RMSE (Eq. 10, radians) and the Kruskal "
            "stress (Eq. 8) of the D* = 2 MDS embedding.", "",
            markdown_table(summary, ["method", "N", "A", "trials", "angle_rmse",
                                     "angle_rmse_std", "stress", "stress_std",
                                     "paper (Fig. 6)"]),
            "", "Figures: fig5_angle_panels.png, fig6_angle_rmse.png, fig7_stress.png.", "",
        ]
        (staging / "angle_task.md").write_text("\n".join(text))
    return summary


def write_manifold_report(result, out_dir, *, settings):
    """Fig. 8–11, Table I and the β angle for :func:`run_manifold_task`."""
    paper = dict(zip(PAPER_TABLE_I["D*"], zip(PAPER_TABLE_I["k"], PAPER_TABLE_I["A"],
                                              strict=True), strict=True))
    table_i = [
        {"D*": row["D*"], "R2_k": row["R2_k"], "paper R2_k": paper[row["D*"]][0],
         "R2_A": row["R2_A"], "paper R2_A": paper[row["D*"]][1]}
        for row in result.r2_rows if row["D*"] in paper
    ]
    stress = {}
    for row in result.stress_rows:
        stress.setdefault(row["D*"], {"D*": row["D*"]})[f"stress {row['method']}"] = row["stress"]
    stress_table = [stress[d] for d in sorted(stress)]
    with staged_output(out_dir) as staging:
        write_csv(result.stress_rows, staging / "manifold_stress.csv")
        write_csv(result.r2_rows, staging / "manifold_r2.csv")
        if table_i:
            write_csv(table_i, staging / "table1.csv")
        plotting.plot_stress_vs_dimension(result.stress_rows, staging / "fig8_stress_vs_dim.png")
        for dim, embedding in sorted(result.embeddings.items()):
            plotting.plot_embedding_3d(embedding, result.params,
                                       staging / f"fig9_11_embedding_d{dim}.png",
                                       title=f"CNN, D* = {dim}")
        text = [
            "# Three-dimensional manifold task (Sec. IV C)", "",
            f"Settings: {settings}", "",
            "## Stress against D* (Fig. 8)", "",
            markdown_table(stress_table), "",
            "Paper: CNN stress decays roughly exponentially up to D* ≈ 6 and flattens; "
            "power-spectrum stress decays much more slowly.", "",
            "## Table I: R² of linear models for k and A (Eq. 11–13), CNN embedding", "",
            markdown_table(table_i) if table_i else "(no D* of Table I was run)", "",
            "## Angle between the regression vectors of A and k (Eq. 14)", "",
            f"ours: {result.beta_angle:.1f}°, paper: {PAPER_BETA_ANGLE}° (at D* = 6)", "",
        ]
        (staging / "manifold_task.md").write_text("\n".join(text))
    return table_i
