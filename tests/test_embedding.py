"""LandmarkMDS: out-of-sample embedding by landmark triangulation (de Silva & Tenenbaum)."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.manifold import MDS
from sklearn.pipeline import make_pipeline

from sklearn_texture import GramTextureVectorizer
from sklearn_texture.distances import texture_distances
from sklearn_texture.embedding import LandmarkMDS


@pytest.fixture(scope="module")
def stripes():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    images = [np.cos(2 * np.pi * 4 * (xx * np.cos(a) + yy * np.sin(a))
                     + 0.5 * rng.standard_normal((32, 32)))
              for a in np.linspace(0, np.pi, 24, endpoint=False)]
    return np.stack(images)


@pytest.fixture(scope="module")
def texture_vectors(stripes):
    vectorizer = GramTextureVectorizer(weights="random", random_state=0,
                                       layers=("conv1_1", "conv2_1", "conv3_1"))
    return vectorizer.fit_transform(stripes)


def radius(coordinates):
    return np.sqrt(((coordinates - coordinates.mean(0)) ** 2).sum(1).mean())


def align_signs(a, b):
    return a * np.sign((a * b).sum(0))


def test_all_landmarks_is_classical_mds(texture_vectors):
    """Classical MDS of Euclidean distances = PCA scores, an independent route."""
    coordinates = LandmarkMDS(n_components=2).fit_transform(texture_vectors)
    pca = PCA(n_components=2).fit_transform(texture_vectors.astype(np.float64))
    np.testing.assert_allclose(align_signs(coordinates, pca), pca, rtol=0,
                               atol=1e-6 * radius(pca))


def test_reembedding_training_reproduces_their_coordinates(texture_vectors):
    lmds = LandmarkMDS(n_components=3, n_landmarks=10, random_state=0).fit(texture_vectors)
    again = lmds.transform(texture_vectors)
    np.testing.assert_allclose(again, lmds.embedding_, rtol=0, atol=1e-9 * radius(again))
    # the landmarks land exactly on their classical-MDS coordinates
    np.testing.assert_allclose(again[lmds.landmark_indices_], lmds.landmark_coordinates_,
                               rtol=0, atol=1e-9 * radius(again))


def test_landmarks_reproduced_for_non_euclidean_distances():
    """Triangulation returns the landmarks' coordinates even for non-Euclidean (L1) input."""
    points = np.random.default_rng(1).random((15, 6))
    l1 = np.abs(points[:, None] - points[None]).sum(-1)
    lmds = LandmarkMDS(n_components=3, metric="precomputed").fit(l1)
    np.testing.assert_allclose(lmds.transform(l1), lmds.landmark_coordinates_, rtol=0,
                               atol=1e-9 * radius(lmds.landmark_coordinates_))


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(0, 5))
def test_triangulation_is_exact_for_euclidean_data(seed, dimension, extra_landmarks):
    """Points on a k-dimensional affine subspace of R^20: new points are placed isometrically."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(30, dimension))
    basis, _ = np.linalg.qr(rng.normal(size=(20, dimension)))
    X = latent @ basis.T + rng.normal(size=20)
    n_landmarks = dimension + 1 + extra_landmarks
    lmds = LandmarkMDS(n_components=dimension, n_landmarks=n_landmarks,
                       random_state=seed).fit(X[:20])
    placed = np.vstack([lmds.embedding_, lmds.transform(X[20:])])
    map_distances = np.linalg.norm(placed[:, None] - placed[None], axis=-1)
    true_distances = np.linalg.norm(latent[:, None] - latent[None], axis=-1)
    np.testing.assert_allclose(map_distances, true_distances, rtol=0,
                               atol=1e-7 * true_distances.max())


def test_existing_smacof_map(texture_vectors):
    """New samples go into a map the user already has (here a SMACOF MDS map).

    SMACOF distances are not exactly Euclidean-consistent with the texture
    distances (normalised stress 0.14 here), so re-embedded training samples land
    near, not on, their map coordinates: measured RMS 0.14 and maximum 0.25 of the
    map's RMS radius on these 24 oriented textures; asserted 0.25 and 0.4.
    """
    distances = texture_distances(texture_vectors)
    smacof = MDS(n_components=2, metric="precomputed", random_state=0, n_init=4,
                 init="random", normalized_stress="auto").fit_transform(distances)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a map of these samples: no fit warning
        lmds = LandmarkMDS(n_landmarks=12, random_state=0).fit(texture_vectors,
                                                               embedding=smacof)
    np.testing.assert_array_equal(lmds.embedding_, smacof)
    error = np.linalg.norm(lmds.transform(texture_vectors) - smacof, axis=1)
    assert np.sqrt((error**2).mean()) < 0.25 * radius(smacof)
    assert error.max() < 0.4 * radius(smacof)
    # fit measured the same RMS error, relative to the map's RMS radius
    assert lmds.embedding_fit_error_ == pytest.approx(
        np.sqrt((error**2).mean()) / radius(smacof), rel=1e-9)
    # A map whose coordinates are orthogonal projections of the vectors (PCA, i.e.
    # classical MDS) is reproduced exactly when every sample is a landmark.
    classical = PCA(n_components=2).fit_transform(texture_vectors.astype(np.float64))
    exact = LandmarkMDS().fit(texture_vectors, embedding=classical)
    np.testing.assert_allclose(exact.transform(texture_vectors), classical, rtol=0,
                               atol=1e-9 * radius(classical))


def test_pipeline_from_images(stripes):
    pipeline = make_pipeline(
        GramTextureVectorizer(weights="random", random_state=0, layers=("conv1_1", "conv2_1")),
        LandmarkMDS(n_components=2, n_landmarks=8, random_state=0),
    )
    training = pipeline.fit_transform(stripes[:18])
    assert training.shape == (18, 2)
    np.testing.assert_allclose(pipeline.transform(stripes[:18]), training, rtol=0,
                               atol=1e-9 * radius(training))
    new = pipeline.transform(stripes[18:])
    assert new.shape == (6, 2) and np.isfinite(new).all()


def test_precomputed_matches_vectors(texture_vectors):
    train, new = texture_vectors[:16], texture_vectors[16:]
    by_vectors = LandmarkMDS(n_landmarks=9, random_state=2).fit(train)
    by_distances = LandmarkMDS(n_landmarks=9, random_state=2, metric="precomputed").fit(
        texture_distances(train))
    scale = radius(by_vectors.embedding_)
    np.testing.assert_allclose(by_distances.embedding_, by_vectors.embedding_, atol=1e-9 * scale)
    np.testing.assert_allclose(by_distances.transform(texture_distances(new, train)),
                               by_vectors.transform(new), atol=1e-9 * scale)


@pytest.mark.parametrize(
    ("params", "X", "fit_params", "message"),
    [
        ({"n_components": 3, "n_landmarks": 3}, np.eye(6), {}, "at least n_components \\+ 1"),
        ({}, np.eye(6), {"embedding": np.zeros((6, 3))}, "embedding must have shape"),
        ({}, np.zeros((6, 4)), {}, "positive eigenvalue"),
        ({"metric": "precomputed"}, np.ones((3, 4)), {}, "square"),
        ({"metric": "precomputed"}, -np.ones((3, 3)), {}, "non-negative"),
        ({"metric": "precomputed"}, np.triu(np.ones((3, 3)), 1), {}, "symmetric"),
        ({"metric": "cosine"}, np.eye(6), {}, "metric"),
        ({"n_landmarks": 1}, np.eye(6), {}, "n_landmarks"),
    ],
)
def test_bad_input(params, X, fit_params, message):
    with pytest.raises(ValueError, match=message):
        LandmarkMDS(**params).fit(X, **fit_params)


def test_transform_checks_features(texture_vectors):
    lmds = LandmarkMDS(n_landmarks=5, random_state=0).fit(texture_vectors)
    with pytest.raises(ValueError, match="features"):
        lmds.transform(texture_vectors[:, :10])
