"""Dask: lazy blockwise texture vectors, a real 2-process LocalCluster, joblib's dask backend."""

import pickle

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

from sklearn_texture import GramTextureVectorizer, backbones  # noqa: E402
from sklearn_texture.distances import texture_distances  # noqa: E402

LAYERS = ("conv1_1", "conv3_1")
# Blocks run with other batch sizes and thread counts than one in-process call; on
# the CPU that changes only float32 rounding: 1e-5 relative, and 1e-6 of the largest
# entry for the tiny entries (measured: 3e-8 of the largest entry).
RTOL = 1e-5


def assert_same_vectors(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-6 * np.abs(expected).max())


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((6, 20, 20)).astype(np.float32)


@pytest.fixture(scope="module")
def vectorizer(images):
    return GramTextureVectorizer(weights="random", random_state=0, layers=LAYERS).fit(images)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None,
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def _cache_info(dask_client):
    return dask_client.run(lambda: backbones._cached_backbone.cache_info()._asdict())


@pytest.mark.parametrize("channels", [None, 3])
def test_lazy_blockwise_on_the_threaded_scheduler(vectorizer, images, channels):
    data = images if channels is None else np.repeat(images[..., None], channels, axis=-1)
    lazy_input = da.from_array(data, chunks=(2, 7, *data.shape[2:]))  # image axes split
    vectors = vectorizer.transform(lazy_input)
    assert isinstance(vectors, da.Array)
    n_features = sum(vectorizer.layer_sizes_.values())
    assert vectors.dtype == np.float32 and vectors.shape == (6, n_features)
    assert vectors.chunks == ((2, 2, 2), (n_features,))  # known sizes, one feature chunk
    with _dask_config(scheduler="threads"):
        computed = vectors.compute()
    assert_same_vectors(computed, vectorizer.transform(data))


def test_flattened_dask_input_with_image_shape(images):
    flat = images.reshape(6, -1)
    vectorizer = GramTextureVectorizer(weights="random", layers=("conv1_1",),
                                       image_shape=(20, 20)).fit(flat)
    lazy = vectorizer.transform(da.from_array(flat, chunks=(3, 100)))
    assert_same_vectors(lazy.compute(scheduler="sync"), vectorizer.transform(flat))


def test_fit_on_dask_reads_one_image(images):
    lazy = da.from_array(images, chunks=(3, 20, 20))
    fitted = GramTextureVectorizer(weights="random", random_state=0, layers=LAYERS).fit(lazy)
    assert fitted.layer_sizes_ == {"conv1_1": 2080, "conv3_1": 32896}
    assert_same_vectors(fitted.transform(lazy).compute(scheduler="sync"),
                               fitted.transform(images))


def test_graph_carries_the_estimator_not_the_network(vectorizer, images):
    cloudpickle = pytest.importorskip("cloudpickle")
    vectors = vectorizer.transform(da.from_array(images, chunks=(2, 20, 20)))
    network_bytes = len(pickle.dumps(vectorizer.get_network().state_dict()))
    graph_bytes = len(cloudpickle.dumps(dict(vectors.__dask_graph__())))
    assert network_bytes > 1_000_000 and graph_bytes < 100_000


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 20, 20, 3, 1)), "dimension"),
        (np.zeros((2, 8, 8)), "at least 16x16"),
        (np.zeros((2, 20, 20, 2)), "1, 3 or 4 channels"),
        (np.array([["a"] * 20] * 20)[None], "numeric"),
    ],
)
def test_bad_dask_input_fails_eagerly(vectorizer, array, message):
    with pytest.raises(ValueError, match=message):
        GramTextureVectorizer(weights="random").fit(np.zeros((1, 16, 16))).transform(
            da.from_array(array)
        )


def test_pandas_output_is_refused_for_dask_input(images):
    vectorizer = GramTextureVectorizer(weights="random", layers=("conv1_1",)).fit(images)
    vectorizer.set_output(transform="pandas")
    with pytest.raises(ValueError, match="dask input"):
        vectorizer.transform(da.from_array(images))


def test_nan_in_a_block_fails_at_compute(vectorizer, images):
    bad = images.copy()
    bad[4, 3, 3] = np.nan
    lazy = vectorizer.transform(da.from_array(bad, chunks=(2, 20, 20)))
    with pytest.raises(ValueError, match="NaN"):
        lazy.compute(scheduler="sync")


def test_local_cluster_matches_in_process(client, vectorizer, images):
    lazy = vectorizer.transform(da.from_array(images, chunks=(1, 20, 20)))
    client.run(backbones.clear_cache)
    computed = lazy.compute()  # the client is the active scheduler
    assert_same_vectors(computed, vectorizer.transform(images))
    # One network per worker process, reused by every later block on that worker.
    info = _cache_info(client)
    assert len(info) == 2
    assert all(entry["misses"] <= 1 for entry in info.values())
    assert sum(entry["hits"] + entry["misses"] for entry in info.values()) == 6
    assert sum(entry["hits"] for entry in info.values()) >= 4


def test_local_cluster_on_the_normalized_vgg19(client):
    images = np.random.default_rng(3).random((4, 16, 16))
    vectorizer = GramTextureVectorizer().fit(images)
    computed = vectorizer.transform(da.from_array(images, chunks=(2, 16, 16))).compute()
    assert computed.shape == (4, 305888)
    assert_same_vectors(computed, vectorizer.transform(images))


def test_texture_distances_on_the_cluster(client, vectorizer, images):
    vectors = vectorizer.transform(images)
    expected = texture_distances(vectors)
    lazy_vectors = vectorizer.transform(da.from_array(images, chunks=(2, 20, 20)))
    np.testing.assert_allclose(texture_distances(lazy_vectors), expected, rtol=1e-6, atol=0)


def test_joblib_dask_backend_runs_distances_on_the_cluster(client):
    X = np.random.default_rng(4).random((40, 300)).astype(np.float32)
    expected = texture_distances(X, block_size=8)
    with distributed.get_task_stream(client) as stream, \
            joblib.parallel_config(backend="dask"):
        got = texture_distances(X, block_size=8, n_jobs=2)
    assert len(stream.data) > 0  # the block pairs ran as tasks on the workers
    np.testing.assert_array_equal(got, expected)


def _dask_config(**options):
    import dask

    return dask.config.set(**options)
