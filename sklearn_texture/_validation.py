"""Small checks shared by every module: numeric dtypes, dask inputs, symmetry tolerance.

Nothing here imports torch, dask or matplotlib, so any module may use it.
"""

from numbers import Integral

import numpy as np

__all__ = [
    "SYMMETRY_RTOL",
    "check_positive_integer",
    "check_real_numeric",
    "check_symmetric",
    "is_dask_collection",
    "is_real_numeric",
]

#: Relative tolerance for "this square distance matrix is symmetric": distances computed
#: block by block in float64 agree with their transpose to about 1e-12 relative; 1e-8
#: leaves room for float32 inputs summed in float64, and still rejects any real asymmetry.
SYMMETRY_RTOL = 1e-8

# numpy dtype kinds that hold real numbers: bool, signed and unsigned integers, floats.
_REAL_KINDS = "biuf"


def is_real_numeric(value):
    """Whether ``value`` (an array, array-like or dtype) holds real numbers."""
    if isinstance(value, np.dtype):
        return value.kind in _REAL_KINDS
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(value).dtype
        except (TypeError, ValueError):
            return False
    return np.dtype(dtype).kind in _REAL_KINDS


def check_real_numeric(value, name):
    """Return ``value`` as an array, raising ``ValueError`` naming ``name`` unless real."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be real numbers; got {type(value).__name__}.") from None
    if not is_real_numeric(array.dtype):
        raise ValueError(f"{name} must be real numbers; got dtype {array.dtype}.")
    return array


def check_positive_integer(value, name, *, high=None, high_name=None):
    """Return ``value`` as an int in ``[1, high]``, raising ``ValueError`` naming ``name``.

    Booleans are refused (``True`` is an ``Integral``). ``high_name`` names the bound in
    the message (``"octaves must be an integer >= 1 and <= MAX_OCTAVES = 32; got 40."``).
    """
    if (isinstance(value, bool) or not isinstance(value, Integral) or value < 1
            or (high is not None and value > high)):
        bound = "" if high is None else f" and <= {high_name or high} = {high}"
        raise ValueError(f"{name} must be an integer >= 1{bound}; got {value!r}.")
    return int(value)


def check_symmetric(matrix, name):
    """Raise ``ValueError`` unless the square ``matrix`` equals its transpose to
    :data:`SYMMETRY_RTOL` relative to its largest entry."""
    scale = float(np.abs(matrix).max()) if matrix.size else 0.0
    if not np.allclose(matrix, matrix.T, rtol=0, atol=SYMMETRY_RTOL * scale):
        raise ValueError(f"{name} must be symmetric.")


def is_dask_collection(X):
    """Whether ``X`` is a dask collection, without importing dask."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "__dask_graph__")
