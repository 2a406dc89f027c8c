"""Dask support: texture vectors of a dask array, block by block along the samples.

:meth:`GramTextureVectorizer.transform <sklearn_texture.GramTextureVectorizer.transform>`
hands dask arrays to :func:`transform_dask_array`, which returns a lazy dask
array. Each block of images becomes one task, :func:`_transform_block`, which
receives the small fitted estimator (a few kB pickled: networks are never part of
its state) and calls its ordinary ``transform``. The network comes from
:func:`sklearn_texture.backbones.load_backbone`, which caches networks per
process, so each worker process builds (or loads) it once and reuses it for
every later block, whatever the scheduler: threads, processes or
``dask.distributed``.

dask is an optional dependency (``pip install sklearn-texture[dask]``) and is
only imported here.
"""

import numpy as np

__all__ = ["transform_dask_array"]


def _import_dask_array():
    try:
        import dask.array as da
    except ImportError as error:  # pragma: no cover - dask is in the test extra
        raise ImportError(
            "Transforming dask arrays needs dask: pip install 'sklearn-texture[dask]'."
        ) from error
    return da


def _transform_block(block, estimator):
    """Texture vectors of one block of images (a task on a dask worker)."""
    return estimator.transform(np.asarray(block))


def transform_dask_array(estimator, X):
    """Lazy texture vectors of the images in a dask array, one task per block of samples.

    Parameters
    ----------
    estimator : GramTextureVectorizer
        A fitted vectorizer.
    X : dask.array.Array of shape (N, H, W), (N, H, W, C) or (N, H*W)
        Images chunked along the first axis; the other axes are rechunked to
        single chunks so that every block holds whole images.

    Returns
    -------
    vectors : dask.array.Array of shape (N, n_features_out), float32
        Chunked like ``X`` along the samples, one chunk along the features.
    """
    _import_dask_array()
    if X.ndim not in (2, 3, 4):
        raise ValueError(
            "A dask array of images must have shape (n_images, height, width), "
            f"(n_images, height, width, channels) or (n_images, height * width); got "
            f"{X.ndim} dimension(s) of shape {X.shape}."
        )
    if np.dtype(X.dtype).kind not in "biuf":
        raise ValueError(f"images must be a real numeric array; got dtype {X.dtype}.")
    if any(np.isnan(size) for size in X.shape[1:]):
        raise ValueError(
            f"The image axes of the dask array have unknown sizes {X.shape[1:]}; call "
            "compute_chunk_sizes() first."
        )
    from sklearn.utils._set_output import _get_output_config

    if _get_output_config("transform", estimator)["dense"] != "default":
        raise ValueError(
            "set_output(transform='pandas'/'polars') does not apply to dask input, which "
            "returns a dask array; convert it with dask.dataframe.from_dask_array."
        )
    # Check the image format eagerly on an empty slice: same errors as numpy input.
    estimator._validate(np.zeros((1, *X.shape[1:]), dtype=X.dtype), reset=False)
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    n_features_out = sum(estimator.layer_sizes_.values())
    return X.map_blocks(
        _transform_block,
        estimator,
        dtype=np.float32,
        chunks=(X.chunks[0], (n_features_out,)),
        drop_axis=list(range(2, X.ndim)),
        meta=np.empty((0, 0), dtype=np.float32),
        token="gram-texture-vectors",
    )
