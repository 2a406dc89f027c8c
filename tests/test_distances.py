"""texture_distances: block Gram identity in float64, exactness, symmetry, numpy/dask/joblib."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.manifold import MDS
from sklearn.metrics import pairwise_distances

from sklearn_texture import distances as distances_module
from sklearn_texture.distances import texture_distances


def direct_distances(X, Y=None):
    """Reference: sqrt(sum((a - b)^2)) in float64, no identity, no cancellation."""
    X = np.asarray(X, dtype=np.float64)
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    return np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1))


vectors = arrays(
    np.float32, st.tuples(st.integers(1, 12), st.integers(1, 40)),
    elements=st.floats(-1e3, 1e3, width=32),
)


@given(vectors, st.integers(1, 13))
def test_matches_direct_float64_differences(X, block_size):
    got = texture_distances(X, block_size=block_size)
    assert got.dtype == np.float64 and got.shape == (len(X), len(X))
    scale = max(float(np.linalg.norm(X.astype(np.float64), axis=1).max()), 1.0)
    # float64 identity: ~1e-16 of |a|^2 + |b|^2 on d^2; near-identical pairs recomputed
    np.testing.assert_allclose(got, direct_distances(X), rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_array_equal(got, got.T)  # exactly symmetric
    np.testing.assert_array_equal(np.diag(got), 0.0)  # d(x, x) = 0 exactly
    assert (got >= 0).all()


@given(vectors, st.integers(1, 5), st.integers(1, 13))
def test_two_sets(X, n_queries, block_size):
    Y = X[:n_queries] * np.float32(0.5)
    got = texture_distances(X, Y, block_size=block_size)
    assert got.shape == (len(X), len(Y))
    scale = max(float(np.abs(X).max()) * np.sqrt(X.shape[1]), 1.0)
    np.testing.assert_allclose(got, direct_distances(X, Y), rtol=1e-7, atol=1e-9 * scale)


def test_matches_sklearn_pairwise_distances():
    X = np.random.default_rng(0).random((60, 3000)).astype(np.float32)
    got = texture_distances(X, block_size=16)
    expected = pairwise_distances(X.astype(np.float64))
    # sklearn's float64 identity carries ~1e-8 of the row norms as rounding
    norm = np.linalg.norm(X.astype(np.float64), axis=1).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * norm)


def test_near_identical_rows_keep_accurate_small_distances():
    """Where the identity cancels (d ≪ |a|), pairs are recomputed directly."""
    rng = np.random.default_rng(1)
    X = rng.uniform(1.0, 2.0, size=(4, 4000)).astype(np.float32)
    X[1] = X[0]
    X[1, 7] = np.nextafter(X[0, 7], np.float32(3.0))  # one float32 ulp apart: d ~ 1e-7
    X[2] = X[0]  # an exact duplicate
    got = texture_distances(X)
    exact = direct_distances(X)
    assert 0 < exact[0, 1] < 1e-6
    np.testing.assert_allclose(got[0, 1], exact[0, 1], rtol=1e-12)
    assert got[0, 2] == got[2, 0] == got[1, 2] - got[1, 0] == 0.0
    # the float64 identity alone gets this pair wrong (so the correction matters)
    X64 = X.astype(np.float64)
    naive = np.sqrt(max(0.0, X64[0] @ X64[0] + X64[1] @ X64[1] - 2 * X64[0] @ X64[1]))
    assert abs(naive - exact[0, 1]) > 1e-3 * exact[0, 1]


def test_block_size_and_threads_do_not_change_the_result():
    X = np.random.default_rng(2).random((37, 500)).astype(np.float32)
    reference = texture_distances(X, block_size=37)
    for block_size in (1, 5, 16):
        np.testing.assert_allclose(texture_distances(X, block_size=block_size), reference,
                                   rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(texture_distances(X, block_size=5, n_jobs=2),
                                  texture_distances(X, block_size=5))


def test_float32_input_is_never_upcast_whole(monkeypatch):
    """Memory: float64 temporaries are slices of a block, not a copy of X."""
    monkeypatch.setattr(distances_module, "_CHUNK_BYTES", 2**20)
    X = np.random.default_rng(3).random((200, 50_000)).astype(np.float32)  # 40 MB
    tracemalloc.start()
    try:
        texture_distances(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * X.nbytes  # a float64 copy of X would be 2 * X.nbytes


def test_dask_input_matches_numpy():
    da = pytest.importorskip("dask.array")
    X = np.random.default_rng(4).random((30, 700)).astype(np.float32)
    lazy = da.from_array(X, chunks=(7, 300))
    expected = texture_distances(X)
    got = texture_distances(lazy)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got, got.T)
    np.testing.assert_array_equal(np.diag(got), 0.0)
    np.testing.assert_allclose(texture_distances(lazy, X[:4], block_size=11),
                               texture_distances(X, X[:4]), rtol=1e-12, atol=1e-12)


def test_ready_for_precomputed_mds():
    X = np.random.default_rng(5).random((12, 50)).astype(np.float32)
    embedding = MDS(n_components=2, metric="precomputed", random_state=0, n_init=1,
                    init="classical_mds", metric_mds=True, normalized_stress="auto"
                    ).fit_transform(texture_distances(X))
    assert embedding.shape == (12, 2) and np.isfinite(embedding).all()


@pytest.mark.parametrize(
    ("X", "Y", "message"),
    [
        (np.full((3, 4), np.nan), None, "NaN"),
        (np.zeros((3, 4)), np.zeros((2, 5)), "same number of features"),
        (np.zeros(4), None, "2D array"),
        (np.zeros((2, 3, 4)), None, "dim"),
        (np.array([["a", "b"]]), None, "numeric|float"),
    ],
)
def test_bad_input(X, Y, message):
    with pytest.raises(ValueError, match=message):
        texture_distances(X, Y)


def test_bad_dask_input():
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="NaN"):
        texture_distances(da.from_array(np.full((3, 4), np.inf)))
    with pytest.raises(ValueError, match="2-D"):
        texture_distances(da.zeros((2, 3, 4)))


def test_bad_block_size():
    with pytest.raises(ValueError, match="block_size"):
        texture_distances(np.zeros((3, 4)), block_size=0)
