"""Issue 15, classes 5-7: bounded dataset parameters, empty dask blocks, numbers without answers.

``CASES`` is the bad-input table, in the style of ``tests/test_bad_input.py``: each row is
(call, exception type, message pattern), and the pattern names the parameter or the
degenerate input. Open-ended classes are hypothesis properties below the table:

* class 5: every parameter within the documented bounds gives finite images in [-1, 1];
* class 6: dask inputs whose row chunks include empty ones (boolean masking, then
  ``compute_chunk_sizes()``) give the distances of the masked numpy rows;
* class 7: scale is normalised before anything is squared, so ``angle_rmse``,
  ``regression_angle``, ``linear_r2``, ``kruskal_stress``, ``texture_distances`` and
  ``LandmarkMDS`` give the same answer (scaled where the answer has units) from 1e-300 to
  1e300, and ``texture_distances`` equals the direct formula there.
"""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.decomposition import PCA

from sklearn_texture.datasets import (
    MAX_DISPLACEMENT,
    MAX_K,
    MAX_NOISE_LATTICE,
    MAX_PIXELS,
    MAX_SIZE,
    PerlinTextureDataset,
)
from sklearn_texture.distances import texture_distances
from sklearn_texture.embedding import EMBEDDING_FIT_TOLERANCE, LandmarkMDS
from sklearn_texture.metrics import (
    angle_rmse,
    kruskal_stress,
    linear_r2,
    reconstruct_angles,
    regression_angle,
)
from sklearn_texture.perlin import MAX_OCTAVES, perlin2, perlin2_fields, permutation_table

V = ValueError
RNG = np.random.default_rng(0)
EMBEDDING = RNG.normal(size=(6, 2))
THETA = np.linspace(0, np.pi, 6, endpoint=False)
VECTORS = RNG.random((6, 4))
PIXELS_OVER = MAX_PIXELS // MAX_SIZE**2 + 1  # images of MAX_SIZE² that exceed MAX_PIXELS


def orthogonal_parameter():
    """A parameter whose centred values are orthogonal to the centred embedding columns."""
    design = np.c_[np.ones(6), EMBEDDING]
    q, _ = np.linalg.qr(design, mode="complete")
    return q[:, 3]  # orthogonal to the column space of [1, embedding]


def dask_array(X, chunks):
    da = pytest.importorskip("dask.array")
    return da.from_array(X, chunks=chunks)


def masked_dask(X, mask, chunks):
    """``X[mask]`` as dask, with chunk sizes computed: chunks of 0 rows where all is masked."""
    da = pytest.importorskip("dask.array")
    masked = da.from_array(X, chunks=(chunks, X.shape[1]))[da.from_array(mask, chunks=chunks)]
    return masked.compute_chunk_sizes()


def unknown_chunks():
    da = pytest.importorskip("dask.array")
    mask = np.arange(6) % 2 == 0
    return da.from_array(VECTORS, chunks=(3, 4))[da.from_array(mask, chunks=3)]


def warnings_as_errors(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return call()


def case(entry, bad, call, error, pattern, marks=()):
    return pytest.param(call, error, pattern, id=f"{entry}-{bad}", marks=marks)


CASES = [
    # ---- class 5: PerlinTextureDataset, angle_task, manifold_task
    case("dataset", "octaves=10**9", lambda: PerlinTextureDataset(0, 5, 1, size=8, octaves=10**9),
         V, r"octaves must be an integer >= 1 and <= MAX_OCTAVES = 32; got 1000000000"),
    case("dataset", "octaves-bool", lambda: PerlinTextureDataset(0, 5, 1, size=8, octaves=True),
         V, "octaves must be an integer"),
    case("dataset", "k=1.7e308", lambda: PerlinTextureDataset(0, 1.7e308, 1, size=8), V,
         r"k must be > 0 and <= MAX_K = 1e\+06 .*got max k = 1.7e\+308"),
    case("dataset", "k-just-above", lambda: PerlinTextureDataset(0, [5, MAX_K * 1.01], 1, size=8),
         V, r"k must be > 0 and <= MAX_K"),
    case("dataset", "amplitude=1e300", lambda: PerlinTextureDataset(0, 5, 1e300, size=8), V,
         r"amplitude must be >= 0 and amplitude \* noise_scale .* <= MAX_DISPLACEMENT = 1000; "
         r"got amplitude = 1e\+300 with noise_scale = 0.027, so amplitude must lie in "
         r"\[0, 37037"),
    case("dataset", "noise_scale=1e308",
         lambda: PerlinTextureDataset(0, 5, 1, size=8, noise_scale=1e308), V,
         r"amplitude \* noise_scale .* got amplitude = 1 with noise_scale = 1e\+308"),
    case("dataset", "noise_scale-nan",
         lambda: PerlinTextureDataset(0, 5, 1, size=8, noise_scale=np.nan), V,
         "noise_scale must be a finite real number >= 0; got nan"),
    case("dataset", "noise_frequency-inf",
         lambda: PerlinTextureDataset(0, 5, 1, size=8, noise_frequency=np.inf), V,
         "noise_frequency must be a finite real number >= 0; got inf"),
    case("dataset", "noise_frequency=1e10",
         lambda: PerlinTextureDataset(0, 5, 1, size=8, noise_frequency=1e10), V,
         r"noise_frequency \* 2\*\*\(octaves - 1\) .* <= MAX_NOISE_LATTICE = 16384; got "
         r"noise_frequency = 10000000000.0 with octaves = 1 .* noise_frequency must lie in "
         r"\(0, 16384\]"),
    case("dataset", "octaves-beyond-the-lattice",
         lambda: PerlinTextureDataset(0, 5, 1, size=8, octaves=12), V,
         r"got noise_frequency = 12.0 with octaves = 12 .* octaves must be <= 11"),
    case("dataset", "size=100000", lambda: PerlinTextureDataset(0, 5, 1, size=100_000), V,
         r"size must be an integer >= 1 and <= MAX_SIZE = 16384; got 100000"),
    case("dataset", "pixels", lambda: PerlinTextureDataset(np.zeros(PIXELS_OVER), 5, 1,
                                                            size=MAX_SIZE), V,
         rf"n_images = {PIXELS_OVER} images of 16384x16384 pixels .* at most MAX_PIXELS"),
    case("angle_task", "amplitude=1e308",
         lambda: PerlinTextureDataset.angle_task(3, amplitude=1e308, size=8), V,
         r"amplitude must be >= 0 and amplitude \* noise_scale .*got amplitude = 1e\+308"),
    case("angle_task", "k=1e7", lambda: PerlinTextureDataset.angle_task(3, k=1e7, size=8), V,
         r"k must be > 0 and <= MAX_K = 1e\+06 .*got max k = 1e\+07"),
    case("angle_task", "n_images=10**12",
         lambda: PerlinTextureDataset.angle_task(10**12, size=8), V,
         r"n_images = 1000000000000 images of 8x8 pixels .* MAX_PIXELS"),
    case("angle_task", "size=10**5", lambda: PerlinTextureDataset.angle_task(3, size=10**5), V,
         r"size must be an integer >= 1 and <= MAX_SIZE"),
    case("angle_task", "octaves=10**9",
         lambda: PerlinTextureDataset.angle_task(3, size=8, octaves=10**9), V,
         r"octaves must be an integer >= 1 and <= MAX_OCTAVES"),
    case("manifold_task", "n_levels=10**4",
         lambda: PerlinTextureDataset.manifold_task(10**4, size=8), V,
         r"n_levels\*\*3 = 1000000000000 images of 8x8 pixels .* MAX_PIXELS"),
    case("manifold_task", "noise_scale=1e4",
         lambda: PerlinTextureDataset.manifold_task(2, size=8, noise_scale=1e4), V,
         r"amplitude \* noise_scale .* got amplitude = 1.25 with noise_scale = 10000"),
    case("manifold_task", "noise_frequency=2e4",
         lambda: PerlinTextureDataset.manifold_task(2, size=8, noise_frequency=2e4), V,
         r"noise_frequency \* 2\*\*\(octaves - 1\)"),
    # ---- class 5: perlin2, perlin2_fields
    case("perlin2", "octaves=10**9", lambda: perlin2(0.5, 0.5, octaves=10**9), V,
         r"octaves must be an integer >= 1 and <= MAX_OCTAVES = 32"),
    case("perlin2", "octaves=33", lambda: perlin2(0.1, 0.1, octaves=MAX_OCTAVES + 1), V,
         r"octaves must be an integer >= 1 and <= MAX_OCTAVES"),
    case("perlin2_fields", "octaves=10**9",
         lambda: perlin2_fields([0.5], [0.5], [permutation_table(0)], octaves=10**9), V,
         r"octaves must be an integer >= 1 and <= MAX_OCTAVES"),
    case("perlin2_fields", "1-d-permutations",
         lambda: perlin2_fields([0.5], [0.5], permutation_table(0)), V,
         r"permutations must be a \(B, 256\) stack"),
    case("perlin2_fields", "not-a-permutation",
         lambda: perlin2_fields([0.5], [0.5], np.zeros((2, 256), dtype=int)), V,
         "permutation must be a permutation of the integers 0..255"),
    case("perlin2_fields", "2-d-coordinates",
         lambda: perlin2_fields(np.zeros((2, 2)), [0.5], [permutation_table(0)]), V,
         "needs 1-D x"),
    case("perlin2_fields", "too-large",
         lambda: perlin2_fields([1e12], [0.5], [permutation_table(0)]), V,
         r"must stay below 2\*\*30"),
    # ---- class 6: dask inputs
    case("texture_distances", "dask-all-rows-masked",
         lambda: texture_distances(masked_dask(VECTORS, np.zeros(6, bool), 3)), V,
         r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\)"),
    case("texture_distances", "dask-Y-all-rows-masked",
         lambda: texture_distances(VECTORS, masked_dask(VECTORS, np.zeros(6, bool), 3)), V,
         r"0 sample\(s\) .* \(Y\)"),
    case("texture_distances", "dask-no-features",
         lambda: texture_distances(dask_array(np.zeros((3, 0)), (2, 1))), V,
         r"0 feature\(s\)"),
    case("texture_distances", "dask-unknown-chunks",
         lambda: texture_distances(unknown_chunks()), V, "compute_chunk_sizes"),
    case("texture_distances", "dask-nan-in-a-masked-block",
         lambda: texture_distances(masked_dask(np.r_[VECTORS, [[np.nan] * 4]],
                                               np.r_[np.ones(6, bool), True], 4)), V,
         "X contains NaN or infinity"),
    # ---- class 7: constant or trendless parameters
    case("regression_angle", "constant-0.1-column",
         lambda: regression_angle(EMBEDDING, THETA, np.full(6, 0.1)), V,
         r"b is constant \(every sample has the same value\), so the regression is degenerate"),
    case("regression_angle", "constant-a-and-b",
         lambda: regression_angle(EMBEDDING, np.full(6, 0.7), np.full(6, 1 / 3)), V,
         "a and b are constant"),
    case("regression_angle", "orthogonal-parameter",
         lambda: regression_angle(EMBEDDING, THETA, orthogonal_parameter()), V,
         r"regression vector of b is zero \(no linear trend"),
    case("regression_angle", "coincident-embedding",
         lambda: regression_angle(np.full((6, 2), 0.1), THETA, EMBEDDING[:, 0]), V,
         "regression vector of a and b is zero"),
    case("linear_r2", "constant-0.1-column",
         lambda: linear_r2(EMBEDDING, np.full(6, 0.1)), V, r"column\(s\) \[0\] are constant"),
    case("linear_r2", "constant-1/3-second-column",
         lambda: linear_r2(EMBEDDING, np.c_[THETA, np.full(6, 1 / 3)]), V,
         r"column\(s\) \[1\] are constant"),
    case("angle_rmse", "coincident-0.1", lambda: angle_rmse(np.full((6, 2), 0.1), THETA), V,
         "all embedded points coincide"),
    case("angle_rmse", "coincident-1e308", lambda: angle_rmse(np.full((6, 2), 1e308), THETA), V,
         "all embedded points coincide"),
    case("reconstruct_angles", "coincident-0.7",
         lambda: reconstruct_angles(np.full((6, 3), 0.7), THETA), V, "coincide"),
    case("kruskal_stress", "coincident-at-1e300",
         lambda: kruskal_stress(np.ones(15), np.full((6, 2), 1e300)), V,
         "all embedded points coincide"),
    # ---- class 7: answers beyond float64 (the only overflow left)
    case("kruskal_stress", "stress-beyond-float64",
         lambda: kruskal_stress(np.full(15, 1e300), EMBEDDING * 1e-300), V,
         "Kruskal's stress overflows float64"),
    case("texture_distances", "distance-beyond-float64",
         lambda: texture_distances(np.array([[1.5e308, 0.0], [-1.5e308, 0.0]])), V,
         "distances overflow float64"),
    case("texture_distances", "dask-distance-beyond-float64",
         lambda: texture_distances(dask_array(np.array([[1.5e308], [-1.5e308]]), (1, 1))), V,
         "distances overflow float64"),
    case("LandmarkMDS", "distance-beyond-float64",
         lambda: LandmarkMDS().fit(np.array([[1.7e308, 0], [-1.7e308, 0], [0, 1.7e308]])), V,
         "distances overflow float64"),
    case("LandmarkMDS", "transform-far-beyond-the-landmarks",
         lambda: LandmarkMDS().fit(VECTORS).transform(np.full((1, 4), 1e300)), V,
         r"squared distances overflow float64: some distances are more than ~1e154 times"),
    # ---- class 7: a given map its own training samples do not fit
    case("LandmarkMDS", "unrelated-embedding",
         lambda: warnings_as_errors(lambda: LandmarkMDS().fit(
             VECTORS, embedding=RNG.normal(size=(6, 2)))), UserWarning,
         r"The given embedding does not fit the training samples' distances"),
    case("LandmarkMDS", "embedding-in-other-units",
         lambda: warnings_as_errors(lambda: LandmarkMDS().fit(
             VECTORS, embedding=PCA(2).fit_transform(VECTORS) / 3)), UserWarning,
         r"RMS distance of \d.* times the map's RMS radius"),
]


@pytest.mark.parametrize(("call", "error", "pattern"), CASES)
def test_hardening_table(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# ---------------------------------------------------------------- class 5: datasets


@given(
    k=st.floats(1e-3, MAX_K),
    displacement=st.floats(0, MAX_DISPLACEMENT),
    noise_scale=st.floats(1e-3, 10),
    octaves=st.integers(1, 6),
    theta=st.floats(-1e6, 1e6),
    size=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_parameters_within_the_bounds_give_finite_images(
    k, displacement, noise_scale, octaves, theta, size, seed
):
    """At the bounds (k = 1e6, A * noise_scale = 1000) the phase is still ~9e9 rad: finite."""
    frequency = MAX_NOISE_LATTICE / 2.0 ** (octaves - 1)  # the finest octave at its bound
    data = PerlinTextureDataset(
        theta, k, displacement / noise_scale, size=size, random_state=seed,
        noise_scale=noise_scale, noise_frequency=frequency, octaves=octaves,
    )
    assert np.isfinite(data.images).all()
    assert np.abs(data.images).max() <= 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"k": MAX_K * (1 + 1e-9)}, "k"),
        ({"amplitude": MAX_DISPLACEMENT / 0.027 * (1 + 1e-9)}, "amplitude"),
        ({"size": MAX_SIZE + 1}, "size"),
        ({"octaves": MAX_OCTAVES + 1}, "octaves"),
        ({"noise_frequency": MAX_NOISE_LATTICE * (1 + 1e-9)}, "noise_frequency"),
    ],
)
def test_each_bound_is_where_the_error_starts(kwargs, name):
    """Just above each bound raises naming the parameter (the bounds themselves: below)."""
    arguments = {"theta": 0.0, "k": 5.0, "amplitude": 1.0, "size": 1, **kwargs}
    with pytest.raises(ValueError, match=name):
        PerlinTextureDataset(arguments.pop("theta"), arguments.pop("k"),
                             arguments.pop("amplitude"), **arguments)


def test_the_bounds_themselves_are_accepted():
    data = PerlinTextureDataset(0.3, MAX_K, MAX_DISPLACEMENT / 0.027, size=4, random_state=0,
                                noise_scale=0.027, noise_frequency=MAX_NOISE_LATTICE)
    assert np.isfinite(data.images).all()
    assert PerlinTextureDataset(0.0, 5.0, 0.0, size=1, octaves=MAX_OCTAVES,
                                noise_frequency=MAX_NOISE_LATTICE / 2.0**31).images.shape == (
        1, 1, 1)


# ---------------------------------------------------------------- class 6: dask blocks


@st.composite
def masked_blocks(draw):
    """Rows, a chunking of them (chunks of 1..5 rows) and a mask that empties some chunks."""
    n_rows = draw(st.integers(1, 16))
    chunks, left = [], n_rows
    while left:
        chunks.append(draw(st.integers(1, min(5, left))))
        left -= chunks[-1]
    # Whole chunks masked out, and scattered rows.
    masked_chunks = draw(st.lists(st.booleans(), min_size=len(chunks), max_size=len(chunks)))
    mask = np.concatenate([np.full(c, not m) for c, m in zip(chunks, masked_chunks, strict=True)])
    flips = draw(arrays(bool, n_rows))
    mask &= ~flips | draw(st.booleans())
    X = draw(arrays(np.float64, (n_rows, draw(st.integers(1, 6))),
                    elements=st.floats(-1e3, 1e3)))
    return X, mask, tuple(chunks)


@given(masked_blocks(), st.sampled_from([None, 1, 2, 7]), st.integers(0, 3))
def test_dask_blocks_of_any_size_including_zero(problem, block_size, n_queries):
    X, mask, chunks = problem
    lazy = masked_dask(X, mask, chunks)
    if not mask.any():
        with pytest.raises(ValueError, match=r"0 sample\(s\)"):
            texture_distances(lazy, block_size=block_size)
        return
    assume(n_queries <= mask.sum())
    kept = X[mask]
    scale = max(float(np.linalg.norm(kept, axis=1).max()), 1.0)
    got = texture_distances(lazy, block_size=block_size)
    np.testing.assert_allclose(got, texture_distances(kept), rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_array_equal(got, got.T)
    np.testing.assert_array_equal(np.diag(got), 0.0)
    if n_queries:
        queries = kept[:n_queries] + 0.5
        np.testing.assert_allclose(texture_distances(lazy, queries, block_size=block_size),
                                   texture_distances(kept, queries), rtol=1e-12,
                                   atol=1e-12 * scale)
        np.testing.assert_allclose(texture_distances(queries, lazy, block_size=block_size),
                                   texture_distances(queries, kept), rtol=1e-12,
                                   atol=1e-12 * scale)


# ---------------------------------------------------------------- class 7: scale


def direct_distances(X, Y=None):
    """sqrt(sum((a - b)^2)) in float64, after dividing by the largest |entry| (no underflow)."""
    Y = X if Y is None else Y
    largest = max(float(np.abs(X).max()), float(np.abs(Y).max()))
    if largest == 0:
        return np.zeros((len(X), len(Y)))
    Xs, Ys = X / largest, Y / largest
    return np.sqrt(((Xs[:, None, :] - Ys[None, :, :]) ** 2).sum(-1)) * largest


exponents = st.floats(-300, 300)
vectors = arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 12)),
                 elements=st.floats(-1e3, 1e3))


@given(vectors, exponents, st.integers(1, 9))
def test_tiny_and_huge_texture_distances_match_the_direct_formula(X, exponent, block_size):
    """1e-300 to 1e300: the answers were 0 below ~1e-162 and an overflow error above ~1e150."""
    X = X * 10.0**exponent
    got = texture_distances(X, block_size=block_size)
    expected = direct_distances(X)
    norms = np.sqrt(((X / max(np.abs(X).max(), 1e-308)) ** 2).sum(1)).max() * np.abs(X).max()
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9 * norms)
    nonzero = expected > 1e-6 * norms
    assert (got[nonzero] > 0).all()


@given(vectors, exponents)
def test_texture_distances_are_exactly_scale_covariant_for_powers_of_two(X, exponent):
    """Scaling by 2**e changes nothing but the exponent (the block scale is a power of two)."""
    e = int(exponent * 3.32)  # about the same range, in powers of two
    assume(np.abs(X).max() == 0 or np.frexp(np.abs(X[X != 0]).min())[1] + e > -1021)
    np.testing.assert_array_equal(texture_distances(np.ldexp(X, e)),
                                  np.ldexp(texture_distances(X), e))


def ring(n, seed):
    rng = np.random.default_rng(seed)
    theta = np.sort(rng.uniform(0, np.pi, n))
    points = np.c_[np.cos(2 * theta), np.sin(2 * theta)] + 0.2 * rng.normal(size=(n, 2))
    return points / np.abs(points).max(), theta


@given(st.integers(3, 30), st.integers(0, 2**32 - 1),
       st.one_of(exponents, st.floats(300, 308.2)))
def test_angle_rmse_is_scale_invariant_over_the_float64_range(n, seed, exponent):
    """Up to 1.6e308 (the mean used to overflow at 1e308 and the score jumped to 0.9)."""
    embedding, theta = ring(n, seed)
    scaled = embedding * 10.0**exponent
    assume(np.abs(scaled).min() > 1e-306)  # subnormal inputs carry fewer digits
    assert angle_rmse(scaled, theta) == pytest.approx(angle_rmse(embedding, theta),
                                                      rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(reconstruct_angles(scaled, theta),
                               reconstruct_angles(embedding, theta), rtol=0, atol=1e-9)


@given(st.integers(6, 30), st.integers(0, 2**32 - 1), exponents, exponents)
def test_regression_angle_and_r2_are_scale_invariant(n, seed, scale_embedding, scale_values):
    """Near-underflow embeddings (1e-170) gave NaN angles; large ones 'no linear trend'."""
    rng = np.random.default_rng(seed)
    embedding = rng.normal(size=(n, 3))
    a = embedding @ rng.normal(size=3) + 0.3 * rng.normal(size=n)
    b = embedding @ rng.normal(size=3) + 0.3 * rng.normal(size=n)
    E, s = embedding * 10.0**scale_embedding, 10.0**scale_values
    assert regression_angle(E, a * s, b) == pytest.approx(regression_angle(embedding, a, b),
                                                          abs=1e-7)
    np.testing.assert_allclose(linear_r2(E, np.c_[a * s, b]), linear_r2(embedding, np.c_[a, b]),
                               rtol=0, atol=1e-9)


@given(st.integers(3, 15), st.integers(0, 2**32 - 1), exponents)
def test_kruskal_stress_is_scale_invariant(n, seed, exponent):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, 4))
    distances = direct_distances(points)
    embedding = points[:, :2] + 0.1 * rng.normal(size=(n, 2))
    s = 10.0**exponent
    assert kruskal_stress(distances * s, embedding * s) == pytest.approx(
        kruskal_stress(distances, embedding), rel=1e-9)


@given(st.integers(0, 2**32 - 1), exponents)
def test_landmark_maps_scale_with_their_inputs(seed, exponent):
    """Vectors of 1e-170 used to have 'no positive eigenvalue', transform gave NaN."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 5)) * [3, 2, 1, 0.1, 0.1]
    s = 10.0**exponent
    reference = LandmarkMDS(n_components=2, n_landmarks=8, random_state=0).fit(X)
    scaled = LandmarkMDS(n_components=2, n_landmarks=8, random_state=0).fit(X * s)
    radius = np.abs(reference.embedding_).max()
    new = rng.normal(size=(3, 5))
    for got, expected in [(scaled.embedding_, reference.embedding_),
                          (scaled.transform(new * s), reference.transform(new))]:
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got / s, expected, rtol=0, atol=1e-9 * radius)


def test_given_embedding_is_checked_for_fit():
    """A map the samples fit (PCA = classical MDS) passes silently; unrelated maps warn."""
    X = np.random.default_rng(1).normal(size=(30, 6)) * [3, 2, 0.5, 0.1, 0.1, 0.1]
    pca = PCA(n_components=2).fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = LandmarkMDS().fit(X, embedding=pca)
    assert exact.embedding_fit_error_ < 1e-9
    assert LandmarkMDS().fit(X).embedding_fit_error_ is None
    shuffled = pca[np.random.default_rng(2).permutation(30)]
    with pytest.warns(UserWarning, match="does not fit") as record:
        lmds = LandmarkMDS().fit(X, embedding=shuffled)
    assert lmds.embedding_fit_error_ > EMBEDDING_FIT_TOLERANCE
    assert f"{lmds.embedding_fit_error_:.3g}" in str(record[0].message)
    np.testing.assert_array_equal(lmds.embedding_, shuffled)  # still the user's map
