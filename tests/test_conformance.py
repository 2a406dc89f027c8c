"""scikit-learn estimator conformance of the texture vectorizers.

Every estimator in ``ESTIMATORS`` runs scikit-learn's common checks, plus the
checks it does not yield by default. The vectorizers take images, so for the
checks' 2-D data each one is built with ``image_shape=(1, -1)``: every row is a
one-pixel-tall image, which keeps all 2-D checks meaningful.

``EXPECTED_FAILED_CHECKS`` is the one table of known failures, keyed by
estimator class name, each with its reason. Failures are strict: a listed check
that starts passing fails the suite, so the table cannot go stale.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from sklearn_texture.embedding import LandmarkMDS
from sklearn_texture.gram import GramTextureVectorizer
from sklearn_texture.spectrum import PowerSpectrumVectorizer

ESTIMATORS = [
    LandmarkMDS(random_state=0),
    # conv1_1 sits before any pooling, so one-pixel-tall rows are valid images; random
    # weights keep the many fits offline and fast.
    GramTextureVectorizer(image_shape=(1, -1), layers=("conv1_1",), weights="random",
                          random_state=0),
    PowerSpectrumVectorizer(image_shape=(1, -1)),
    PowerSpectrumVectorizer(image_shape=(1, -1), window=1),
    PowerSpectrumVectorizer(image_shape=(1, -1), radial=True),
]

# check name -> reason, per estimator class. PowerSpectrumVectorizer passes every check.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "PowerSpectrumVectorizer": {},
}


def expected_failed_checks(estimator):
    """The table's entries for ``estimator`` (the hook ``parametrize_with_checks`` calls)."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


NOT_YIELDED_BY_DEFAULT = [
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_param_validation,
]


# The pandas output checks mix array and DataFrame between fit and transform on purpose.
@pytest.mark.filterwarnings("ignore:X has feature names, but:UserWarning")
@pytest.mark.filterwarnings("ignore:X does not have valid feature names, but:UserWarning")
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("check", NOT_YIELDED_BY_DEFAULT, ids=lambda check: check.__name__)
def test_checks_not_yielded_by_default(estimator, check):
    reason = expected_failed_checks(estimator).get(check.__name__)
    if reason is not None:
        with pytest.raises(Exception):  # noqa: B017 - the table documents why
            check(type(estimator).__name__, estimator)
        return
    check(type(estimator).__name__, estimator)
