"""perlin2 against its oracle, noise.pnoise2, and the seeded permutation tables."""

import noise  # the oracle: the test extra installs it
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_texture.perlin import (
    MAX_OCTAVES,
    REFERENCE_PERMUTATION,
    perlin2,
    perlin2_fields,
    permutation_table,
)

# Coordinates times the highest octave frequency (4**7 here) stay far below 2**30.
coordinates = st.floats(-600, 600, allow_nan=False)
fbm_settings = st.fixed_dictionaries(
    {
        "octaves": st.integers(1, 8),
        "persistence": st.floats(0.05, 1.5),
        "lacunarity": st.floats(0.5, 4.0),
        "repeatx": st.one_of(st.sampled_from([1024.0, 256.0, 1.0, 3.0]), st.floats(0.5, 2048)),
        "repeaty": st.one_of(st.sampled_from([1024.0, 256.0, 1.0, 5.0]), st.floats(0.5, 2048)),
        "base": st.sampled_from([0, 1]),
    }
)


def pnoise2_loop(xs, ys, settings):
    pairs = zip(xs, ys, strict=True)
    return np.array([noise.pnoise2(float(x), float(y), **settings) for x, y in pairs])


@given(
    points=st.lists(st.tuples(coordinates, coordinates), min_size=1, max_size=40),
    settings=fbm_settings,
)
def test_scattered_points_match_pnoise2(points, settings):
    xs, ys = np.array(points).T
    expected = pnoise2_loop(xs, ys, settings)
    assert np.max(np.abs(perlin2(xs, ys, **settings) - expected)) < 1e-5


@given(
    xs=st.lists(coordinates, min_size=1, max_size=12),
    ys=st.lists(coordinates, min_size=1, max_size=12),
    settings=fbm_settings,
)
def test_grid_matches_pnoise2(xs, ys, settings):
    grid_x, grid_y = np.meshgrid(xs, ys)
    expected = pnoise2_loop(grid_x.ravel(), grid_y.ravel(), settings).reshape(grid_x.shape)
    out = perlin2(xs, ys, grid=True, **settings)
    assert out.shape == (len(ys), len(xs))
    assert np.max(np.abs(out - expected)) < 1e-5


@given(
    start=st.floats(-50, 50),
    step=st.floats(0.01, 0.5),
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    settings=fbm_settings,
)
def test_regular_grid_matches_pnoise2(start, step, width, height, settings):
    # Evenly spaced, sorted coordinates: the layout the dataset uses.
    xs = start + step * np.arange(width)
    ys = start - 3 + step * np.arange(height)
    grid_x, grid_y = np.meshgrid(xs, ys)
    expected = pnoise2_loop(grid_x.ravel(), grid_y.ravel(), settings).reshape(grid_x.shape)
    assert np.max(np.abs(perlin2(xs, ys, grid=True, **settings) - expected)) < 1e-5


@pytest.mark.parametrize(
    "ys",
    [
        [0.1, 0.2, 0.3, 1.1, 1.2, 1.3],  # equal runs per lattice cell
        [0.1, 0.2, 1.1, 2.5, 2.6],  # uneven runs, padded blocks
        [0.1] * 10 + [1.5, 2.5, 3.5, 4.5, 5.5],  # very uneven runs: one block per row
        [3.7, -0.2, 0.9, 3.1, -0.4],  # unsorted
    ],
)
def test_grid_row_layouts_match_pnoise2(ys):
    xs = np.linspace(-2, 3, 17)
    settings = {"octaves": 3, "persistence": 0.6, "lacunarity": 2.0}
    expected = np.array([[noise.pnoise2(x, y, **settings) for x in xs] for y in ys])
    assert np.max(np.abs(perlin2(xs, ys, grid=True, **settings) - expected)) < 1e-5


@given(
    xs=st.lists(coordinates, min_size=1, max_size=10),
    ys=st.lists(coordinates, min_size=1, max_size=10),
    seed=st.integers(0, 2**32 - 1),
    octaves=st.integers(1, 5),
    base=st.integers(-600, 600),
)
def test_grid_equals_scattered_points_for_any_table(xs, ys, seed, octaves, base):
    table = permutation_table(seed)
    grid_x, grid_y = np.meshgrid(xs, ys)
    scattered = perlin2(grid_x, grid_y, octaves=octaves, base=base, permutation=table)
    grid = perlin2(xs, ys, grid=True, octaves=octaves, base=base, permutation=table)
    np.testing.assert_array_equal(grid, scattered)


@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=5),
       base=st.integers(-300, 300))
def test_grid_of_many_tables_equals_one_table_at_a_time(seeds, base):
    xs = np.linspace(0, 4, 23, dtype=np.float32)
    ys = np.linspace(-1, 2, 9, dtype=np.float32)
    tables = np.array([permutation_table(seed) for seed in seeds], dtype=np.intp).reshape(-1, 256)
    stacked = perlin2_fields(xs, ys, tables, octaves=4, base=base)
    assert stacked.shape == (len(seeds), 9, 23) and stacked.dtype == np.float32
    for table, field in zip(tables, stacked, strict=True):
        np.testing.assert_array_equal(
            field, perlin2(xs, ys, grid=True, octaves=4, base=base, permutation=table)
        )


@pytest.mark.parametrize(
    ("permutations", "message"),
    [
        (np.arange(256), "permutations must be a \\(B, 256\\) stack"),
        (np.zeros((2, 255), dtype=int), "permutations must be a \\(B, 256\\) stack"),
        (np.zeros((1, 256), dtype=int), "permutation must be a permutation"),
    ],
)
def test_perlin2_fields_checks_its_tables(permutations, message):
    with pytest.raises(ValueError, match=message):
        perlin2_fields([0.5], [0.5], permutations)


@given(x=coordinates, y=coordinates, base=st.integers(-1000, 1000))
def test_base_wraps_modulo_256(x, y, base):
    assert perlin2(x, y, octaves=2, base=base) == perlin2(x, y, octaves=2, base=base % 256)
    assert perlin2(x, y, octaves=2, base=base) == perlin2(x, y, octaves=2, base=base + 256)


def test_any_integer_base_works():
    """A base beyond int64 is the field of base % 256 (no overflow in the lattice sums)."""
    assert perlin2(0.5, 0.25, base=10**100) == perlin2(0.5, 0.25, base=10**100 % 256)


def test_octaves_are_bounded_before_any_work():
    """octaves=10**9 used to build per-octave lists until memory ran out."""
    assert np.isfinite(perlin2(0.3, 0.2, octaves=MAX_OCTAVES))  # 0.3 * 2**31 < 2**30
    for call in (perlin2, lambda x, y, **kw: perlin2_fields(x, y, [permutation_table(0)], **kw)):
        with pytest.raises(ValueError, match="octaves must be an integer >= 1 and <= MAX_OC"):
            call([0.5], [0.5], octaves=10**9)


def test_default_table_is_perlins_reference_permutation():
    assert sorted(REFERENCE_PERMUTATION.tolist()) == list(range(256))
    assert REFERENCE_PERMUTATION[:6].tolist() == [151, 160, 137, 91, 90, 15]
    xs = np.linspace(-3, 3, 31)
    np.testing.assert_array_equal(
        perlin2(xs, xs[::-1], permutation=REFERENCE_PERMUTATION), perlin2(xs, xs[::-1])
    )


@given(seed=st.integers(0, 2**63))
def test_permutation_table_is_a_seeded_permutation(seed):
    table = permutation_table(seed)
    assert table.shape == (256,)
    assert sorted(table.tolist()) == list(range(256))
    np.testing.assert_array_equal(table, permutation_table(seed))
    np.testing.assert_array_equal(table, permutation_table(np.random.default_rng(seed)))


def test_permutation_table_accepts_legacy_random_state():
    first = permutation_table(np.random.RandomState(3))
    assert sorted(first.tolist()) == list(range(256))
    np.testing.assert_array_equal(first, permutation_table(np.random.RandomState(3)))


@pytest.mark.parametrize("seeds", [(0, 1), (2, 3), (10, 11)])
def test_different_tables_give_uncorrelated_fields(seeds):
    # 64 x 64 lattice cells: independent fields correlate by about ±0.02.
    xs = np.arange(256) / 4
    fields = [perlin2(xs, xs, grid=True, permutation=permutation_table(s)) for s in seeds]
    same = perlin2(xs, xs, grid=True, permutation=permutation_table(seeds[0]))
    assert abs(np.corrcoef(fields[0].ravel(), fields[1].ravel())[0, 1]) < 0.1
    np.testing.assert_array_equal(fields[0], same)
    assert fields[0].std() > 0.1


def test_output_shapes_and_dtype():
    assert perlin2(0.3, 0.7).shape == ()
    assert perlin2(np.zeros((2, 3, 4)), 0.5).shape == (2, 3, 4)
    assert perlin2(np.zeros(3), np.zeros((5, 1))).shape == (5, 3)
    assert perlin2([], []).shape == (0,)
    assert perlin2(np.arange(5.0), np.arange(3.0), grid=True).dtype == np.float32
    assert perlin2([], [0.5, 1.5], grid=True).shape == (2, 0)
    # Noise vanishes on the lattice.
    assert perlin2(3.0, -7.0, octaves=4) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"octaves": 0}, "octaves"),
        ({"octaves": 2.0}, "octaves"),
        ({"octaves": MAX_OCTAVES + 1}, "octaves must be an integer >= 1 and <= MAX_OCTAVES"),
        ({"lacunarity": 0.0}, "lacunarity"),
        ({"lacunarity": float("nan")}, "lacunarity"),
        ({"repeatx": 0}, "repeatx"),
        ({"repeaty": -4}, "repeaty"),
        ({"persistence": -1.0, "octaves": 2}, "persistence"),
        ({"persistence": 1e30, "octaves": 4}, "persistence"),
        ({"lacunarity": 1e-30, "octaves": 3}, "lacunarity"),
        ({"base": 1.5}, "base"),
        ({"permutation": np.arange(255)}, "permutation"),
        ({"permutation": np.zeros(256, dtype=int)}, "permutation"),
        ({"permutation": np.arange(256.0)}, "permutation"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        perlin2([0.5], [0.5], **kwargs)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        ([np.nan], [0.5], {}, "x contains NaN"),
        ([0.5], [np.inf], {}, "y contains NaN"),
        (["a"], [0.5], {}, "x must be real"),
        ([1e9], [0.5], {"octaves": 2}, "2\\*\\*30"),
        (np.zeros((2, 2)), np.zeros(2), {"grid": True}, "1-D"),
    ],
)
def test_bad_coordinates_raise(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        perlin2(x, y, **kwargs)


def test_bad_random_state_raises():
    with pytest.raises(ValueError, match="random_state"):
        permutation_table("seed")
    with pytest.raises(ValueError, match="random_state"):
        permutation_table(-1)
