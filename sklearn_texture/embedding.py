"""Out-of-sample embedding: place new images into an existing texture map.

:class:`sklearn.manifold.MDS` has no ``transform``: its map covers the images it
was fitted on. :class:`LandmarkMDS` implements landmark MDS (de Silva &
Tenenbaum, "Sparse multidimensional scaling using landmark points", 2004): a set
of landmark images gets coordinates ``L`` (by classical MDS of their distances,
or taken from a map the user already has), and any image, old or new, is placed
by *distance-based triangulation* from its squared texture distances ``δ`` to the
landmarks,

    x = l̄ - ½ L_c⁺ (δ - δ_μ),

where ``L_c`` are the landmark coordinates centred on their mean ``l̄``,
``L_c⁺`` their Moore–Penrose pseudo-inverse and ``δ_μ`` the mean of the columns
of the landmarks' squared distance matrix. Triangulation is exact when the
distances are Euclidean in the map's dimension, reproduces the landmarks'
coordinates in classical MDS, and costs ``n_landmarks`` distances per new image.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.manifold import ClassicalMDS
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from sklearn_texture._validation import check_symmetric
from sklearn_texture.distances import texture_distances

__all__ = ["EMBEDDING_FIT_TOLERANCE", "LandmarkMDS"]

#: ``fit(X, embedding=...)`` warns when the training samples, placed back into the
#: given map by triangulation, land farther from their given coordinates than this
#: fraction of the map's RMS radius (RMS over the samples). Measured on Gaussian
#: point clouds of 40-60 samples in 3-10 dimensions, 15 or all landmarks: PCA
#: (classical MDS) maps 0 to 0.47, SMACOF maps 0.07 to 0.77 (0.14 on the oriented
#: textures of ``tests/test_embedding.py``), Isomap 0.17 to 0.77; maps unrelated to
#: the samples (random, shuffled rows) 0.92 to 1.7, t-SNE maps 0.75 to 1.09, and
#: maps in other units than the distances 0.89 to 1.07 (3x too large) or 8 to 10
#: (3x too small).
EMBEDDING_FIT_TOLERANCE = 0.85


class LandmarkMDS(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Landmark MDS: a texture map that can embed new images (de Silva & Tenenbaum 2004).

    Fitting chooses landmarks among the training samples and gives them
    coordinates: classical (Torgerson) MDS of their squared distances, or the
    coordinates of an existing map passed as ``fit(X, embedding=...)`` (e.g. a
    :class:`sklearn.manifold.MDS` map of the same samples). ``transform`` places
    any sample by triangulation from its squared distances to the landmarks,
    ``x = l̄ - ½ L_c⁺ (δ - δ_μ)`` (see :mod:`sklearn_texture.embedding`).

    Distances and coordinates are divided by the power of two just above the
    landmarks' largest distance before they are squared, and multiplied back
    afterwards, so maps of tiny (~1e-170) or huge (~1e200) distances come out
    exactly like the same map at unit scale, scaled.

    With ``metric="euclidean"`` the input is texture vectors (rows of
    :class:`~sklearn_texture.GramTextureVectorizer` or
    :class:`~sklearn_texture.spectrum.PowerSpectrumVectorizer`, whose Euclidean
    distances are the paper's Eq. 4 / Eq. 7 distances), compared with
    :func:`~sklearn_texture.distances.texture_distances`; so
    ``make_pipeline(GramTextureVectorizer(), LandmarkMDS())`` maps images and
    embeds new ones.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the map.
    n_landmarks : int or None, default=None
        Number of landmarks drawn at random from the training samples (at most
        all of them); ``None`` uses every training sample, which makes the map
        classical MDS of all the training distances. Triangulation needs at
        least ``n_components + 1`` landmarks in general position.
    metric : {"euclidean", "precomputed"}, default="euclidean"
        ``"euclidean"``: ``X`` holds texture vectors. ``"precomputed"``: ``fit``
        takes the (N, N) distance matrix of the training samples and
        ``transform`` the (M, N) distances from new samples to the training
        samples (only the landmark columns are read).
    random_state : int, RandomState instance or None, default=None
        Draws the landmarks.
    n_jobs : int or None, default=None
        Passed to :func:`~sklearn_texture.distances.texture_distances`.

    Attributes
    ----------
    landmark_indices_ : ndarray of shape (n_landmarks,)
        Indices of the landmarks among the training samples.
    landmarks_ : ndarray of shape (n_landmarks, `n_features_in_`)
        The landmarks' texture vectors (``metric="euclidean"`` only).
    landmark_coordinates_ : ndarray of shape (n_landmarks, n_components)
        The landmarks' coordinates in the map.
    eigenvalues_ : ndarray of shape (n_components,) or None
        Eigenvalues of the landmarks' double-centred squared distances kept by
        classical MDS (:class:`sklearn.manifold.ClassicalMDS`); None for a
        given embedding. In units of squared distances, so they are inf where
        those exceed the float64 range (distances beyond ~1e154); the map
        itself does not use them.
    embedding_ : ndarray of shape (n_samples, n_components)
        Coordinates of the training samples: their triangulation, or the given
        embedding.
    embedding_fit_error_ : float or None
        For a given embedding: the RMS distance between the training samples
        placed back into the map by triangulation and their given
        coordinates, as a fraction of the map's RMS radius (0 for a map that
        triangulation reproduces exactly). ``fit`` warns when it exceeds
        :data:`EMBEDDING_FIT_TOLERANCE`. None when the map is computed.
    n_features_in_ : int
        Number of features (or training samples, when precomputed) seen in fit.

    See Also
    --------
    sklearn.manifold.MDS : SMACOF maps, without out-of-sample embedding.
    texture_distances : The distance matrix, block by block.

    References
    ----------
    V. de Silva and J. B. Tenenbaum, "Sparse multidimensional scaling using
    landmark points", Technical report, Stanford University (2004).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.embedding import LandmarkMDS
    >>> points = np.array([[0, 0], [4, 0], [0, 3], [4, 3], [2, 1.5]])
    >>> X = np.hstack([points, np.zeros((5, 3))])  # a plane in 5-D
    >>> lmds = LandmarkMDS(n_components=2, n_landmarks=4, random_state=0).fit(X)
    >>> new = np.array([[1.0, 1.0, 0, 0, 0]])
    >>> distances = np.linalg.norm(lmds.transform(new) - lmds.transform(X[:1]))
    >>> round(float(distances), 6)  # the map keeps the distance sqrt(2)
    1.414214
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_landmarks": [Interval(Integral, 2, None, closed="left"), None],
        "metric": [StrOptions({"euclidean", "precomputed"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self, n_components=2, *, n_landmarks=None, metric="euclidean",
        random_state=None, n_jobs=None,
    ):
        self.n_components = n_components
        self.n_landmarks = n_landmarks
        self.metric = metric
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, embedding=None):
        """Choose landmarks, give them coordinates and embed the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Texture vectors, or their distance matrix when
            ``metric="precomputed"``.
        y : None
            Ignored.
        embedding : array-like of shape (n_samples, n_components), default=None
            Coordinates of the training samples in an existing map (e.g.
            ``MDS(metric="precomputed").fit_transform(D)``), in the units of
            the distances; the landmarks take theirs from it and new samples
            are triangulated into that map. ``None`` computes the map by
            classical MDS of the landmarks. A given map is checked: the
            training samples are placed back into it by triangulation, and if
            they land farther than :data:`EMBEDDING_FIT_TOLERANCE` (RMS, as a
            fraction of the map's RMS radius) from their given coordinates, a
            ``UserWarning`` says so (see ``embedding_fit_error_``). It warns
            rather than raises because a map that triangulation reproduces
            only loosely (a non-metric or otherwise non-Euclidean map) is
            still a legitimate target, but new samples will then be placed
            only as well as the training samples are.

        Returns
        -------
        self : LandmarkMDS
            The fitted estimator.

        Raises
        ------
        ValueError
            If the input is invalid, the landmarks' distances have fewer than
            ``n_components`` positive eigenvalues, or the landmarks'
            coordinates do not span ``n_components`` dimensions.
        """
        X = validate_data(self, X, reset=True, dtype=[np.float64, np.float32])
        n_samples = X.shape[0]
        if self.metric == "precomputed":
            _check_distance_matrix(X)
        n_landmarks = n_samples if self.n_landmarks is None else min(self.n_landmarks, n_samples)
        if n_landmarks < self.n_components + 1:
            raise ValueError(
                f"LandmarkMDS needs at least n_components + 1 = {self.n_components + 1} "
                f"landmarks; got {n_landmarks} (n_samples={n_samples})."
            )
        if n_landmarks == n_samples:
            indices = np.arange(n_samples)
        else:
            rng = check_random_state(self.random_state)
            indices = np.sort(rng.choice(n_samples, n_landmarks, replace=False))
        self.landmark_indices_ = indices
        if self.metric == "precomputed":
            landmark_distances = X[np.ix_(indices, indices)].astype(np.float64)
        else:
            self.landmarks_ = X[indices]
            landmark_distances = texture_distances(self.landmarks_, n_jobs=self.n_jobs)
        # Work in units of 2**e above the largest landmark distance: exact, and nothing
        # that is squared below underflows (distances ~1e-170) or overflows (~1e200).
        self._exponent = int(np.frexp(landmark_distances.max())[1])
        landmark_squared = _squared(np.ldexp(landmark_distances, -self._exponent))
        if embedding is None:
            unit_coordinates, unit_eigenvalues = _classical_mds(
                np.ldexp(landmark_distances, -self._exponent), self.n_components
            )
            with np.errstate(over="ignore"):
                self.eigenvalues_ = np.ldexp(unit_eigenvalues, 2 * self._exponent)
        else:
            embedding = check_array(embedding, dtype=np.float64, input_name="embedding")
            if embedding.shape != (n_samples, self.n_components):
                raise ValueError(
                    f"embedding must have shape (n_samples, n_components) = "
                    f"{(n_samples, self.n_components)}; got {embedding.shape}."
                )
            unit_coordinates = np.ldexp(embedding[indices], -self._exponent)
            self.eigenvalues_ = None
        self.landmark_coordinates_ = np.ldexp(unit_coordinates, self._exponent)
        self._n_features_out = self.n_components  # names landmarkmds0, landmarkmds1, ...
        self._landmark_mean = unit_coordinates.mean(axis=0)
        centred = unit_coordinates - self._landmark_mean
        if np.linalg.matrix_rank(centred) < self.n_components:
            raise ValueError(
                "The landmarks' coordinates do not span n_components dimensions; use more "
                "landmarks or fewer components."
            )
        self._triangulation = np.linalg.pinv(centred)  # (n_components, n_landmarks)
        self._mean_squared = landmark_squared.mean(axis=0)
        placed = self._place(X)
        if embedding is None:
            self.embedding_, self.embedding_fit_error_ = placed, None
        else:
            self.embedding_ = embedding
            self.embedding_fit_error_ = _relative_rms_error(placed, embedding)
            if not self.embedding_fit_error_ <= EMBEDDING_FIT_TOLERANCE:
                warnings.warn(
                    "The given embedding does not fit the training samples' distances: placed "
                    "back into it by triangulation they land at an RMS distance of "
                    f"{self.embedding_fit_error_:.3g} times the map's RMS radius from their "
                    f"given coordinates (tolerance {EMBEDDING_FIT_TOLERANCE}). Is it a map of "
                    "these samples, in the units of their distances? New samples will be "
                    "placed no better.",
                    UserWarning,
                    stacklevel=3,
                )
        return self

    def transform(self, X):
        """Place samples in the map by triangulation from their distances to the landmarks.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or (n_queries, n_samples_fit)
            Texture vectors, or (``metric="precomputed"``) their distances
            to the training samples.

        Returns
        -------
        coordinates : ndarray of shape (n_queries, n_components)
            The samples' coordinates in the map, ``x = l̄ - ½ L_c⁺ (δ - δ_μ)``.

        Raises
        ------
        ValueError
            If the input is invalid, or the coordinates would exceed the float64
            range.
        """
        check_is_fitted(self, "embedding_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        if self.metric == "precomputed" and (X < 0).any():
            raise ValueError("Distances must be non-negative.")
        return self._place(X)

    def fit_transform(self, X, y=None, *, embedding=None):
        """Fit and return the training samples' coordinates ``embedding_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Texture vectors, or their distance matrix when
            ``metric="precomputed"``.
        y : None
            Ignored.
        embedding : array-like of shape (n_samples, n_components), default=None
            See :meth:`fit`.

        Returns
        -------
        coordinates : ndarray of shape (n_samples, n_components)
            The training samples' coordinates, ``embedding_``.
        """
        return self.fit(X, embedding=embedding).embedding_

    def inverse_transform(self, X):
        """Texture vectors at map points: a smooth interpolation of the landmarks' vectors.

        Each point ``y`` gets a convex combination of the texture vectors of its
        ``k = min(n_components + 1, n_landmarks - 1)`` nearest landmarks (in the map),
        with Franke and Little's modified Shepard weights

            w_j = ((R - d_j)_+ / (R d_j))^2,

        where ``d_j`` is the map distance from ``y`` to landmark ``j`` and ``R`` the
        distance to the ``(k + 1)``-th nearest landmark. The weights are positive
        inside that radius and fall to zero, with zero slope, at it, so the result is
        continuous everywhere and smooth away from the landmarks; at a landmark's own
        coordinates it is exactly that landmark's texture vector. Being a convex
        combination of texture vectors (of positive semi-definite Gram matrices), it is
        always a valid target for
        :meth:`GramTextureVectorizer.inverse_transform
        <sklearn_texture.GramTextureVectorizer.inverse_transform>`, so
        ``make_pipeline(GramTextureVectorizer(), LandmarkMDS()).inverse_transform(Y)``
        synthesises a micrograph for any point of the map. Far from all landmarks the
        result tends to the mean of the nearest ones: a map is not extrapolated.

        Parameters
        ----------
        X : array-like of shape (n_points, n_components)
            Points of the map.

        Returns
        -------
        X_original : ndarray of shape (n_points, `n_features_in_`)
            Texture vectors, in the landmarks' dtype.

        Raises
        ------
        ValueError
            With ``metric="precomputed"`` (there are no texture vectors to
            interpolate), or for points of the wrong dimension, NaN or infinite.

        References
        ----------
        R. Franke and G. Nielson, "Smooth interpolation of large sets of scattered
        data", Int. J. Numer. Methods Eng. 15, 1691-1704 (1980).
        """
        check_is_fitted(self, "embedding_")
        if self.metric == "precomputed":
            raise ValueError(
                "inverse_transform needs metric='euclidean': with precomputed distances "
                "the landmarks have no texture vectors to interpolate."
            )
        points = check_array(X, dtype=np.float64, input_name="X")
        if points.shape[1] != self.n_components:
            raise ValueError(
                f"X must have n_components={self.n_components} columns (map "
                f"coordinates); got {points.shape[1]}."
            )
        unit_landmarks = np.ldexp(self.landmark_coordinates_, -self._exponent)
        with np.errstate(over="ignore"):
            unit_points = np.ldexp(points, -self._exponent)
            offsets = unit_points[:, np.newaxis, :] - unit_landmarks[np.newaxis]
            distances = np.sqrt(np.square(offsets).sum(axis=2))
        if not np.isfinite(distances).all():
            raise ValueError("map points lie too far from the landmarks (beyond ~1e154 "
                             "times the map's size).")
        weights = _shepard_weights(distances, min(self.n_components + 1,
                                                  len(unit_landmarks) - 1))
        vectors = weights @ self.landmarks_.astype(np.float64)
        return vectors.astype(self.landmarks_.dtype, copy=False)

    def _place(self, X):
        """Coordinates of the rows of ``X`` (vectors or precomputed distances)."""
        if self.metric == "precomputed":
            distances = X[:, self.landmark_indices_].astype(np.float64)
        else:
            distances = texture_distances(X, self.landmarks_, n_jobs=self.n_jobs)
        unit = self._triangulate(_squared(np.ldexp(distances, -self._exponent)))
        with np.errstate(over="ignore"):
            coordinates = np.ldexp(unit, self._exponent)
        if not np.isfinite(coordinates).all():
            raise ValueError(
                "The coordinates overflow float64: the samples lie too far from the "
                "landmarks (beyond ~1e308); rescale them."
            )
        return coordinates

    def _triangulate(self, squared):
        """``x = l̄ - ½ L_c⁺ (δ - δ_μ)`` for each row ``δ`` of ``squared`` (unit scale)."""
        return self._landmark_mean - 0.5 * (squared - self._mean_squared) @ self._triangulation.T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags


def _shepard_weights(distances, k):
    """Franke–Little weights (rows sum to 1) of the ``k`` nearest of each row's columns.

    ``distances`` is (n_points, n_landmarks) with ``n_landmarks > k``. A point on a
    landmark takes that landmark alone (several coinciding landmarks share equally).
    """
    order = np.argsort(distances, axis=1, kind="stable")
    radius = np.take_along_axis(distances, order[:, k:k + 1], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.square(np.maximum(radius - distances, 0) / (radius * distances))
    on_landmark = distances == 0
    exact = on_landmark.any(axis=1)
    weights[exact] = on_landmark[exact]
    # All k nearest at distance R (a point equidistant from them): share equally.
    flat = ~exact & ~(weights.sum(axis=1) > 0)
    weights[flat] = distances[flat] <= radius[flat]
    return weights / weights.sum(axis=1, keepdims=True)


def _squared(distances):
    """Squared distances (already divided by the landmarks' scale), refusing overflow."""
    with np.errstate(over="ignore"):
        squared = distances**2
    if not np.isfinite(squared).all():
        raise ValueError(
            "squared distances overflow float64: some distances are more than ~1e154 times "
            "the largest distance between landmarks; rescale them."
        )
    return squared


def _relative_rms_error(placed, given):
    """RMS of ``|placed - given|`` over the RMS radius of ``given``, scaled before squaring."""
    centred = given - given.mean(axis=0)
    scale = float(np.abs(centred).max())
    if scale == 0:
        return np.inf
    radius = np.sqrt(((centred / scale) ** 2).sum(axis=1).mean())
    error = np.sqrt((((placed - given) / scale) ** 2).sum(axis=1).mean())
    return float(error / radius)


def _check_distance_matrix(D):
    if D.shape[0] != D.shape[1]:
        raise ValueError(
            f"metric='precomputed' needs a square (n_samples, n_samples) distance "
            f"matrix in fit; got shape {D.shape}."
        )
    if (D < 0).any():
        raise ValueError("Distances must be non-negative.")
    check_symmetric(D, "The precomputed distance matrix")


def _classical_mds(distances, n_components):
    """Classical MDS of (unit-scale) landmark distances by :class:`sklearn.manifold.ClassicalMDS`.

    ``ClassicalMDS`` double-centres the squared distances, keeps the top
    eigenvectors scaled by ``sqrt(λ)`` and fixes their signs (largest entry of
    each eigenvector positive, ``svd_flip``). Fewer than ``n_components``
    eigenvalues clearly above zero raise ``ValueError`` here, before a
    coordinate would be the square root of a negative number.
    """
    # Exactly symmetric (ClassicalMDS checks to an absolute 1e-10).
    distances = (distances + distances.T) / 2
    mds = ClassicalMDS(n_components=n_components, metric="precomputed")
    with np.errstate(invalid="ignore"):  # sqrt(λ < 0) before the check below
        coordinates = mds.fit_transform(distances)
    eigenvalues = mds.eigenvalues_
    tolerance = 1e-12 * max(abs(eigenvalues[0]), np.finfo(float).tiny)
    if eigenvalues[-1] <= tolerance:
        raise ValueError(
            f"The landmarks' distances have only {int((eigenvalues > tolerance).sum())} "
            f"positive eigenvalue(s), fewer than n_components={n_components}."
        )
    return coordinates, eigenvalues
