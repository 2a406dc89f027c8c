"""The paper's full 3-D task at the paper's size, against its network time (issue 12, item 6).

Runs ``run_manifold_task(n_levels=10, size=256)`` — N = 1000 images of 256², both methods,
every D* of Fig. 8 — once, in a fresh process, with its pieces timed
(:func:`benchmarks.bench_end_to_end.run_child`), and compares the whole with the CNN
features alone and with the network's floor: 1000 × 47.3 GFLOP at the rate of a 2048²
torch sgemm timed in the same run (best of 5, before and after the task).

    python -m benchmarks.bench_paper_256
"""

import time

import torch

from benchmarks._table import write_table
from benchmarks._timing import best_of, load_note
from benchmarks.bench_end_to_end import pieces_of, run_child
from benchmarks.bench_gram import network_flops

GEMM_SIDE = 2048
N_LEVELS, SIDE = 10, 256


def _sgemm_rate():
    a, b = torch.randn(GEMM_SIDE, GEMM_SIDE), torch.randn(GEMM_SIDE, GEMM_SIDE)
    seconds = best_of({"sgemm": lambda: torch.mm(a, b)}, 5)[0]["sgemm"]
    return 2 * GEMM_SIDE**3 / seconds


def main(quick=False):
    n_levels = 5 if quick else N_LEVELS
    before = load_note("before")
    rate_before = _sgemm_rate()
    start = time.perf_counter()
    result = run_child(SIDE, n_levels, 0)
    wall = time.perf_counter() - start
    rate = max(rate_before, _sgemm_rate())  # the faster of the two: the machine's limit
    n_images = result["n_images"]
    floor = n_images * network_flops(SIDE)[0] / rate
    pieces = pieces_of(result)
    total = result["total"]
    rows = [{"piece": name, "seconds": seconds, "share of total": seconds / total}
            for name, seconds in pieces.items()]
    rows.append({"piece": "total (run_manifold_task)", "seconds": total, "share of total": 1.0})
    rows.append({"piece": "network floor (FLOPs / sgemm rate)", "seconds": floor,
                 "share of total": floor / total})
    cnn = pieces["cnn features"]
    return write_table(
        "paper_task_256", rows,
        title=f"The 3-D task at the paper's size: N = {n_images}, {SIDE}², both methods, all D*",
        notes=(
            f"One run in a fresh process ({wall:.0f} s wall with start-up). The whole task "
            f"takes {total / cnn:.2f}× its CNN features alone and {total / floor:.2f}× the "
            f"network's floor; the CNN features take {cnn / floor:.2f}× the floor "
            f"({cnn / n_images:.3f} s per image; sgemm {rate / 1e9:.0f} GFLOP/s, best of 5 "
            f"before and after). {before} {load_note('after')}"
        ),
    )


if __name__ == "__main__":
    main()
