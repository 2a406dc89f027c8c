"""Embedding measures (Eq. 8, 10, 13, 14) against independent formulas, invariances, scorers."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.spatial.distance import pdist, squareform
from sklearn.linear_model import LinearRegression
from sklearn.manifold import MDS
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_texture.metrics import (
    angle_rmse,
    angle_rmse_scorer,
    kruskal_stress,
    kruskal_stress_scorer,
    linear_r2,
    linear_r2_scorer,
    make_embedding_scorer,
    reconstruct_angles,
    regression_angle,
)
from sklearn_texture.spectrum import PowerSpectrumVectorizer

seeds = st.integers(0, 2**32 - 1)


@st.composite
def angle_problems(draw, min_samples=2, max_samples=40):
    """Points in 2-D (or more) with generating angles, from noisy rings or pure noise."""
    n = draw(st.integers(min_samples, max_samples))
    n_components = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(seeds))
    theta = rng.uniform(-4, 4, size=n)
    noise = draw(st.sampled_from([0.0, 0.1, 1.0, 10.0]))
    ring = np.c_[np.cos(2 * theta), np.sin(2 * theta)]
    embedding = np.c_[ring, np.zeros((n, n_components - 2))]
    embedding = embedding + noise * rng.normal(size=embedding.shape)
    # Azimuths of points at the centre of mass are ill-conditioned under rounding.
    centred = embedding[:, :2] - embedding[:, :2].mean(axis=0)
    radius = np.hypot(*centred.T)
    assume(radius.min() > 1e-3 * radius.max())
    return embedding, theta


def _brute_force_angle_rmse(embedding, theta, n_grid=4001):
    """Eq. (10) by dense search over c, refined locally; wrap via the complex exponential."""
    centred = embedding[:, :2] - embedding[:, :2].mean(axis=0)
    best = np.inf
    for phi in (np.arctan2(centred[:, 1], centred[:, 0]),
                np.arctan2(-centred[:, 1], centred[:, 0])):

        def mse(c, phi=phi):
            residual = theta - (phi + np.asarray(c)[..., np.newaxis]) / 2
            wrapped = np.angle(np.exp(2j * residual)) / 2  # onto (-pi/2, pi/2]
            return np.mean(wrapped**2, axis=-1)

        grid = np.linspace(0, 2 * np.pi, n_grid)
        values = mse(grid)
        step = grid[1] - grid[0]
        for c0 in grid[np.argsort(values)[:5]]:
            refined = minimize_scalar(
                mse, bounds=(c0 - step, c0 + step), method="bounded",
                options={"xatol": 1e-12},
            )
            best = min(best, refined.fun, mse(c0))
    return np.sqrt(best)


@given(angle_problems(max_samples=25))
def test_angle_rmse_is_the_exact_minimum_over_c(problem):
    embedding, theta = problem
    exact = angle_rmse(embedding, theta)
    brute = _brute_force_angle_rmse(embedding, theta)
    # Exact can only be better than any searched c, and the search gets within its tolerance.
    assert exact <= brute + 1e-12
    assert exact == pytest.approx(brute, abs=1e-6)


def test_angle_rmse_exactness_on_a_case_where_the_circular_mean_is_not_optimal():
    # Residuals theta - phi/2 of 0 (six points) and 1.5 (two points), modulo pi: the
    # chordal (circular) mean and the arc-length least-squares optimum differ here.
    phi = 2 * np.pi * np.arange(8) / 8
    theta = phi / 2 + np.array([0, 0, 0, 0, 0, 0, 1.5, 1.5])
    embedding = np.c_[np.cos(phi), np.sin(phi)]
    exact = angle_rmse(embedding, theta)
    assert exact == pytest.approx(_brute_force_angle_rmse(embedding, theta, 20001), abs=1e-7)
    # By hand: the optimal b is the plain mean, 2 * 1.5 / 8, as no residual wraps.
    residual = np.array([0, 0, 0, 0, 0, 0, 1.5, 1.5]) - 2 * 1.5 / 8
    assert exact == pytest.approx(np.sqrt(np.mean(residual**2)), abs=1e-12)
    centred = embedding - embedding.mean(axis=0)
    azimuth = np.arctan2(centred[:, 1], centred[:, 0])
    best_circular_mean = np.inf
    for orientation in (1, -1):
        residual = theta - orientation * azimuth / 2
        b = np.angle(np.exp(2j * residual).mean()) / 2
        wrapped = np.angle(np.exp(2j * (residual - b))) / 2
        best_circular_mean = min(best_circular_mean, np.sqrt(np.mean(wrapped**2)))
    assert exact < best_circular_mean - 0.02


@given(st.integers(2, 60), seeds, st.floats(-10, 10), st.booleans(), st.floats(1e-3, 1e3))
def test_angle_rmse_is_zero_for_a_perfect_ring(n, seed, rotation, reflect, scale):
    theta = np.random.default_rng(seed).permutation(np.arange(n) * np.pi / n)
    phi = 2 * theta + rotation
    ring = scale * np.c_[np.cos(phi), (-1 if reflect else 1) * np.sin(phi)] + [3.0, -7.0]
    assert angle_rmse(ring, theta) == pytest.approx(0, abs=1e-9)


@given(
    angle_problems(),
    st.floats(-100, 100), st.floats(-100, 100),  # translation
    st.floats(-10, 10),  # rotation angle
    st.booleans(),  # reflection
    st.floats(1e-3, 1e3),  # scale
    seeds,  # sample order
    st.integers(-3, 3),  # theta shifted by whole turns of pi
)
def test_angle_rmse_invariances(problem, dx, dy, rotation, reflect, scale, seed, turns):
    embedding, theta = problem
    expected = angle_rmse(embedding, theta)
    plane = embedding[:, :2]
    rotation_matrix = np.array(
        [[np.cos(rotation), -np.sin(rotation)], [np.sin(rotation), np.cos(rotation)]]
    )
    moved = plane @ rotation_matrix.T
    if reflect:
        moved = moved * [1, -1]
    moved = scale * moved + [dx, dy]
    order = np.random.default_rng(seed).permutation(len(theta))
    transformed = np.c_[moved, embedding[:, 2:]][order]
    assert angle_rmse(transformed, theta[order] + turns * np.pi) == pytest.approx(
        expected, abs=1e-7
    )


@given(angle_problems())
def test_angle_rmse_never_exceeds_the_uniform_residual_value(problem):
    # The mean over c of the objective is E[wrap^2] for a uniform residual, pi^2 / 12,
    # so its minimum is at most pi / sqrt(12), whatever the data.
    rmse = angle_rmse(*problem)
    assert 0 <= rmse <= np.pi / np.sqrt(12) + 1e-12


@given(angle_problems())
def test_reconstructed_angles_are_the_eq10_fit(problem):
    embedding, theta = problem
    angles = reconstruct_angles(embedding, theta)
    residuals = theta - angles
    assert np.all(np.abs(residuals) <= np.pi / 2 + 1e-12)
    assert np.sqrt(np.mean(residuals**2)) == pytest.approx(angle_rmse(embedding, theta),
                                                           abs=1e-12)
    # They are (±phi + c) / 2 modulo pi for one orientation and one offset c.
    centred = embedding[:, :2] - embedding[:, :2].mean(axis=0)
    phi = np.arctan2(centred[:, 1], centred[:, 0])
    offsets = [np.exp(2j * (angles - orientation * phi / 2)) for orientation in (1, -1)]
    assert min(np.ptp(np.angle(o * np.conj(o[0]))) for o in offsets) < 1e-9


def test_angle_rmse_uses_only_the_first_two_components():
    rng = np.random.default_rng(0)
    embedding, theta = rng.normal(size=(10, 4)), rng.uniform(0, np.pi, 10)
    other = embedding.copy()
    other[:, 2:] = rng.normal(size=(10, 2)) * 100
    assert angle_rmse(other, theta) == angle_rmse(embedding, theta)


def test_angle_rmse_validation():
    with pytest.raises(ValueError, match="embedding has 5 samples but theta has 4"):
        angle_rmse(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least 2 components; got 1"):
        angle_rmse(np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        angle_rmse(np.full((5, 2), np.nan), np.zeros(5))
    with pytest.raises(ValueError, match="theta contains NaN"):
        angle_rmse(np.zeros((3, 2)), [0.0, np.nan, 1.0])


@given(st.integers(2, 20), st.integers(1, 5), seeds)
def test_kruskal_stress_is_zero_for_an_exact_embedding(n, dimension, seed):
    points = np.random.default_rng(seed).normal(size=(n, dimension))
    assume(pdist(points).max() > 0)
    assert kruskal_stress(pdist(points), points) == pytest.approx(0, abs=1e-12)
    assert kruskal_stress(squareform(pdist(points)), points) == pytest.approx(0, abs=1e-12)


@given(st.integers(2, 15), st.integers(1, 4), seeds)
def test_kruskal_stress_matches_a_direct_double_sum(n, dimension, seed):
    rng = np.random.default_rng(seed)
    distances = squareform(rng.uniform(0, 5, size=n * (n - 1) // 2))
    embedding = rng.normal(size=(n, dimension))
    numerator = denominator = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            embedded = np.linalg.norm(embedding[i] - embedding[j])
            numerator += (distances[i, j] - embedded) ** 2
            denominator += embedded**2
    expected = np.sqrt(numerator / denominator)
    assert kruskal_stress(distances, embedding) == pytest.approx(expected, rel=1e-12)
    assert kruskal_stress(squareform(distances), embedding) == pytest.approx(expected, rel=1e-12)


def test_kruskal_stress_equals_sklearn_normalized_stress_of_metric_mds():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(25, 6))
    distances = squareform(pdist(points))
    for n_components in (1, 2, 3):
        normalized = MDS(
            n_components, metric="precomputed", init="random", normalized_stress=True,
            random_state=0, max_iter=50,
        ).fit(distances)
        sigma = kruskal_stress(normalized.dissimilarity_matrix_, normalized.embedding_)
        assert normalized.stress_ == pytest.approx(sigma, rel=1e-10)
        # Default metric MDS reports the raw stress sum_{i<j} (d - d_hat)^2.
        raw = MDS(
            n_components, metric="precomputed", init="random", random_state=0, max_iter=50
        ).fit(distances)
        raw_sigma = kruskal_stress(distances, raw.embedding_)
        assert raw.stress_ == pytest.approx(
            raw_sigma**2 * (pdist(raw.embedding_) ** 2).sum(), rel=1e-10
        )


def test_kruskal_stress_validation():
    points = np.random.default_rng(1).normal(size=(4, 2))
    with pytest.raises(ValueError, match="describe 3 samples but embedding has 4"):
        kruskal_stress(np.zeros((3, 3)), points)
    with pytest.raises(ValueError, match="5 entries but embedding has 4 samples"):
        kruskal_stress(np.ones(5), points)
    asymmetric = squareform(pdist(points))
    asymmetric[0, 1] += 1
    with pytest.raises(ValueError, match="symmetric"):
        kruskal_stress(asymmetric, points)
    with pytest.raises(ValueError, match="NaN"):
        kruskal_stress(np.full(6, np.nan), points)
    with pytest.raises(ValueError, match="coincide"):
        kruskal_stress(np.ones(6), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="square"):
        kruskal_stress(np.zeros((4, 3)), points)


@st.composite
def regression_problems(draw):
    n = draw(st.integers(3, 40))
    dimension = draw(st.integers(1, 6))
    n_values = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(seeds))
    embedding = rng.normal(size=(n, dimension)) * rng.uniform(0.1, 10, size=dimension)
    coefficients = rng.normal(size=(dimension, n_values))
    noise = draw(st.sampled_from([0.0, 0.1, 1.0, 100.0]))
    values = embedding @ coefficients + rng.normal(size=n_values) + noise * rng.normal(
        size=(n, n_values)
    )
    assume(np.all(values.std(axis=0) > 1e-6 * np.abs(values).max()))
    return embedding, values


@given(regression_problems())
def test_linear_r2_agrees_with_linear_regression(problem):
    embedding, values = problem
    r2 = linear_r2(embedding, values)
    assert r2.shape == (values.shape[1],)
    for column in range(values.shape[1]):
        p = values[:, column]
        expected = LinearRegression().fit(embedding, p).score(embedding, p)
        assert r2[column] == pytest.approx(expected, abs=1e-8)
        one = linear_r2(embedding, p)
        assert isinstance(one, float)
        assert one == pytest.approx(r2[column], abs=1e-12)


@given(regression_problems(), seeds)
def test_linear_r2_is_invariant_to_invertible_affine_maps_of_the_embedding(problem, seed):
    embedding, values = problem
    rng = np.random.default_rng(seed)
    dimension = embedding.shape[1]
    matrix = rng.normal(size=(dimension, dimension)) + 3 * np.eye(dimension)
    assume(np.linalg.cond(matrix) < 1e3)
    moved = embedding @ matrix + rng.normal(size=dimension)
    np.testing.assert_allclose(linear_r2(moved, values), linear_r2(embedding, values),
                               atol=1e-7)


def test_linear_r2_of_an_exactly_linear_parameter_is_one():
    embedding = np.random.default_rng(2).normal(size=(30, 4))
    assert linear_r2(embedding, embedding @ [1.0, -2, 0, 3] + 5) == pytest.approx(1, abs=1e-12)


def test_linear_r2_validation():
    embedding = np.random.default_rng(3).normal(size=(6, 2))
    with pytest.raises(ValueError, match="embedding has 6 samples but values has 5"):
        linear_r2(embedding, np.arange(5.0))
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] are constant"):
        linear_r2(embedding, np.c_[np.arange(6.0), np.ones(6)])
    with pytest.raises(ValueError, match="NaN"):
        linear_r2(embedding, [0, 1, 2, 3, 4, np.nan])


@given(regression_problems(), seeds)
def test_regression_angle_matches_linear_regression_coefficients(problem, seed):
    embedding, _ = problem
    rng = np.random.default_rng(seed)
    a = embedding @ rng.normal(size=embedding.shape[1]) + rng.normal(size=len(embedding))
    b = embedding @ rng.normal(size=embedding.shape[1]) + rng.normal(size=len(embedding))
    beta_a = LinearRegression().fit(embedding, a).coef_
    beta_b = LinearRegression().fit(embedding, b).coef_
    assume(np.linalg.norm(beta_a) > 1e-6 and np.linalg.norm(beta_b) > 1e-6)
    cosine = beta_a @ beta_b / (np.linalg.norm(beta_a) * np.linalg.norm(beta_b))
    expected = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    assert regression_angle(embedding, a, b) == pytest.approx(expected, abs=1e-5)


@given(st.integers(5, 40), seeds)
def test_regression_angle_is_invariant_to_rotations_of_the_embedding(n, seed):
    rng = np.random.default_rng(seed)
    embedding = rng.normal(size=(n, 3))
    a, b = rng.normal(size=n), embedding[:, 0] - embedding[:, 2] + 0.1 * rng.normal(size=n)
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    assert regression_angle(embedding @ rotation, a, b) == pytest.approx(
        regression_angle(embedding, a, b), abs=1e-6
    )


def test_regression_angle_special_directions():
    embedding = np.random.default_rng(4).normal(size=(20, 3))
    x, y = embedding[:, 0], embedding[:, 1]
    assert regression_angle(embedding, x, y) == pytest.approx(90, abs=1e-9)
    assert regression_angle(embedding, x, 3 * x + 1) == pytest.approx(0, abs=1e-5)
    assert regression_angle(embedding, x, -x) == pytest.approx(180, abs=1e-5)
    with pytest.raises(ValueError, match="regression vector of b is zero"):
        regression_angle(embedding, x, np.ones(20))


def _stripes(theta, size=16, frequency=3):
    y, x = np.mgrid[:size, :size] / size
    return np.stack(
        [np.cos(2 * np.pi * frequency * (np.cos(t) * x + np.sin(t) * y)) for t in theta]
    )


@pytest.fixture(scope="module")
def fitted_pipeline():
    theta = np.arange(12) * np.pi / 12
    images = _stripes(theta)
    pipe = make_pipeline(
        PowerSpectrumVectorizer(window=6), MDS(2, init="classical_mds", random_state=0)
    ).fit(images)
    return pipe, images, theta


def test_scorers_read_the_fitted_embedding_without_refitting(fitted_pipeline):
    pipe, images, theta = fitted_pipeline
    mds = pipe[-1]
    embedding, n_iter = mds.embedding_, mds.n_iter_
    assert angle_rmse_scorer(pipe, images, theta) == -angle_rmse(embedding, theta)
    assert kruskal_stress_scorer(pipe, images, None) == -kruskal_stress(
        mds.dissimilarity_matrix_, embedding
    )
    parameters = np.c_[np.cos(2 * theta), np.sin(2 * theta)]
    assert linear_r2_scorer(pipe, images, parameters) == pytest.approx(
        np.mean(linear_r2(embedding, parameters))
    )
    table = np.c_[theta, parameters]
    assert make_embedding_scorer("angle_rmse", y_columns=0)(pipe, images, table) == (
        angle_rmse_scorer(pipe, images, theta)
    )
    assert make_embedding_scorer("linear_r2", y_columns=[1, 2])(pipe, images, table) == (
        linear_r2_scorer(pipe, images, parameters)
    )
    assert mds.embedding_ is embedding and mds.n_iter_ == n_iter
    # A bare fitted MDS can be scored too.
    assert kruskal_stress_scorer(mds, images, None) == kruskal_stress_scorer(pipe, images)


def test_scorers_reject_what_they_cannot_score(fitted_pipeline):
    pipe, images, theta = fitted_pipeline
    with pytest.raises(ValueError, match="12 samples but the scorer got 5"):
        angle_rmse_scorer(pipe, images[:5], theta[:5])
    with pytest.raises(ValueError, match="MDS"):
        kruskal_stress_scorer(make_pipeline(StandardScaler()).fit(np.eye(3)), np.eye(3))
    with pytest.raises(ValueError, match="needs y"):
        angle_rmse_scorer(pipe, images, None)
    with pytest.raises(ValueError, match="metric must be one of"):
        make_embedding_scorer("stress")
