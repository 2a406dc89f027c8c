"""PerlinTextureDataset: Eq. (9) against its direct formula, seeding, designs, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_texture.datasets import NOISE_SCALE, PerlinTextureDataset
from sklearn_texture.perlin import perlin2

thetas = st.floats(-7, 7)
scales = st.floats(0.5, 40)
sizes = st.integers(1, 24)


def stripes(theta, k, size, h_x=0.0, h_y=0.0, displacement=0.0):
    """Eq. (9) written out for one image: cos(2πk (r + A h)·n_θ), r = (column, row)/size."""
    row, column = np.mgrid[0:size, 0:size] / size
    h_x, h_y = np.asarray(h_x, dtype=float), np.asarray(h_y, dtype=float)
    u_x, u_y = column + displacement * h_x, row + displacement * h_y
    return np.cos(2 * np.pi * k * (u_x * np.cos(theta) + u_y * np.sin(theta)))


@given(theta=thetas, k=scales, size=sizes, seed=st.integers(0, 2**32 - 1))
def test_zero_amplitude_is_the_plain_cosine(theta, k, size, seed):
    data = PerlinTextureDataset(theta, k, 0.0, size=size, random_state=seed)
    np.testing.assert_allclose(data.images[0], stripes(theta, k, size), rtol=0, atol=1e-12)


@given(
    theta=thetas, k=scales, amplitude=st.floats(0.1, 5), size=sizes,
    seed=st.integers(0, 2**32 - 1),
)
def test_images_follow_eq9_with_their_perlin_fields(theta, k, amplitude, size, seed):
    data = PerlinTextureDataset(theta, k, amplitude, size=size, random_state=seed)
    lattice = np.arange(size) / size * data.noise_frequency
    h_x, h_y = (
        perlin2(lattice, lattice, grid=True, octaves=data.octaves, permutation=table)
        for table in data.permutations[0]
    )
    expected = stripes(theta, k, size, h_x, h_y, amplitude * NOISE_SCALE)
    np.testing.assert_allclose(data.images[0], expected, rtol=0, atol=1e-12)


def test_attributes_and_indexing():
    data = PerlinTextureDataset([0.1, 0.2, 0.3], [5, 10, 15], 1.5, size=20, random_state=0)
    assert data.images.shape == (3, 20, 20)
    assert data.images.dtype == np.float64
    assert len(data) == 3
    np.testing.assert_array_equal(data[1], data.images[1])
    np.testing.assert_array_equal(data[1:], data.images[1:])
    np.testing.assert_array_equal(data.amplitude, [1.5, 1.5, 1.5])
    columns = np.column_stack([data.theta, data.k, data.amplitude])
    np.testing.assert_array_equal(data.params, columns)
    np.testing.assert_array_equal(data.params[:, 1], [5, 10, 15])
    assert data.permutations.shape == (3, 2, 256)


@given(amplitude=st.floats(0, 10), seed=st.integers(0, 2**32 - 1))
def test_images_lie_in_unit_range(amplitude, seed):
    data = PerlinTextureDataset([0.0, 1.0], 15, amplitude, size=32, random_state=seed)
    assert np.all(np.abs(data.images) <= 1)
    assert np.isfinite(data.images).all()


def test_same_seed_same_images_and_other_seed_other_noise():
    first = PerlinTextureDataset.angle_task(4, size=32, random_state=7)
    again = PerlinTextureDataset.angle_task(4, size=32, random_state=7)
    other = PerlinTextureDataset.angle_task(4, size=32, random_state=8)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.params, other.params)
    assert np.abs(first.images - other.images).mean() > 0.1
    generator = PerlinTextureDataset.angle_task(4, size=32, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(first.images, generator.images)
    legacy = PerlinTextureDataset.angle_task(4, size=32, random_state=np.random.RandomState(7))
    np.testing.assert_array_equal(
        legacy.images,
        PerlinTextureDataset.angle_task(4, size=32, random_state=np.random.RandomState(7)).images,
    )


def test_equal_parameters_get_independent_noise():
    data = PerlinTextureDataset(0.3, 15, [2.5] * 6, size=64, random_state=0)
    tables = data.permutations.reshape(-1, 256)
    # All 12 noise components (x and y of 6 images) have distinct tables.
    assert len({table.tobytes() for table in tables}) == 12
    lattice = np.arange(64) / 64 * data.noise_frequency * 4  # a wider window: more cells
    fields = [perlin2(lattice, lattice, grid=True, permutation=t).ravel() for t in tables]
    correlations = np.corrcoef(fields)[np.triu_indices(12, 1)]
    assert np.max(np.abs(correlations)) < 0.25
    assert all(np.abs(data.images[0] - image).mean() > 0.1 for image in data.images[1:])


def test_earlier_images_do_not_depend_on_how_many_follow():
    few = PerlinTextureDataset.angle_task(3, size=16, random_state=5)
    many = PerlinTextureDataset([*few.theta.tolist(), 0.5, 0.6], 15, 2.5, size=16, random_state=5)
    np.testing.assert_array_equal(few.images, many.images[:3])


def test_noise_displaces_the_stripes_more_with_larger_amplitude():
    deviations = []
    for amplitude in (0.5, 2.0, 4.0):
        data = PerlinTextureDataset.angle_task(8, amplitude=amplitude, size=64, random_state=0)
        clean = np.stack([stripes(t, 15, 64) for t in data.theta])
        deviations.append(np.abs(data.images - clean).mean())
    assert deviations[0] > 0.02
    assert deviations[0] < deviations[1] < deviations[2]


NOISE = {"noise_scale": 0.036, "noise_frequency": 8.0, "octaves": 2}


def test_task_designs_pass_the_noise_field_to_the_constructor():
    """angle_task / manifold_task render with the given noise, not the defaults."""
    angle = PerlinTextureDataset.angle_task(4, amplitude=2.0, size=32, random_state=3, **NOISE)
    direct = PerlinTextureDataset(angle.theta, 15, 2.0, size=32, random_state=3, **NOISE)
    np.testing.assert_array_equal(angle.images, direct.images)
    grid = PerlinTextureDataset.manifold_task(2, size=16, random_state=3, **NOISE)
    direct = PerlinTextureDataset(*grid.params.T, size=16, random_state=3, **NOISE)
    np.testing.assert_array_equal(grid.images, direct.images)
    assert (grid.noise_scale, grid.noise_frequency, grid.octaves) == tuple(NOISE.values())
    default = PerlinTextureDataset.angle_task(4, amplitude=2.0, size=32, random_state=3)
    assert np.abs(default.images - angle.images).mean() > 0.05


def test_angle_task_design():
    data = PerlinTextureDataset.angle_task(50, size=8, random_state=0)
    np.testing.assert_allclose(data.theta, np.arange(50) * np.pi / 50)
    assert np.all(data.k == 15) and np.all(data.amplitude == 2.5)
    assert len(data) == 50 and data.images.shape == (50, 8, 8)
    custom = PerlinTextureDataset.angle_task(3, amplitude=4.0, k=7, size=4, random_state=0)
    np.testing.assert_allclose(custom.theta, [0, np.pi / 3, 2 * np.pi / 3])
    assert np.all(custom.k == 7) and np.all(custom.amplitude == 4.0)


def test_manifold_task_is_the_full_grid():
    data = PerlinTextureDataset.manifold_task(10, size=4, random_state=0)
    assert len(data) == 1000
    levels = np.arange(10) / 10
    for column, expected in zip(
        data.params.T, [np.pi * levels, 5 + 10 * levels, 0.5 + 1.5 * levels], strict=True
    ):
        np.testing.assert_allclose(np.unique(column), expected)
    assert len({tuple(row) for row in data.params.round(12)}) == 1000
    assert data.theta.min() >= 0 and data.theta.max() < np.pi
    assert data.k.min() == 5 and data.k.max() < 15
    assert data.amplitude.min() == 0.5 and data.amplitude.max() < 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amplitude": -0.1}, "amplitude"),
        ({"amplitude": [1.0, -1.0]}, "amplitude"),
        ({"k": 0}, "k must be > 0"),
        ({"k": [5, -1]}, "k must be > 0"),
        ({"theta": [0.0, 1.0, 2.0], "k": [5, 6]}, "length"),
        ({"theta": np.nan}, "theta"),
        ({"theta": [[0.0, 1.0]]}, "theta"),
        ({"theta": "north"}, "theta"),
        ({"theta": []}, "theta is empty"),
        ({"size": 0}, "size"),
        ({"size": 8.0}, "size"),
        ({"noise_scale": -1.0}, "noise_scale"),
        ({"noise_frequency": 0.0}, "noise_frequency"),
        ({"octaves": 0}, "octaves"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    arguments = {"theta": 0.0, "k": 15, "amplitude": 1.0, "size": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        PerlinTextureDataset(
            arguments.pop("theta"), arguments.pop("k"), arguments.pop("amplitude"), **arguments
        )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: PerlinTextureDataset.angle_task(0), "n_images"),
        (lambda: PerlinTextureDataset.angle_task(5, amplitude=-1, size=4), "amplitude"),
        (lambda: PerlinTextureDataset.manifold_task(0), "n_levels"),
        (lambda: PerlinTextureDataset.manifold_task(2, size=-3), "size"),
    ],
)
def test_bad_design_parameters_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
