"""Texture distance matrices at scale, block by block.

The vectorizers lay out their rows so that the Euclidean distance between two
rows *is* the paper's texture distance: Eq. 4 for
:class:`~sklearn_texture.GramTextureVectorizer` (see
:func:`~sklearn_texture.gram.scaled_texture_vectors`) and Eq. 7 for
:class:`~sklearn_texture.spectrum.PowerSpectrumVectorizer`. No equation is
repeated here: :func:`texture_distances` computes Euclidean distances between
rows, for N in the tens of thousands and D in the hundreds of thousands, which
is what :class:`sklearn.manifold.MDS` with ``metric="precomputed"``
needs.
"""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from scipy.linalg import blas
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array

from sklearn_texture._validation import is_dask_collection, is_real_numeric

__all__ = ["texture_distances"]

# Rows per block when not given: the (block x block) float64 products are 8 MiB.
_BLOCK_ROWS = 1024

# Float64 temporaries (a slice of a block along the features) stay near this size.
_CHUNK_BYTES = 64 * 2**20

# Pairs with d^2 below this fraction of |a|^2 + |b|^2 are recomputed directly:
# there the identity's cancellation error (~1e-16 of |a|^2 + |b|^2) would exceed
# about 1e-10 of d^2.
_RECOMPUTE_BELOW = 1e-6


def _max_abs(block):
    """Largest ``|entry|`` of a 2-D block, or inf if it holds NaN or infinity.

    Reads the block slice by slice along the features, so no copy of it is made.
    """
    n_rows, n_features = block.shape
    if block.size == 0:
        return 0.0
    width = max(1, _CHUNK_BYTES // (block.dtype.itemsize * n_rows))
    largest = 0.0
    for start in range(0, n_features, width):
        part = block[:, start:start + width]
        high, low = float(part.max()), float(part.min())
        if not (np.isfinite(high) and np.isfinite(low)):
            return np.inf
        largest = max(largest, abs(high), abs(low))
    return largest


def _scale_exponent(*largest):
    """``e`` with every ``|entry| < 2**e``: dividing by ``2**e`` (exact) brings them below 1."""
    return int(np.frexp(max(largest))[1])


def _products_and_norms(A, B, same, exponent):
    """Float64 ``A @ B.T`` and the squared row norms of ``A / 2**e`` and ``B / 2**e``.

    Accumulated over feature slices: each slice is copied into one reused float64
    workspace (so float32 blocks are never upcast whole, and no fresh pages are
    touched per slice), scaled by the exact power of two ``2**-exponent`` (entries
    then lie below 1 in magnitude, so neither their squares underflow to zero for
    tiny vectors nor their sums overflow for huge ones) and added into the products
    in place by BLAS: ``dsyrk`` on a diagonal block (``same``: half the flops; only
    the upper triangle is filled, and the norms are its diagonal), ``dgemm``
    otherwise.
    """
    n_a, n_b, n_features = len(A), len(B), A.shape[1]
    width = max(1, min(n_features, _CHUNK_BYTES // (8 * max(n_a, n_b, 1))))
    products = np.zeros((n_a, n_b), order="F")
    norms_a, norms_b = np.zeros(n_a), np.zeros(n_b)
    workspace_a = np.empty((n_a, width))
    workspace_b = None if same else np.empty((n_b, width))
    for start in range(0, n_features, width):
        stop = min(start + width, n_features)
        full = stop - start == width
        a = workspace_a if full else np.empty((n_a, stop - start))
        np.copyto(a, A[:, start:stop])
        np.ldexp(a, -exponent, out=a)
        # a.T is Fortran-ordered, so BLAS reads the workspace without a copy.
        if same:
            products = blas.dsyrk(1.0, a.T, beta=1.0, c=products, trans=1, overwrite_c=1)
            continue
        b = workspace_b if full else np.empty((n_b, stop - start))
        np.copyto(b, B[:, start:stop])
        np.ldexp(b, -exponent, out=b)
        products = blas.dgemm(1.0, a.T, b.T, beta=1.0, c=products, trans_a=1, overwrite_c=1)
        norms_a += np.einsum("ij,ij->i", a, a)
        norms_b += np.einsum("ij,ij->i", b, b)
    if same:
        norms_a = norms_b = np.diag(products).copy()
    return products, norms_a, norms_b


def _squared_distance_block(A, B, same, exponent=None, names=("X", "Y")):
    """Squared Euclidean distances between the rows of two blocks, in units of ``4**e``.

    Returns ``(squared, e)`` with ``squared[i, j] = |A_i - B_j|^2 / 4**e``: the
    rows are divided by the exact power of two ``2**e`` above their largest entry
    (computed here unless ``exponent`` is given), so the float64 arithmetic
    neither underflows (entries ~1e-170 would square to zero) nor overflows
    (entries ~1e200); :func:`_assemble` multiplies the square roots back by
    ``2**e``. Uses ``|a - b|^2 = |a|^2 + |b|^2 - 2 a.b`` with float64 products
    accumulated over slices of the features (see :func:`_products_and_norms`),
    clips rounding negatives to zero and recomputes near-identical pairs
    directly, where the identity cancels. ``same`` marks a diagonal block (``B``
    is ``A``): only its upper triangle is computed, and it is made exactly
    symmetric with zeros on its diagonal. Empty blocks give an empty result.
    """
    A = np.asarray(A)
    B = A if same else np.asarray(B)
    if A.shape[0] == 0 or B.shape[0] == 0:
        return np.zeros((A.shape[0], B.shape[0])), 0
    if exponent is None:
        largest = [_max_abs(A), _max_abs(B)]
        for name, value in zip(names, largest, strict=True):
            if not np.isfinite(value):
                raise ValueError(f"{name} contains NaN or infinity.")
        exponent = _scale_exponent(*largest)
    n_features = A.shape[1]
    products, norms_a, norms_b = _products_and_norms(A, B, same, exponent)
    scale = norms_a[:, None] + norms_b[None, :]
    squared = scale - 2.0 * products
    rows, cols = np.nonzero(squared <= _RECOMPUTE_BELOW * scale)
    if same:
        keep = rows < cols
        rows, cols = rows[keep], cols[keep]
    group = max(1, _CHUNK_BYTES // (8 * max(n_features, 1)))
    for start in range(0, len(rows), group):
        r, c = rows[start:start + group], cols[start:start + group]
        difference = np.ldexp(A[r].astype(np.float64), -exponent) - np.ldexp(
            B[c].astype(np.float64), -exponent
        )
        squared[r, c] = np.einsum("ij,ij->i", difference, difference)
    np.maximum(squared, 0.0, out=squared)
    if same:
        squared = np.triu(squared, 1)
        squared += squared.T
    return squared, exponent


@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like", None],
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def texture_distances(X, Y=None, *, block_size=None, n_jobs=None):
    """Euclidean distances between texture vectors, computed block by block.

    For rows of :class:`~sklearn_texture.GramTextureVectorizer` this is the
    paper's Eq. 4 distance matrix, for rows of
    :class:`~sklearn_texture.spectrum.PowerSpectrumVectorizer` Eq. 7: both lay
    out their vectors so that Euclidean distance is the texture distance. Blocks
    of rows are compared with the Gram identity
    ``|a - b|^2 = |a|^2 + |b|^2 - 2 a.b`` in float64 (float32 rows are upcast
    one block at a time), negatives from rounding are clipped to zero, and pairs
    so close that the identity cancels (``d^2 < 1e-6 (|a|^2 + |b|^2)``) are
    recomputed directly, so near-identical textures keep accurate small
    distances and identical rows get exactly 0. The result is exactly
    symmetric with a zero diagonal when ``Y`` is None, ready for
    ``sklearn.manifold.MDS(metric="precomputed")``.

    Each block pair is first divided by the exact power of two just above its
    largest entry and its distances multiplied back at the end, so the squares
    never underflow or overflow: any finite input gives its distances to
    float64 accuracy, from subnormal vectors (~1e-300) to entries near the
    float64 maximum, and a ``ValueError`` is raised only where a distance
    itself exceeds the float64 range (~1.8e308).

    Parameters
    ----------
    X : array-like or dask array of shape (N, D)
        Texture vectors, one per row. A :class:`dask.array.Array` is compared
        block by block (its row chunks, or ``block_size`` rows) on the active dask
        scheduler, each task loading only its two blocks: the N×D matrix is
        never materialised in one place.
    Y : array-like or dask array of shape (M, D), default=None
        Second set of vectors; ``None`` compares ``X`` with itself and computes
        only the upper block triangle.
    block_size : int, default=None
        Rows per block. ``None`` uses 1024 rows for numpy input and keeps the
        row chunks of dask input (chunks of 0 rows, as boolean masking and
        ``compute_chunk_sizes()`` leave them, are skipped). Memory per block pair is the
        ``block_size²`` float64 result plus float64 slices of about 64 MiB: the
        blocks are upcast slice by slice along the features, never whole.
    n_jobs : int, default=None
        Parallel block pairs through joblib (threads by default: the float64
        products release the GIL). Honours ``joblib.parallel_config``, including
        ``backend="dask"``. Ignored for dask input, which uses the dask
        scheduler.

    Returns
    -------
    distances : ndarray of shape (N, N) or (N, M), float64
        ``distances[i, j] = ||X_i - Y_j||`` (``Y = X`` when None).

    Raises
    ------
    ValueError
        If an input holds NaN or infinity, is not 2-D and real, has no rows
        or features, ``X`` and ``Y`` differ in features, or a distance
        exceeds the float64 range.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.distances import texture_distances
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)
    >>> texture_distances(X)
    array([[0., 5.],
           [5., 0.]])
    """
    if is_dask_collection(X) or is_dask_collection(Y):
        return _dask_texture_distances(X, Y, block_size)
    X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
    if Y is not None:
        Y = check_array(Y, dtype=[np.float64, np.float32], input_name="Y")
        _check_same_features(X, Y)
    size = block_size or _BLOCK_ROWS
    starts_x = range(0, X.shape[0], size)
    starts_y = starts_x if Y is None else range(0, Y.shape[0], size)
    pairs = [(i, j) for i in starts_x for j in starts_y if Y is not None or j >= i]
    other = X if Y is None else Y
    # The largest entry of each row block, once (check_array has rejected NaN/inf).
    largest_x = {i: _max_abs(X[i:i + size]) for i in starts_x}
    largest_y = largest_x if Y is None else {j: _max_abs(Y[j:j + size]) for j in starts_y}
    blocks = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_squared_distance_block)(
            X[i:i + size], other[j:j + size], Y is None and i == j,
            _scale_exponent(largest_x[i], largest_y[j]),
        )
        for i, j in pairs
    )
    return _assemble(pairs, blocks, X.shape[0], other.shape[0], symmetric=Y is None)


def _check_same_features(X, Y):
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of features; got {X.shape[1]} and "
            f"{Y.shape[1]}."
        )


def _assemble(pairs, blocks, n_rows, n_cols, symmetric):
    """Square-root the scaled squared blocks (at row, column offsets ``pairs``) into one matrix.

    Each block comes as ``(squared, e)`` from :func:`_squared_distance_block`; its
    distances are ``sqrt(squared) * 2**e``.
    """
    distances = np.empty((n_rows, n_cols), dtype=np.float64)
    for (i, j), (block, exponent) in zip(pairs, blocks, strict=True):
        rows, cols = slice(i, i + block.shape[0]), slice(j, j + block.shape[1])
        target = distances[rows, cols]
        np.sqrt(block, out=target)
        with np.errstate(over="ignore"):
            np.ldexp(target, exponent, out=target)
        if not np.isfinite(target).all():
            raise ValueError(
                "distances overflow float64: some exceed ~1.8e308 (the float64 maximum); "
                "rescale the vectors."
            )
        if symmetric and i != j:
            distances[cols, rows] = target.T
    return distances


def _dask_texture_distances(X, Y, block_size):
    import dask
    import dask.array as da

    X = da.asarray(X)
    Y = None if Y is None else da.asarray(Y)
    for name, array in (("X", X), ("Y", Y)):
        if array is None:
            continue
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {array.ndim}-D.")
        if not is_real_numeric(np.dtype(array.dtype)):
            raise ValueError(f"{name} must be numeric; got dtype {array.dtype}.")
        if any(np.isnan(c) for c in array.chunks[0]):
            raise ValueError(
                f"the dask array {name} has unknown chunk sizes; call compute_chunk_sizes()."
            )
        for axis, what in ((0, "sample"), (1, "feature")):
            if array.shape[axis] == 0:
                raise ValueError(
                    f"Found array with 0 {what}(s) (shape={array.shape}) while a minimum of 1 "
                    f"is required by texture_distances ({name})."
                )
    if Y is not None:
        _check_same_features(X, Y)

    def row_blocks(array):
        """The non-empty row blocks as delayed arrays, with their row offsets."""
        array = array.rechunk({0: block_size or array.chunks[0], 1: -1})
        lengths = np.asarray(array.chunks[0], dtype=int)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        blocks = array.to_delayed().ravel()
        # Boolean masking leaves chunks of 0 rows: they contribute nothing.
        keep = np.flatnonzero(lengths > 0)
        return [blocks[k] for k in keep], offsets[keep]

    blocks_x, offsets_x = row_blocks(X)
    blocks_y, offsets_y = (blocks_x, offsets_x) if Y is None else row_blocks(Y)
    pairs, tasks = [], []
    for a, i in enumerate(offsets_x):
        for b, j in enumerate(offsets_y):
            if Y is None and b < a:
                continue
            pairs.append((int(i), int(j)))
            same = Y is None and a == b
            tasks.append(dask.delayed(_squared_distance_block)(
                blocks_x[a], blocks_y[b], same, names=("X", "X" if Y is None else "Y")
            ))
    squared = dask.compute(*tasks)
    n_cols = X.shape[0] if Y is None else Y.shape[0]
    return _assemble(pairs, squared, X.shape[0], n_cols, symmetric=Y is None)
