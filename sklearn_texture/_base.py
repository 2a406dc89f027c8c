"""The protocol both texture vectorizers share: inputs, validation, outputs, dask, progress.

:class:`TextureVectorizerBase` is the one place that decides what a texture vectorizer
accepts and returns, so that :class:`~sklearn_texture.GramTextureVectorizer` and
:class:`~sklearn_texture.PowerSpectrumVectorizer` behave alike:

* inputs: ``(N, H, W)`` grey or ``(N, H, W, C)`` images with 1, 3 or 4 channels (alpha is
  never part of a texture), ``(N, H*W)`` flattened rows with ``image_shape``, a list of
  images, or a :class:`dask.array.Array` of any of these (a lazy result, one task per
  block of images, empty blocks included);
* intensities: one mapping from stored values to intensities, :mod:`sklearn_texture._images`;
* outputs: ``n_features_out_`` columns named by ``get_feature_names_out``, so
  ``set_output(transform="pandas")`` works; ``verbose`` shows a tqdm progress bar.

What differs is stated by each subclass: whether a list may mix image sizes (texture
vectors of the Gram method do not depend on the size; power spectra of different sizes
sample different wavevectors), the smallest image, and the transform itself.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from sklearn_texture._dask import transform_dask_array
from sklearn_texture._images import validate_images
from sklearn_texture._validation import is_dask_collection

__all__ = ["TextureVectorizerBase"]


class TextureVectorizerBase(TransformerMixin, BaseEstimator):
    """Shared fit/transform protocol of the texture vectorizers (not used directly).

    Subclasses implement ``_check_parameters()``, ``_fit_images(images)`` (which sets
    ``n_features_out_``), ``_transform_images(images, progress)``,
    ``_feature_names()`` and ``_output_dtype(input_dtype)``, and set
    ``_allow_mixed_sizes`` and ``_min_image_size()``.
    """

    _allow_mixed_sizes = False

    def _min_image_size(self):
        """``(minimum side, reason)`` of an image this vectorizer can use."""
        return 1, ""

    # ------------------------------------------------------------------ sklearn protocol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and the format of the images.

        Parameters
        ----------
        X : array-like of shape (N, H, W), (N, H, W, C), (N, H*W), list of images \
                or dask array
            Training images. A texture vector depends on its image alone, so only the
            format of ``X`` is used (of a dask array only the first image is computed).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted vectorizer.
        """
        self._forget_fit()
        self._check_parameters()
        if is_dask_collection(X):
            X = X[:1].compute()  # the format is all fit needs
        self._fit_images(self._validate(X, reset=True))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit and transform, validating and converting the images once.

        Parameters
        ----------
        X : array-like, list of images or dask array
            Images, as for :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray or dask array of shape (N, n_features_out_)
            Texture vectors.
        """
        self._forget_fit()
        self._check_parameters()
        if is_dask_collection(X):
            self._fit_images(self._validate(X[:1].compute(), reset=True))
            return self.transform(X)
        images = self._validate(X, reset=True)
        self._fit_images(images)
        return self._run_transform(images)

    def transform(self, X):
        """Texture vectors of images.

        Parameters
        ----------
        X : array-like of shape (N, H, W), (N, H, W, C), (N, H*W), list of images \
                or dask array
            Images in the format seen in :meth:`fit`. A :class:`dask.array.Array` gives
            a lazy dask array computed block by block along the samples axis on the
            active dask scheduler (blocks of any size, empty ones included).

        Returns
        -------
        X_new : ndarray or dask array of shape (N, n_features_out_)
            Texture vectors.
        """
        check_is_fitted(self, "n_features_out_")
        if is_dask_collection(X):
            return self._transform_dask(X)
        return self._run_transform(self._validate(X, reset=False))

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the input seen in :meth:`fit` (output features do not
            correspond to input pixels).

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self, "n_features_out_")
        _check_feature_names_in(self, input_features, generate_names=False)
        return self._feature_names()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------------ shared steps

    def _forget_fit(self):
        """Drop every fitted attribute, so that a fit that fails leaves an unfitted
        estimator (``NotFittedError``) rather than a mix of old and new state."""
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)

    def _validate(self, X, reset):
        min_size, reason = self._min_image_size()
        return validate_images(
            self, X, reset=reset, image_shape=self.image_shape, min_size=min_size,
            size_reason=reason, allow_list=self._allow_mixed_sizes,
        )

    def _run_transform(self, images):
        with self._progress(len(images)) as progress:
            return self._transform_images(images, progress)

    def _transform_dask(self, X):
        if _get_output_config("transform", self)["dense"] != "default":
            raise ValueError(
                "set_output(transform='pandas'/'polars') does not apply to dask input, which "
                "returns a dask array; convert it with dask.dataframe.from_dask_array."
            )
        if X.ndim not in (2, 3, 4):
            raise ValueError(
                "A dask array of images must have shape (n_images, height, width), "
                f"(n_images, height, width, channels) or (n_images, height * width); got "
                f"{X.ndim} dimension(s) of shape {X.shape}."
            )
        if any(np.isnan(size) for size in X.shape[1:]):
            raise ValueError(
                f"The image axes of the dask array have unknown sizes {X.shape[1:]}; call "
                "compute_chunk_sizes() first."
            )
        # The format is checked eagerly on one zero image: same errors as numpy input.
        self._validate(np.zeros((1, *X.shape[1:]), dtype=X.dtype), reset=False)
        return transform_dask_array(
            X, self.transform, n_features_out=self.n_features_out_,
            dtype=self._output_dtype(np.dtype(X.dtype)),
        )

    def _progress(self, total):
        """A tqdm bar over ``total`` images, shown when ``verbose`` is positive."""
        from tqdm.auto import tqdm

        return tqdm(
            total=total, disable=not self.verbose, unit="image",
            desc=type(self).__name__,
        )
