"""Dask support: texture vectors of a dask array, block by block along the samples.

Both vectorizers' ``transform`` hand dask arrays to :func:`transform_dask_array`, which
returns a lazy dask array. Each block of images becomes one task,
:func:`_transform_block`, which receives the small fitted estimator's ``transform`` (a
few kB pickled: networks are never part of its state) and calls it; an empty block gives
an empty result. The Gram vectorizer's network comes from
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


def _transform_block(block, transform, n_features_out, dtype):
    """Texture vectors of one block of images (a task on a dask worker)."""
    if len(block) == 0:  # boolean masking leaves empty blocks; validation needs >= 1 image
        return np.empty((0, n_features_out), dtype=dtype)
    return np.asarray(transform(np.asarray(block)), dtype=dtype)


def transform_dask_array(X, transform, *, n_features_out, dtype):
    """Lazy texture vectors of the images in a dask array, one task per block of samples.

    Parameters
    ----------
    X : dask.array.Array of shape (N, H, W), (N, H, W, C) or (N, H*W)
        Images chunked along the first axis (blocks of any size, empty ones included);
        the other axes are rechunked to single chunks so that every block holds whole
        images.
    transform : callable
        Maps a numpy block of images to its texture vectors: a fitted vectorizer's
        ``transform`` (the estimator is pickled into the graph; it holds no network).
    n_features_out : int
        Columns of the result.
    dtype : numpy dtype
        dtype of the result.

    Returns
    -------
    vectors : dask.array.Array of shape (N, n_features_out)
        Chunked like ``X`` along the samples, one chunk along the features.
    """
    _import_dask_array()
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    return X.map_blocks(
        _transform_block,
        transform,
        n_features_out,
        dtype,
        dtype=dtype,
        chunks=(X.chunks[0], (n_features_out,)),
        drop_axis=list(range(2, X.ndim)),
        meta=np.empty((0, 0), dtype=dtype),
        token="texture-vectors",
    )
