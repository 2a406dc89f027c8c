"""Timing helpers shared by the benchmarks: interleaved best-of, BLAS reference rates."""

import time

import numpy as np

#: Side of the square matrices whose product gives the same-run BLAS rate.
GEMM_SIDE = 2048


def best_of(functions, repeats):
    """Best wall time of each function, repeats interleaved so load changes hit all alike.

    Returns ``(seconds, results)``: dicts keyed like ``functions`` with the best
    time and the last result of each.
    """
    best = {name: np.inf for name in functions}
    results = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def gemm_functions(dtypes=("float32", "float64")):
    """``{"sgemm": f, "dgemm": f}``: numpy (OpenBLAS) products of two square matrices.

    Their FLOP count is :data:`GEMM_FLOPS`; numpy's BLAS is the one
    ``texture_distances`` and ``power_spectrum`` use.
    """
    rng = np.random.default_rng(0)
    functions = {}
    for dtype in dtypes:
        a, b = (rng.random((GEMM_SIDE, GEMM_SIDE)).astype(dtype) for _ in range(2))
        functions["sgemm" if dtype == "float32" else "dgemm"] = lambda a=a, b=b: a @ b
    return functions


GEMM_FLOPS = 2 * GEMM_SIDE**3


def loglog_slope(xs, ys):
    """Least-squares exponent ``p`` of ``y ~ x^p``."""
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)[0])


def load_note(when):
    """The 1-minute load average (the machine is shared), for a table's notes."""
    import os

    return f"Load average (1 min) {when}: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs."
