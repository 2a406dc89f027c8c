"""Transductive model selection: GridSearchCV over Pipeline(PowerSpectrumVectorizer, MDS).

MDS cannot embed new images, so the search trains and scores on the same images
(``cv=[(idx, idx)]``) and the package scorers read the fitted embedding. A
cached pipeline computes the power spectra once per vectorizer setting, not once
per MDS setting.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.manifold import MDS
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_texture.metrics import (
    angle_rmse,
    kruskal_stress,
    kruskal_stress_scorer,
    linear_r2,
    make_embedding_scorer,
)
from sklearn_texture.spectrum import PowerSpectrumVectorizer

N_IMAGES, SIZE, FREQUENCY, ENVELOPE_WIDTH = 24, 32, 4, 5


def gabor_stripes(theta, size=SIZE, frequency=FREQUENCY, width=ENVELOPE_WIDTH):
    """Cosine stripes at angles ``theta`` under a Gaussian envelope.

    The envelope broadens the two spectral peaks to about one wavevector, so
    that spectra of neighbouring angles overlap and Eq. (7) distances grow
    smoothly with the angle difference (plain stripes give disjoint, sharp
    peaks; the paper's Fig. 6 shows the power spectrum failing in that regime).
    """
    y, x = np.mgrid[:size, :size] - size / 2
    envelope = np.exp(-(x**2 + y**2) / (2 * width**2))
    return np.stack(
        [envelope * np.cos(2 * np.pi * frequency * (np.cos(t) * x + np.sin(t) * y) / size)
         for t in theta]
    )


class CountingPowerSpectrumVectorizer(PowerSpectrumVectorizer):
    """Counts how often features are really computed (cache hits skip fitting).

    Counts the fitting step shared by ``fit`` and ``fit_transform`` (the pipeline calls
    the latter).
    """

    fit_calls = 0

    def _fit_images(self, images):
        type(self).fit_calls += 1
        return super()._fit_images(images)


@pytest.fixture(scope="module")
def angle_dataset():
    theta = np.arange(N_IMAGES) * np.pi / N_IMAGES
    # y carries the angle and the ring coordinates (cos 2θ, sin 2θ) it should map to.
    table = np.c_[theta, np.cos(2 * theta), np.sin(2 * theta)]
    return gabor_stripes(theta), theta, table


def _pipeline(memory=None, vectorizer=None):
    return Pipeline(
        [
            ("spectrum", vectorizer if vectorizer is not None else PowerSpectrumVectorizer()),
            ("mds", MDS(init="classical_mds", random_state=0)),
        ],
        memory=memory,
    )


def test_grid_search_picks_n_components_by_angle_rmse(angle_dataset, tmp_path):
    images, theta, table = angle_dataset
    everything = np.arange(len(images))
    CountingPowerSpectrumVectorizer.fit_calls = 0
    search = GridSearchCV(
        _pipeline(memory=str(tmp_path), vectorizer=CountingPowerSpectrumVectorizer()),
        {"spectrum__window": [None, 8], "mds__n_components": [2, 3, 5]},
        cv=[(everything, everything)],
        scoring={
            "angle": make_embedding_scorer("angle_rmse", y_columns=0),
            "stress": kruskal_stress_scorer,
            "ring_r2": make_embedding_scorer("linear_r2", y_columns=[1, 2]),
        },
        refit="angle",
    ).fit(images, table)

    # Spectra computed once per window setting; the other MDS settings and the refit hit
    # the cache.
    assert CountingPowerSpectrumVectorizer.fit_calls == 2

    results = search.cv_results_
    params = results["params"]
    # Every reported score is the package measure of an independently fitted pipeline.
    for index, candidate in enumerate(params):
        fitted = clone(_pipeline()).set_params(**candidate).fit(images)
        mds = fitted[-1]
        assert results["mean_test_angle"][index] == pytest.approx(
            -angle_rmse(mds.embedding_, theta), rel=1e-9
        )
        assert results["mean_test_stress"][index] == pytest.approx(
            -kruskal_stress(mds.dissimilarity_matrix_, mds.embedding_), rel=1e-9
        )
        assert results["mean_test_ring_r2"][index] == pytest.approx(
            linear_r2(mds.embedding_, table[:, 1:]).mean(), rel=1e-9
        )

    # The angle task is a 1-D ring: two components recover it, more components let MDS
    # spread the ring out of the plane that the angle measure looks at.
    assert search.best_params_["mds__n_components"] == 2
    best = int(np.argmax(results["mean_test_angle"]))
    assert search.best_index_ == best
    assert -search.best_score_ < 0.01  # radians; the grid's angle step is 0.13 rad
    assert angle_rmse(search.best_estimator_[-1].embedding_, theta) == pytest.approx(
        -search.best_score_, rel=1e-9
    )
    # The recovered ring is linear in (cos 2θ, sin 2θ).
    assert results["mean_test_ring_r2"][best] > 0.99
    # Stress, Eq. (8), falls as the embedding gains dimensions, so it would pick 5.
    for window in (None, 8):
        stress = [
            -results["mean_test_stress"][i]
            for i, p in enumerate(params)
            if p["spectrum__window"] == window
        ]
        assert stress == sorted(stress, reverse=True)


def test_refitting_by_stress_picks_the_largest_embedding(angle_dataset, tmp_path):
    images, theta, _ = angle_dataset
    everything = np.arange(len(images))
    search = GridSearchCV(
        _pipeline(memory=str(tmp_path)),
        {"mds__n_components": [1, 2, 5]},
        cv=[(everything, everything)],
        scoring={"stress": kruskal_stress_scorer},
        refit="stress",
    ).fit(images, theta)
    assert search.best_params_ == {"mds__n_components": 5}
    assert search.best_estimator_[-1].embedding_.shape == (N_IMAGES, 5)


def test_scoring_a_different_subset_than_was_embedded_is_an_error(angle_dataset):
    images, theta, _ = angle_dataset
    # Scorers can only check the sample count: MDS keeps no trace of its input images.
    train, test = np.arange(16), np.arange(16, len(images))
    search = GridSearchCV(
        _pipeline(),
        {"mds__n_components": [2]},
        cv=[(train, test)],
        scoring=make_embedding_scorer("angle_rmse"),
        error_score="raise",
    )
    with pytest.raises(ValueError, match="cv=\\[\\(idx, idx\\)\\]"):
        search.fit(images, theta)
