"""Quality measures of an embedding (Lubbers et al. 2017, Eq. 8, 10, 13, 14) and scorers.

* :func:`kruskal_stress` — how faithfully embedded distances match the
  texture distances, Eq. (8);
* :func:`angle_rmse` — how well the azimuth of a 2-D embedding recovers the
  generating angle of the textures, Eq. (10);
* :func:`linear_r2` and :func:`regression_angle` — how linearly the embedding
  encodes generating parameters, Eq. (11–14).

The scorers (:data:`angle_rmse_scorer`, :data:`kruskal_stress_scorer`,
:data:`linear_r2_scorer`, or :func:`make_embedding_scorer`) let
``GridSearchCV`` choose vectorizer options and ``MDS(n_components=...)`` by
these measures. MDS has no ``transform``, so the search is *transductive*: the
scorers read the fitted ``embedding_`` and ``dissimilarity_matrix_`` of the
pipeline's final :class:`~sklearn.manifold.MDS` step and never refit. Use a
single split that trains and tests on the same images, with a cached
vectorizer so its features are computed once per vectorizer setting::

    search = GridSearchCV(
        Pipeline([("spectrum", PowerSpectrumVectorizer()),
                  ("mds", MDS(init="classical_mds", random_state=0))],
                 memory=cache_dir),
        {"mds__n_components": [2, 3, 4]},
        cv=[(np.arange(n), np.arange(n))],
        scoring={"angle": angle_rmse_scorer, "stress": kruskal_stress_scorer},
        refit="angle",
    ).fit(images, theta)
"""

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.manifold import MDS
from sklearn.utils.validation import check_array

from sklearn_texture._validation import check_real_numeric, check_symmetric

__all__ = [
    "angle_rmse",
    "angle_rmse_scorer",
    "kruskal_stress",
    "kruskal_stress_scorer",
    "linear_r2",
    "linear_r2_scorer",
    "make_embedding_scorer",
    "reconstruct_angles",
    "regression_angle",
]

# regression_angle: a parameter whose least-squares fit explains less than this
# fraction of its spread (norm of fitted over norm of centred values) has no trend
# to point along; its coefficient vector is rounding noise.
_NO_TREND = 1e-10


def _check_embedding(embedding):
    return check_array(
        embedding, dtype=np.float64, ensure_all_finite=True, input_name="embedding"
    )


def _check_values(values, n_samples, *, name, allow_2d):
    values = check_real_numeric(values, name).astype(np.float64)
    if values.ndim not in ((1, 2) if allow_2d else (1,)):
        raise ValueError(
            f"{name} must be a {'1-D or 2-D' if allow_2d else '1-D'} array; got shape "
            f"{values.shape}."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    if len(values) != n_samples:
        raise ValueError(
            f"embedding has {n_samples} samples but {name} has {len(values)}; they must "
            "describe the same images."
        )
    return values


def _finite(result, what):
    """``result`` unless it exceeds the float64 range (it would be inf or NaN)."""
    if not np.isfinite(result).all():
        raise ValueError(
            f"{what} overflows float64: the result exceeds ~1.8e308, the float64 maximum."
        )
    return float(result) if np.ndim(result) == 0 else result


def _exponent(largest):
    """``e`` with ``largest < 2**e`` (per entry for an array), 0 for 0."""
    return np.frexp(largest)[1]


def _centred_unit(values, *, per_column):
    """Centred columns of a 2-D array, scaled by exact powers of two to a maximum in [0.5, 1).

    Scale is normalised *before* anything is summed or squared: the values are
    first divided by the power of two above their largest magnitude (so the
    mean cannot overflow at 1e308), centred, and divided again by the power of
    two above the largest centred magnitude (so squares of values near 1e-170
    do not underflow to zero). Columns whose values are all equal are centred to
    exactly zero (their float mean may differ from the value by rounding, which
    would otherwise be magnified into an arbitrary direction). With
    ``per_column`` each column gets its own scale (for quantities invariant to
    scaling each column, such as R^2); otherwise one scale for all columns keeps
    their relative sizes (for geometry: azimuths, regression directions).
    """
    axis = 0 if per_column else None
    constant = _all_equal(values)
    scaled = np.ldexp(values, -_exponent(np.abs(values).max(axis=axis)))
    centred = scaled - scaled.mean(axis=0)
    centred[:, constant] = 0.0
    return np.ldexp(centred, -_exponent(np.abs(centred).max(axis=axis)))


def _all_equal(values):
    """Per column of a 2-D array: whether all its values are equal (no arithmetic)."""
    return (values == values[:1]).all(axis=0)


def _norm(vector):
    """Euclidean norm without overflow or underflow of the squares (scaled by the maximum)."""
    largest = float(np.abs(vector).max()) if vector.size else 0.0
    if largest == 0:
        return 0.0
    return largest * float(np.sqrt(((vector / largest) ** 2).sum()))


def _circular_least_squares(residuals, period):
    """Exact ``min_b sum_i wrap(residuals_i - b)^2`` with ``wrap`` onto [-period/2, period/2).

    ``wrap(r)^2 = min_s (r + s * period)^2`` over integers ``s``, so the
    objective is the pointwise minimum of the quadratics
    ``q_s(b) = sum_i (r_i + s_i period - b)^2``, each minimised by
    ``b_s = (sum_i r_i + period * sum_i s_i) / N``. Hence the global minimum is
    attained at one of ``b_k = (sum_i r_i + k period) / N`` and, the objective
    being ``period``-periodic, ``k = 0 .. N-1`` suffice. Evaluating all ``N``
    candidates is exact and costs O(N^2), done in blocks to bound memory.
    """
    n_samples = len(residuals)
    candidates = (residuals.sum() + period * np.arange(n_samples)) / n_samples
    best, best_offset = np.inf, 0.0
    block = max(1, (1 << 20) // n_samples)
    for start in range(0, n_samples, block):
        block_candidates = candidates[start : start + block]
        shifted = residuals[np.newaxis, :] - block_candidates[:, np.newaxis]
        wrapped = (shifted + period / 2) % period - period / 2
        sums = (wrapped**2).sum(axis=1)
        if sums.min() < best:
            best, best_offset = float(sums.min()), float(block_candidates[np.argmin(sums)])
    return best, best_offset


def _fit_angles(embedding, theta):
    """Eq. (10) fit: validated theta and its wrapped residuals for the better orientation."""
    embedding = _check_embedding(embedding)
    if embedding.shape[1] < 2:
        raise ValueError(
            "angle reconstruction measures azimuths and needs an embedding with at least 2 "
            f"components; got {embedding.shape[1]}."
        )
    theta = _check_values(theta, len(embedding), name="theta", allow_2d=False)
    # Scale normalised before the mean is taken: the azimuths do not depend on it, and
    # at 1e308 the mean itself would overflow.
    centred = _centred_unit(embedding[:, :2], per_column=False)
    if not np.any(centred):
        # Covers a single sample too: arctan2(0, 0) = 0 would give a meaningless score.
        raise ValueError(
            "all embedded points coincide (in the first two components), so their azimuths "
            "are undefined."
        )
    azimuth = np.arctan2(centred[:, 1], centred[:, 0])
    best_squared, best_residuals = np.inf, None
    for orientation in (1.0, -1.0):
        # With b = c / 2, Eq. (10) is a circular least-squares problem of period pi.
        residuals = theta - orientation * azimuth / 2
        squared, offset = _circular_least_squares(residuals, np.pi)
        if squared < best_squared:
            wrapped = (residuals - offset + np.pi / 2) % np.pi - np.pi / 2
            best_squared, best_residuals = squared, wrapped
    return theta, best_residuals


def angle_rmse(embedding, theta):
    r"""Angle reconstruction error of a 2-D embedding, Eq. (10), in radians.

    The origin is put at the centre of mass of the first two embedding
    coordinates and the azimuth :math:`\varphi_i` of each point is measured
    about it. With generating angles :math:`\theta_i` taken modulo
    :math:`\pi`,

    .. math:: \mathrm{RMSE} = \min_c \sqrt{\tfrac1N \textstyle\sum_i
              [\theta_i - (\varphi_i + c)/2]_\pi^2},

    where :math:`[x]_\pi` wraps ``x`` onto :math:`[-\pi/2, \pi/2)`: both
    :math:`\theta` and :math:`\varphi/2` are only defined modulo :math:`\pi`,
    so the residual is an arc length on that circle (without the wrap, the
    paper's formula would penalise a perfect reconstruction whose azimuths
    cross the branch cut). The optimal :math:`c` is found exactly, not on a
    grid: the wrapped objective is the minimum of finitely many quadratics in
    :math:`c`, whose minimisers are the :math:`N` points
    :math:`c_k = 2[\sum_i(\theta_i - \varphi_i/2) + k\pi]/N`, and all
    :math:`N` are evaluated (the exact intrinsic mean on the circle; the
    circular mean :math:`\arg\sum e^{2i(\cdot)}` only approximates it).

    MDS embeddings are defined up to rotation and reflection: a rotation only
    shifts :math:`c`, and both orientations :math:`\pm\varphi` are scored,
    the better one returned. The result is therefore invariant to
    translation, rotation, reflection and uniform scaling of the embedding,
    and to the order of the samples. The embedding is divided by an exact
    power of two before it is centred, so the invariance to scaling holds over
    the whole float64 range (1e-300 to 1e308).

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
        Embedded points; only the first two components are used
        (``n_components >= 2``).
    theta : array-like of shape (n_samples,)
        Generating angles in radians (any real values; taken modulo pi).

    Returns
    -------
    rmse : float
        Root-mean-square angle error in radians, at most pi / sqrt(12)
        (the value for residuals spread uniformly around the circle).

    See Also
    --------
    reconstruct_angles : The fitted angles :math:`(\varphi_i + c)/2` themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.metrics import angle_rmse
    >>> theta = np.linspace(0, np.pi, 12, endpoint=False)
    >>> ring = np.c_[np.cos(2 * theta + 1.0), -np.sin(2 * theta + 1.0)]  # rotated, reflected
    >>> round(angle_rmse(3 * ring + 5, theta), 12)
    0.0
    """
    _, residuals = _fit_angles(embedding, theta)
    return float(np.sqrt(np.mean(residuals**2)))


def reconstruct_angles(embedding, theta):
    r"""Angles recovered from a 2-D embedding, :math:`(\varphi_i + c)/2` of Eq. (10).

    Uses the orientation and the exact optimal :math:`c` of
    :func:`angle_rmse`. Each estimate is only defined modulo :math:`\pi`; it
    is returned as the representative nearest to :math:`\theta_i`, so that
    ``theta - reconstruct_angles(embedding, theta)`` are the wrapped residuals
    and their root mean square is ``angle_rmse(embedding, theta)``.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
        Embedded points; only the first two components are used.
    theta : array-like of shape (n_samples,)
        Generating angles in radians.

    Returns
    -------
    angles : ndarray of shape (n_samples,)
        Reconstructed angles in radians, within pi/2 of ``theta``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.metrics import reconstruct_angles
    >>> theta = np.linspace(0, np.pi, 6, endpoint=False)
    >>> ring = np.c_[np.cos(2 * theta - 0.2), np.sin(2 * theta - 0.2)]
    >>> np.allclose(reconstruct_angles(ring, theta), theta)
    True
    """
    theta, residuals = _fit_angles(embedding, theta)
    return theta - residuals


def _condensed_distances(distances, n_samples):
    distances = check_real_numeric(distances, "distances").astype(np.float64)
    if not np.isfinite(distances).all():
        raise ValueError("distances contains NaN or infinity.")
    if (distances < 0).any():
        raise ValueError("distances must be non-negative.")
    if distances.ndim == 2:
        if distances.shape[0] != distances.shape[1]:
            raise ValueError(
                f"square distances must be (n, n); got shape {distances.shape}."
            )
        if len(distances) != n_samples:
            raise ValueError(
                f"distances describe {len(distances)} samples but embedding has {n_samples}."
            )
        check_symmetric(distances, "square distances")
        return distances[np.triu_indices(n_samples, k=1)]
    if distances.ndim == 1:
        n_pairs = n_samples * (n_samples - 1) // 2
        if len(distances) != n_pairs:
            raise ValueError(
                f"condensed distances have {len(distances)} entries but embedding has "
                f"{n_samples} samples ({n_pairs} pairs)."
            )
        return distances
    raise ValueError(
        "distances must be a square (n, n) matrix or a condensed vector of the n(n-1)/2 "
        f"pairs i < j; got shape {distances.shape}."
    )


def kruskal_stress(distances, embedding):
    r"""Kruskal's stress of an embedding, Eq. (8).

    .. math:: \sigma = \sqrt{\frac{\sum_{i<j} (d_{ij} - \hat d_{ij})^2}
                                  {\sum_{i<j} \hat d_{ij}^2}},

    with :math:`d_{ij}` the given distances and :math:`\hat d_{ij}` the
    Euclidean distances between embedded points. It is 0 exactly when the
    embedding reproduces every distance.

    For a *metric* :class:`sklearn.manifold.MDS` fitted with
    ``normalized_stress=True``, ``stress_`` is exactly this quantity of
    ``(dissimilarity_matrix_, embedding_)`` (scikit-learn 1.9 computes
    "Stress-1" from the final configuration with the dissimilarities
    themselves as disparities). With the default ``normalized_stress="auto"``
    metric MDS reports the raw stress
    :math:`\sum_{i<j}(d_{ij}-\hat d_{ij})^2 = \sigma^2\sum_{i<j}\hat d_{ij}^2`
    instead, and non-metric MDS (``metric_mds=False``) replaces
    :math:`d_{ij}` by rescaled isotonic disparities, so neither equals Eq. (8).

    Parameters
    ----------
    distances : array-like of shape (n_samples, n_samples) or (n_samples * (n_samples - 1) / 2,)
        Symmetric distance matrix, or its condensed upper triangle in the
        order of :func:`scipy.spatial.distance.pdist`.
    embedding : array-like of shape (n_samples, n_components)
        Embedded points.

    Returns
    -------
    stress : float
        Non-negative stress. Invariant to scaling ``distances`` and
        ``embedding`` together; lengths are normalised by powers of two before
        they are squared, so any finite input whose stress is below ~1.8e308
        gets it (tiny or huge distances included).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.spatial.distance import pdist
    >>> from sklearn_texture.metrics import kruskal_stress
    >>> points = np.random.default_rng(0).normal(size=(6, 3))
    >>> kruskal_stress(pdist(points), points)
    0.0
    >>> round(kruskal_stress(pdist(points), points[:, :2]), 3)
    0.167
    """
    embedding = _check_embedding(embedding)
    if len(embedding) < 2:
        raise ValueError("kruskal_stress needs at least 2 samples (one pair).")
    distances = _condensed_distances(distances, len(embedding))
    # sigma = ||d - d_hat|| / ||d_hat||, with every length in units of a power of two
    # chosen before anything is squared: 2**e_hat above the embedding's largest entry
    # for d_hat, 2**e above both d and d_hat for the difference.
    e_hat = int(_exponent(np.abs(embedding).max()))
    embedded = pdist(np.ldexp(embedding, -e_hat))  # d_hat / 2**e_hat
    if not embedded.any():
        raise ValueError(
            "all embedded points coincide, so Kruskal's stress (normalised by the embedded "
            "distances) is undefined."
        )
    e = max(e_hat, int(_exponent(distances.max())))
    with np.errstate(under="ignore"):
        difference = np.ldexp(distances, -e) - np.ldexp(embedded, e_hat - e)
    with np.errstate(over="ignore"):
        stress = np.ldexp(_norm(difference) / _norm(embedded), e - e_hat)
    return _finite(stress, "Kruskal's stress")


def _least_squares(embedding, values):
    """OLS with intercept, Eq. (11–12), on scale-normalised data.

    Returns ``(coef, fitted, centred_values)`` for ``centred_values ≈ E @ coef``
    where ``E`` is the embedding centred and ``centred_values`` the values
    centred, each divided by exact powers of two (:func:`_centred_unit`: one
    for the whole embedding, one per column of values). Minimum-norm
    coefficients (as ``LinearRegression``). R^2 and the directions of the
    coefficient vectors are invariant to these scalings; the scaling keeps
    squares of embeddings near 1e-170 from underflowing and sums near 1e308
    from overflowing.
    """
    centred = _centred_unit(embedding, per_column=False)
    targets = _centred_unit(values, per_column=True)
    coef, *_ = np.linalg.lstsq(centred, targets, rcond=None)
    return coef, centred @ coef, targets


def _constant_columns(values):
    return np.flatnonzero(_all_equal(values))


def linear_r2(embedding, values):
    r"""Coefficient of determination of a linear model of parameters, Eq. (13).

    Each parameter :math:`p` is fitted by ordinary least squares with an
    intercept, :math:`\hat p_i = \beta_p\cdot\hat x_i + \gamma_p` (Eq. 11–12),
    and scored by

    .. math:: R^2 = 1 - \frac{\sum_i (p_i - \hat p_i)^2}{\sum_i (p_i - \bar p)^2}.

    This equals ``LinearRegression().fit(embedding, p).score(embedding, p)``.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
        Embedded points.
    values : array-like of shape (n_samples,) or (n_samples, n_parameters)
        Generating parameters, one column each. A constant column (all values
        equal) has no variance to explain and raises ``ValueError``.

    Returns
    -------
    r2 : float or ndarray of shape (n_parameters,)
        A float for 1-D ``values``, one :math:`R^2` per column otherwise, in
        [0, 1] up to rounding. Invariant to scaling the embedding or any column
        of ``values`` by any factor from 1e-300 to 1e300 (both are normalised
        by powers of two before anything is squared).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.metrics import linear_r2
    >>> embedding = np.random.default_rng(0).normal(size=(20, 3))
    >>> values = np.c_[2 * embedding[:, 0] - embedding[:, 2] + 1, embedding[:, 1] ** 2]
    >>> linear_r2(embedding, values).round(3).tolist()
    [1.0, 0.39]
    """
    embedding = _check_embedding(embedding)
    values = _check_values(values, len(embedding), name="values", allow_2d=True)
    columns = values.reshape(len(values), -1)
    constant = _constant_columns(columns)
    if constant.size:
        # All values equal: exactly, not up to the rounding of their mean (which would
        # otherwise leave a residue of ~1e-17 to "explain").
        raise ValueError(
            f"values column(s) {constant.tolist()} are constant; R^2 is undefined for a "
            "parameter that does not vary."
        )
    _, fitted, targets = _least_squares(embedding, columns)
    # Each target column is centred with maximum magnitude in [0.5, 1): total >= 0.25.
    total = (targets**2).sum(axis=0)
    r2 = 1 - ((targets - fitted) ** 2).sum(axis=0) / total
    return float(r2[0]) if values.ndim == 1 else r2


def regression_angle(embedding, a, b):
    r"""Angle in degrees between the regression directions of two parameters, Eq. (14).

    .. math:: \theta = \arccos\frac{\beta_a\cdot\beta_b}{\|\beta_a\|\,\|\beta_b\|},

    with :math:`\beta_a, \beta_b` the OLS coefficient vectors of Eq. (11–12)
    (minimum-norm if the embedding is rank-deficient, as in
    ``LinearRegression``). 90 degrees means the two parameters vary along
    orthogonal directions of the embedding.

    The angle does not depend on the scale of the embedding or of ``a`` and
    ``b``: all three are normalised by exact powers of two before anything is
    squared, so embeddings from 1e-300 to 1e300 give the same angle.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
        Embedded points.
    a, b : array-like of shape (n_samples,)
        Two generating parameters (e.g. noise amplitude and scale).

    Returns
    -------
    angle : float
        Degrees in [0, 180].

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is constant, or has no linear trend in the embedding
        (its fitted part is below 1e-10 of its spread, e.g. an embedding whose
        points all coincide): its regression vector is zero and the angle is
        undefined.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.metrics import regression_angle
    >>> embedding = np.random.default_rng(0).normal(size=(30, 4))
    >>> round(regression_angle(embedding, embedding[:, 0], embedding[:, 1] + 2), 6)
    90.0
    """
    embedding = _check_embedding(embedding)
    a = _check_values(a, len(embedding), name="a", allow_2d=False)
    b = _check_values(b, len(embedding), name="b", allow_2d=False)
    columns = np.c_[a, b]
    constant = [name for name, k in zip("ab", range(2), strict=True)
                if k in _constant_columns(columns)]
    if constant:
        which = " and ".join(constant)
        raise ValueError(
            f"{which} {'is' if len(constant) == 1 else 'are'} constant (every sample has the "
            f"same value), so the regression is degenerate: the regression vector of {which} "
            "is zero and the angle is undefined."
        )
    coef, fitted, targets = _least_squares(embedding, columns)
    # A trend below this fraction of the parameter's spread is rounding, not signal:
    # its direction would be arbitrary.
    trendless = [
        name for name, k in zip("ab", range(2), strict=True)
        if _norm(fitted[:, k]) <= _NO_TREND * _norm(targets[:, k])
    ]
    if trendless:
        which = " and ".join(trendless)
        raise ValueError(
            f"the regression vector of {which} is zero (no linear trend in the embedding: the "
            f"fitted part is below {_NO_TREND:g} of the spread), so the angle is undefined."
        )
    # Unit vectors, each scaled by its largest entry first (no underflow in the norm).
    units = [coef[:, k] / _norm(coef[:, k]) for k in range(2)]
    cosine = float(units[0] @ units[1])
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


class _EmbeddingScorer:
    """Score the embedding already fitted by a pipeline ending in ``MDS``."""

    _metrics = ("angle_rmse", "kruskal_stress", "linear_r2")

    def __init__(self, metric, y_columns=None):
        if metric not in self._metrics:
            raise ValueError(f"metric must be one of {self._metrics}; got {metric!r}.")
        self.metric = metric
        self.y_columns = y_columns

    def __repr__(self):
        columns = "" if self.y_columns is None else f", y_columns={self.y_columns!r}"
        return f"make_embedding_scorer({self.metric!r}{columns})"

    def __call__(self, estimator, X, y=None):
        mds = estimator[-1] if hasattr(estimator, "steps") else estimator
        if not isinstance(mds, MDS) or not hasattr(mds, "embedding_"):
            raise ValueError(
                "embedding scorers need a fitted sklearn.manifold.MDS, or a fitted Pipeline "
                f"ending in one; got {type(mds).__name__}."
            )
        embedding = mds.embedding_
        if X is not None and len(X) != len(embedding):
            raise ValueError(
                f"the fitted embedding has {len(embedding)} samples but the scorer got "
                f"{len(X)}; MDS cannot embed new samples, so score on the training images "
                "(cv=[(idx, idx)])."
            )
        if self.metric == "kruskal_stress":
            return -kruskal_stress(mds.dissimilarity_matrix_, embedding)
        if y is None:
            raise ValueError(f"the {self.metric} scorer needs y.")
        y = np.asarray(y)
        if self.y_columns is not None:
            try:
                y = y[:, self.y_columns]
            except IndexError:
                raise ValueError(
                    f"y_columns={self.y_columns!r} does not select columns of y with shape "
                    f"{y.shape}; y must be 2-D with those columns."
                ) from None
        if self.metric == "angle_rmse":
            return -angle_rmse(embedding, y)
        return float(np.mean(linear_r2(embedding, y)))


def make_embedding_scorer(metric, *, y_columns=None):
    """Build a greater-is-better scorer from one of this module's measures.

    Parameters
    ----------
    metric : {"angle_rmse", "kruskal_stress", "linear_r2"}
        Which measure. Errors (angle RMSE, stress) are negated so that larger
        is better; R² is the mean over the ``y`` columns used.
    y_columns : int, list of int or None, default=None
        Columns of a 2-D ``y`` to use (e.g. ``0`` for the angle of a
        ``(theta, k, A)`` table, ``[1, 2]`` for the R² of ``k`` and ``A``);
        ``None`` uses ``y`` as given. Ignored by ``"kruskal_stress"``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` for ``GridSearchCV(scoring=...)``. It
        reads the fitted ``embedding_`` (and ``dissimilarity_matrix_``) of
        ``estimator``'s final :class:`~sklearn.manifold.MDS` step and never
        refits; ``X`` must be the images that were embedded.

    Examples
    --------
    >>> from sklearn_texture.metrics import make_embedding_scorer
    >>> make_embedding_scorer("linear_r2", y_columns=[1, 2])
    make_embedding_scorer('linear_r2', y_columns=[1, 2])
    """
    return _EmbeddingScorer(metric, y_columns)


#: ``-angle_rmse(embedding_, y)``; ``y`` is the generating angle.
angle_rmse_scorer = make_embedding_scorer("angle_rmse")
#: ``-kruskal_stress(dissimilarity_matrix_, embedding_)``; ``y`` is ignored.
kruskal_stress_scorer = make_embedding_scorer("kruskal_stress")
#: Mean ``linear_r2(embedding_, y)`` over the columns of ``y`` (the parameters).
linear_r2_scorer = make_embedding_scorer("linear_r2")
