"""Perlin's improved gradient noise in 2-D, with fBm octaves, vectorised over numpy arrays.

:func:`perlin2` returns the same values as ``noise.pnoise2`` from the ``noise``
package (Casey Duncan's C implementation of Perlin's improved noise [59]_),
which the tests use as the oracle. Matching it value for value means following
its C code operation by operation in float32: a float64 reimplementation of the
same formulas differs from it by up to ~2e-4 at high octave frequencies.

Two evaluation paths share the arithmetic:

* scattered points: ``x`` and ``y`` broadcast against each other, any shape;
* a grid (``grid=True``): 1-D ``xs`` (W,) and ``ys`` (H,) give the (H, W) field
  ``out[r, c] == pnoise2(xs[c], ys[r])``. Lattice indices, fade curves and
  offsets are computed once per column and once per row, hashes and gradients
  once per lattice cell, and the gradient dot product ``g·(dx, dy) = gx*dx + gy*dy``
  is assembled from per-column and per-row factors (``gx*dx`` and ``gy*dy`` are
  exact in float32 because gradient components are 0 or ±1, so this is the same
  arithmetic as the C code's).

Independent noise fields come from independent permutation tables:
:func:`permutation_table` draws one from a seed and ``permutation=`` uses it
(``noise``'s ``base`` offsets only shift the hash and give closely related fields).
:func:`perlin2_fields` evaluates one grid for a whole stack of tables at once
(what :class:`~sklearn_texture.datasets.PerlinTextureDataset` uses).

Every parameter is checked before any work: ``octaves`` is at most
:data:`MAX_OCTAVES`, the octaves' float32 frequencies, amplitudes and periods
must stay finite and non-zero, and coordinates times the highest frequency
must stay below ``2**30`` (the C code's int lattice indices).

References
----------
.. [59] K. Perlin, "An image synthesizer", SIGGRAPH Comput. Graph. 19, 287 (1985);
   K. Perlin, "Improving noise", ACM Trans. Graph. 21, 681 (2002).
"""

from numbers import Integral, Real

import numpy as np

from sklearn_texture._validation import check_positive_integer, check_real_numeric

__all__ = [
    "MAX_OCTAVES",
    "REFERENCE_PERMUTATION",
    "as_generator",
    "check_octaves",
    "perlin2",
    "perlin2_fields",
    "permutation_table",
]

#: The most fBm octaves :func:`perlin2` accepts. Float32 coordinates carry 24
#: significant bits: with the default lacunarity 2, octave 25 has frequency
#: 2**24 and its lattice coordinate ``x * 2**24`` keeps no fractional bits for
#: any ``|x| >= 1``, so further octaves add nothing there; 32 leaves room for
#: smaller coordinates and lacunarities, and bounds the work (one pass over the
#: points per octave) before anything is computed.
MAX_OCTAVES = 32

# Perlin's reference permutation of 0..255 (the table ``noise`` uses).
REFERENCE_PERMUTATION = np.array(
    [151, 160, 137, 91, 90, 15, 131, 13, 201, 95, 96, 53, 194, 233, 7, 225, 140, 36, 103, 30,
     69, 142, 8, 99, 37, 240, 21, 10, 23, 190, 6, 148, 247, 120, 234, 75, 0, 26, 197, 62, 94,
     252, 219, 203, 117, 35, 11, 32, 57, 177, 33, 88, 237, 149, 56, 87, 174, 20, 125, 136, 171,
     168, 68, 175, 74, 165, 71, 134, 139, 48, 27, 166, 77, 146, 158, 231, 83, 111, 229, 122, 60,
     211, 133, 230, 220, 105, 92, 41, 55, 46, 245, 40, 244, 102, 143, 54, 65, 25, 63, 161, 1,
     216, 80, 73, 209, 76, 132, 187, 208, 89, 18, 169, 200, 196, 135, 130, 116, 188, 159, 86,
     164, 100, 109, 198, 173, 186, 3, 64, 52, 217, 226, 250, 124, 123, 5, 202, 38, 147, 118,
     126, 255, 82, 85, 212, 207, 206, 59, 227, 47, 16, 58, 17, 182, 189, 28, 42, 223, 183, 170,
     213, 119, 248, 152, 2, 44, 154, 163, 70, 221, 153, 101, 155, 167, 43, 172, 9, 129, 22, 39,
     253, 19, 98, 108, 110, 79, 113, 224, 232, 178, 185, 112, 104, 218, 246, 97, 228, 251, 34,
     242, 193, 238, 210, 144, 12, 191, 179, 162, 241, 81, 51, 145, 235, 249, 14, 239, 107, 49,
     192, 214, 31, 181, 199, 106, 157, 184, 84, 204, 176, 115, 121, 50, 45, 127, 4, 150, 254,
     138, 236, 205, 93, 222, 114, 67, 29, 24, 72, 243, 141, 128, 195, 78, 66, 215, 61, 156, 180],
    dtype=np.intp,
)
REFERENCE_PERMUTATION.flags.writeable = False

# The x and y components of the first 16 3-D gradients ``noise`` uses in 2-D (its GRAD3
# table, indexed by ``hash & 15``).
_GRADIENT_X = np.array([1, -1, 1, -1, 1, -1, 1, -1, 0, 0, 0, 0, 1, -1, 0, 0], dtype=np.float32)
_GRADIENT_Y = np.array([1, 1, -1, -1, 0, 0, 0, 0, 1, -1, 1, -1, 0, 0, -1, 1], dtype=np.float32)

# Lattice indices become C ints; beyond this the C code is undefined.
_MAX_LATTICE_COORDINATE = 2.0**30


def permutation_table(random_state=None):
    """Draw a random permutation of 0..255 to seed an independent noise field.

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seed or generator. ``None`` draws fresh entropy.

    Returns
    -------
    table : ndarray of shape (256,), dtype intp
        A permutation of ``0..255``, for ``perlin2(..., permutation=table)``.

    Examples
    --------
    >>> from sklearn_texture.perlin import permutation_table
    >>> table = permutation_table(0)
    >>> sorted(table.tolist()) == list(range(256))
    True
    """
    return as_generator(random_state).permutation(256).astype(np.intp)


def as_generator(random_state):
    """Return a :class:`numpy.random.Generator` for an sklearn-style ``random_state``.

    Integers, ``None``, ``SeedSequence`` and Generators go through
    :func:`numpy.random.default_rng`; a legacy ``RandomState`` seeds a new
    Generator from its stream, so it is advanced as sklearn users expect.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator, numpy.random.SeedSequence or \
numpy.random.RandomState
        ``None`` draws fresh entropy; an integer must lie in ``[0, 2**128)``.

    Returns
    -------
    generator : numpy.random.Generator
        A Generator seeded from (or, for a Generator, equal to) ``random_state``.

    Raises
    ------
    ValueError
        If ``random_state`` is a negative or too large integer, or of another type.

    Examples
    --------
    >>> from sklearn_texture.perlin import as_generator
    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**32, size=4, dtype=np.uint64))
    if random_state is None or isinstance(
        random_state, (Integral, np.random.Generator, np.random.SeedSequence)
    ):
        if isinstance(random_state, Integral) and not 0 <= random_state < 2**128:
            raise ValueError(
                f"random_state must be a non-negative integer; got {random_state}."
            )
        return np.random.default_rng(random_state)
    raise ValueError(
        "random_state must be None, an int, a numpy Generator or RandomState; "
        f"got {type(random_state).__name__}."
    )


def perlin2(
    x,
    y,
    *,
    octaves=1,
    persistence=0.5,
    lacunarity=2.0,
    repeatx=1024,
    repeaty=1024,
    base=0,
    grid=False,
    permutation=None,
):
    """Perlin improved noise in 2-D with fractal Brownian motion (fBm) octaves.

    Computes, in float32 like ``noise.pnoise2``,

    .. math::

        \\mathrm{fbm}(x, y) = \\frac{\\sum_{o=0}^{O-1} p^o\\,
        n(\\lambda^o x, \\lambda^o y)}{\\sum_{o=0}^{O-1} p^o}

    with ``n`` Perlin's improved gradient noise (quintic fade, 2-D gradients
    taken from the x, y components of ``noise``'s 3-D gradient table),
    persistence ``p``, lacunarity ``λ`` and ``O`` octaves; octave ``o`` repeats
    with period ``λ^o * repeatx`` in x and ``λ^o * repeaty`` in y.

    Parameters
    ----------
    x, y : array-like of float
        Coordinates in lattice units. Without ``grid`` they broadcast against
        each other; with ``grid=True`` they are 1-D column (``x``, length W)
        and row (``y``, length H) coordinates.
    octaves : int, default=1
        Number of fBm octaves, from 1 to :data:`MAX_OCTAVES`.
    persistence : float, default=0.5
        Amplitude ratio of successive octaves, finite; the float32 amplitudes
        ``persistence**o`` must stay finite and sum to a non-zero value.
    lacunarity : float, default=2.0
        Frequency ratio of successive octaves, > 0; the float32 frequencies
        ``lacunarity**o`` must stay finite and non-zero.
    repeatx, repeaty : float, default=1024
        Period of the first octave along x and y, > 0 and finite; the octaves'
        periods ``repeat * lacunarity**o`` must stay finite and non-zero.
    base : int, default=0
        Offset added to the lattice indices before hashing. ``noise.pnoise2``
        reads past its 512-entry table for ``base >= 2`` (undefined behaviour
        in its C code); here every table lookup wraps modulo 256, which equals
        ``pnoise2`` for ``base`` in {0, 1} and makes ``base`` and ``base + 256``
        the same field for any integer ``base``. Different bases give closely
        related fields; use ``permutation`` for independent ones.
    grid : bool, default=False
        Evaluate on the grid ``xs × ys`` and return shape (H, W), computing
        lattice work per row, per column and per lattice cell.
    permutation : array-like of shape (256,) or None, default=None
        Permutation of 0..255 hashing the lattice (see
        :func:`permutation_table`). ``None`` uses Perlin's reference table,
        :data:`REFERENCE_PERMUTATION`, as ``noise`` does.

    Returns
    -------
    noise : ndarray of float32
        Shape ``np.broadcast(x, y).shape``, or (H, W) with ``grid=True``; a
        0-d input gives a numpy scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.perlin import perlin2
    >>> float(perlin2(0.5, 0.25))  # == noise.pnoise2(0.5, 0.25)
    -0.038818359375
    >>> perlin2(np.linspace(0, 4, 5), np.zeros(3), grid=True, octaves=2).shape
    (3, 5)
    """
    params = _check_params(octaves, persistence, lacunarity, repeatx, repeaty, base)
    table = _check_permutation(permutation)
    x = _check_coordinates(x, "x", params)
    y = _check_coordinates(y, "y", params)
    if grid:
        _check_grid_axes(x, y)
        return _fbm_grid(x, y, table[np.newaxis], params)[0]
    x, y = np.broadcast_arrays(x, y)
    return _fbm_points(x, y, table, params)[()]


def perlin2_fields(
    x,
    y,
    permutations,
    *,
    octaves=1,
    persistence=0.5,
    lacunarity=2.0,
    repeatx=1024,
    repeaty=1024,
    base=0,
):
    """Several independent noise fields on one grid, one per permutation table.

    The same fBm as :func:`perlin2` with ``grid=True``,

    .. math::

        \\mathrm{out}[b, r, c] = \\mathrm{fbm}_b(x_c, y_r),

    where field ``b`` hashes the lattice with ``permutations[b]``. The
    per-row, per-column and per-octave work is shared by all the fields, so a
    stack costs much less than one :func:`perlin2` call per table.

    Parameters
    ----------
    x : array-like of float, shape (W,)
        Column coordinates in lattice units.
    y : array-like of float, shape (H,)
        Row coordinates in lattice units.
    permutations : array-like of int, shape (B, 256)
        One permutation of 0..255 per field (see :func:`permutation_table`).
    octaves : int, default=1
        Number of fBm octaves, from 1 to :data:`MAX_OCTAVES`.
    persistence : float, default=0.5
        Amplitude ratio of successive octaves (as for :func:`perlin2`).
    lacunarity : float, default=2.0
        Frequency ratio of successive octaves, > 0 (as for :func:`perlin2`).
    repeatx, repeaty : float, default=1024
        Period of the first octave along x and y, > 0 (as for :func:`perlin2`).
    base : int, default=0
        Offset added to the lattice indices before hashing, modulo 256.

    Returns
    -------
    fields : ndarray of shape (B, H, W), float32
        ``fields[b] == perlin2(x, y, grid=True, permutation=permutations[b], ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_texture.perlin import perlin2, perlin2_fields, permutation_table
    >>> tables = np.stack([permutation_table(0), permutation_table(1)])
    >>> xs, ys = np.linspace(0, 3, 7), np.linspace(0, 2, 5)
    >>> fields = perlin2_fields(xs, ys, tables, octaves=2)
    >>> fields.shape
    (2, 5, 7)
    >>> bool((fields[1] == perlin2(xs, ys, grid=True, octaves=2, permutation=tables[1])).all())
    True
    """
    params = _check_params(octaves, persistence, lacunarity, repeatx, repeaty, base)
    tables = np.asarray(permutations)
    if tables.ndim != 2 or tables.shape[1] != 256:
        raise ValueError(
            "permutations must be a (B, 256) stack of permutation tables; got an array of "
            f"shape {tables.shape}."
        )
    tables = np.array([_check_permutation(table) for table in tables], dtype=np.intp)
    tables = tables.reshape(-1, 256)
    x = _check_coordinates(x, "x", params)
    y = _check_coordinates(y, "y", params)
    _check_grid_axes(x, y)
    return _fbm_grid(x, y, tables, params)


def _check_grid_axes(x, y):
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(
            "grid=True needs 1-D x (columns) and y (rows); "
            f"got shapes {x.shape} and {y.shape}."
        )


def check_octaves(octaves):
    """Raise ``ValueError`` unless ``octaves`` is an integer in ``[1, MAX_OCTAVES]``.

    Checked before any per-octave work, so a huge value fails at once instead of
    allocating until memory runs out.

    Parameters
    ----------
    octaves : int
        Number of fBm octaves.
    """
    check_positive_integer(octaves, "octaves", high=MAX_OCTAVES, high_name="MAX_OCTAVES")


def _check_params(octaves, persistence, lacunarity, repeatx, repeaty, base):
    """Validate the fBm parameters; return the per-octave float32 factors.

    ``octaves`` is bounded before the per-octave lists are built, so a huge
    value fails at once instead of allocating until memory runs out.
    """
    check_octaves(octaves)
    if not isinstance(base, Integral) or isinstance(base, bool):
        raise ValueError(f"base must be an integer; got {base!r}.")
    for name, value in [
        ("persistence", persistence), ("lacunarity", lacunarity),
        ("repeatx", repeatx), ("repeaty", repeaty),
    ]:
        if not isinstance(value, Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite real number; got {value!r}.")
    for name, value in [("lacunarity", lacunarity), ("repeatx", repeatx), ("repeaty", repeaty)]:
        if not np.float32(value) > 0:
            raise ValueError(f"{name} must be > 0 in float32; got {value!r}.")
    # The C code's running products, in float32.
    persistence, lacunarity = np.float32(persistence), np.float32(lacunarity)
    freqs, amps = [np.float32(1)], [np.float32(1)]
    with np.errstate(over="ignore", under="ignore"):
        for _ in range(octaves - 1):
            freqs.append(freqs[-1] * lacunarity)
            amps.append(amps[-1] * persistence)
        amp_sum = np.float32(0)
        for amp in amps:
            amp_sum += amp
        repeats = [(np.float32(repeatx) * f, np.float32(repeaty) * f) for f in freqs]
    if not all(np.isfinite(f) and f > 0 for f in freqs) or not all(
        np.isfinite(r) and r > 0 for pair in repeats for r in pair
    ):
        raise ValueError(
            f"lacunarity={float(lacunarity)} with octaves={octaves} gives octave frequencies "
            "or periods that overflow or underflow float32."
        )
    if not all(np.isfinite(a) for a in amps) or not np.isfinite(amp_sum) or amp_sum == 0:
        raise ValueError(
            f"persistence={float(persistence)} with octaves={octaves} gives octave amplitudes "
            "that overflow float32 or sum to zero (the fBm normalisation)."
        )
    return {
        "freqs": freqs, "amps": amps, "amp_sum": amp_sum, "repeats": repeats,
        # Lookups wrap modulo 256, so base and base % 256 are the same field (and a
        # huge Python int never meets the int64 lattice indices).
        "base": int(base) % 256,
    }


def _check_permutation(permutation):
    if permutation is None:
        return REFERENCE_PERMUTATION
    table = np.asarray(permutation)
    if (
        table.shape != (256,)
        or table.dtype.kind not in "iu"
        or not np.array_equal(np.sort(table), np.arange(256))
    ):
        raise ValueError(
            "permutation must be a permutation of the integers 0..255 (shape (256,)); "
            f"got an array of shape {table.shape} and dtype {table.dtype}. "
            "Use permutation_table(random_state) to draw one."
        )
    return table.astype(np.intp)


def _check_coordinates(values, name, params):
    values = check_real_numeric(values, name)
    # pnoise2 parses its arguments as C floats.
    values = values.astype(np.float32)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    if values.size and float(np.abs(values).max()) * float(params["freqs"][-1]) >= (
        _MAX_LATTICE_COORDINATE
    ):
        raise ValueError(
            f"|{name}| times the highest octave frequency must stay below 2**30; got "
            f"max |{name}| = {float(np.abs(values).max())}."
        )
    return values


def _lattice(coords, period):
    """Per-coordinate lattice work of the C ``noise2``: hash indices, offsets, fades.

    Returns the lower and upper lattice indices (wrapped by ``period`` as the C
    code does, then into the table), the offset from the lower lattice line and
    the quintic fade of it.
    """
    lower = np.floor(np.fmod(coords, period)).astype(np.int64)
    upper = np.fmod((lower + 1).astype(np.float32), period).astype(np.int64)
    offset = coords - np.floor(coords)
    fade = offset * offset * offset * (offset * (offset * 6 - 15) + 10)
    return lower & 255, upper & 255, offset, fade


def _lerp(t, a, b):
    return a + t * (b - a)


def _fbm_points(x, y, table, params):
    """fBm of ``noise.pnoise2`` at scattered float32 points ``x``, ``y``."""
    total = np.zeros(x.shape, dtype=np.float32)
    base = params["base"]
    for freq, amp, (period_x, period_y) in zip(
        params["freqs"], params["amps"], params["repeats"], strict=True
    ):
        i, ii, dx, fx = _lattice(x * freq, period_x)
        j, jj, dy, fy = _lattice(y * freq, period_y)
        a, b = table[(i + base) & 255], table[(ii + base) & 255]

        def dot(hash_a, hash_j, gx_x, gy_y):
            h = table[table[(hash_a + hash_j + base) & 255]] & 15
            return gx_x * _GRADIENT_X[h] + gy_y * _GRADIENT_Y[h]

        n00, n10 = dot(a, j, dx, dy), dot(b, j, dx - 1, dy)
        n01, n11 = dot(a, jj, dx, dy - 1), dot(b, jj, dx - 1, dy - 1)
        total += _lerp(fy, _lerp(fx, n00, n10), _lerp(fx, n01, n11)) * amp
    return total / params["amp_sum"]


def _runs(coords, params, axis):
    """Lattice work of the grid path along one sorted axis, all octaves at once.

    For each octave, splits the (sorted) coordinates into runs that share a
    lattice cell and returns the runs' lower and upper hash indices (plus
    ``base``), the run lengths, and each coordinate's offset from its cell's
    lower line and the fade of that offset.
    """
    periods = np.array([pair[axis] for pair in params["repeats"]], dtype=np.float32)
    scaled = coords[np.newaxis, :] * np.array(params["freqs"], dtype=np.float32)[:, None]
    lower, upper, offsets, fades = _lattice(scaled, periods[:, None])
    # The upper index depends on the period wrap, so a cell is the (lower, upper) pair.
    keys = lower * 256 + upper
    new_run = np.ones(keys.shape, dtype=bool)
    new_run[:, 1:] = keys[:, 1:] != keys[:, :-1]
    base = params["base"]
    octaves = []
    for key, new, offset, fade in zip(keys, new_run, offsets, fades, strict=True):
        starts = np.flatnonzero(new)
        run_keys = key[starts]
        lengths = np.diff(starts, append=key.size)
        octaves.append(((run_keys >> 8) + base, (run_keys & 255) + base, lengths, offset, fade))
    return octaves


def _row_blocks(j, jj, lengths, dy, fy):
    """Arrange the rows of one octave as (y cell run, row within the run) blocks.

    Per-(y cell, column) factors then broadcast over the rows of their cell
    instead of being copied per row. Returns the runs' hash indices, the block
    position of every row (None when the blocks are the rows in order) and the
    (runs, rows per run) offsets and fades; spare slots repeat the run's first
    row. When uneven runs would make the blocks more than twice the rows,
    every row becomes its own block.
    """
    n_rows, per_run = dy.size, lengths.max()
    if lengths.min() == per_run:
        shape = (lengths.size, per_run)
        return j, jj, None, dy.reshape(shape), fy.reshape(shape)
    if lengths.size * per_run > 2 * n_rows:
        j, jj = np.repeat(j, lengths), np.repeat(jj, lengths)
        return j, jj, None, dy[:, None], fy[:, None]
    first = np.cumsum(lengths) - lengths
    run = np.repeat(np.arange(lengths.size), lengths)
    slot = np.arange(n_rows) - first[run]
    block = np.repeat(first[:, None], per_run, axis=1)
    block[run, slot] = np.arange(n_rows)
    return j, jj, run * per_run + slot, dy[block], fy[block]


def _fbm_grid(xs, ys, tables, params):
    """fBm of ``noise.pnoise2`` on the grid ``ys × xs`` for a stack of permutation tables.

    ``xs`` (W,) and ``ys`` (H,) are float32 column and row coordinates,
    ``tables`` (B, 256) holds one permutation per field. Returns (B, H, W)
    float32 with ``out[b, r, c] == pnoise2(xs[c], ys[r])`` hashed by ``tables[b]``.
    """
    if xs.size == 0 or ys.size == 0 or tables.shape[0] == 0:
        return np.zeros((tables.shape[0], ys.size, xs.size), dtype=np.float32)
    # Sorted coordinates put each lattice cell's columns and rows in runs.
    col_order, row_order = np.argsort(xs, kind="stable"), np.argsort(ys, kind="stable")
    xs, ys = xs[col_order], ys[row_order]
    n_fields, width = tables.shape[0], xs.size
    # Gathering rows of a multiple of 4 KiB copied 10x slower in our measurements
    # (source and destination alias in the cache): spare columns, cut off at the end,
    # keep the row size off those multiples.
    padded = min(range(width, width + 4), key=lambda w: np.gcd(n_fields * w, 256))
    xs = np.concatenate([xs, np.repeat(xs[-1:], padded - width)])
    total = np.zeros((ys.size, n_fields, padded), dtype=np.float32)
    # Table b's entry v sits at flat[b * 256 + v].
    flat, field_offset = tables.ravel(), 256 * np.arange(n_fields)[:, None]
    blocks = [_row_blocks(*y_runs) for y_runs in _runs(ys, params, 1)]
    # One workspace for every octave: fresh arrays of this size cost page faults.
    largest = max(block[3].size for block in blocks) * n_fields * padded
    workspace = np.empty((7, largest), dtype=np.float32)
    octaves = zip(params["amps"], _runs(xs, params, 0), blocks, strict=True)
    for amp, (i, ii, col_lengths, dx, fx), (j, jj, position, dy, fy) in octaves:
        # Working layout (y cell run, row in run, field, column). Per-row factors are
        # spread over whole rows: numpy multiplies much faster without a stride-0
        # operand in the innermost loop.
        shape = (*dy.shape, n_fields, padded)
        n00, n10, n01, n11, dy_lower, dy_upper, fy_rows = (
            w[: np.prod(shape)].reshape(shape) for w in workspace
        )
        dy_lower[...] = dy[:, :, None, None]
        dy_upper[...] = (dy - 1)[:, :, None, None]
        fy_rows[...] = fy[:, :, None, None]
        # Gradients of the cell corners, in the C code's order (i,j), (ii,j), (i,jj),
        # (ii,jj), per corner, y cell, field and x cell (4, Uj, B, Ui), then per column.
        a, b = flat[(i & 255) + field_offset], flat[(ii & 255) + field_offset]
        corner_x = np.stack([a, b, a, b])[:, None]
        corner_y = np.stack([j, j, jj, jj])[:, :, None, None]
        cell_hash = ((corner_x + corner_y) & 255) + field_offset
        gradient = np.take(flat, np.take(flat, cell_hash) + field_offset) & 15
        gx = np.repeat(_GRADIENT_X[gradient], col_lengths, axis=-1)
        gy = np.repeat(_GRADIENT_Y[gradient], col_lengths, axis=-1)
        # g·(dx, dy) = gx*dx + gy*dy. Both products are exact (gradient components are
        # 0 or ±1); gx*dx is formed per (corner, y cell, column), gy*dy per pixel.
        gx *= np.stack([dx, dx - 1, dx, dx - 1])[:, None, None, :]
        for k, (dot, corner_dy) in enumerate(
            [(n00, dy_lower), (n10, dy_lower), (n01, dy_upper), (n11, dy_upper)]
        ):
            np.multiply(gy[k][:, None], corner_dy, out=dot)
            dot += gx[k][:, None]
        # lerp(t, a, b) = a + t * (b - a), in place, in the C code's operation order.
        n10 -= n00
        n10 *= fx
        n10 += n00
        n11 -= n01
        n11 *= fx
        n11 += n01
        n11 -= n10
        n11 *= fy_rows
        n11 += n10
        if amp != 1:  # x * 1 == x: the first octave skips a pass
            n11 *= amp
        n11 = n11.reshape(-1, n_fields, padded)
        total += n11 if position is None else np.take(n11, position, axis=0)
    total /= params["amp_sum"]
    total = total[..., :width].transpose(1, 0, 2)
    # Back to the callers' column and row order.
    if np.any(np.diff(col_order) != 1):
        total = np.take(total, np.argsort(col_order), axis=2)
    if np.any(np.diff(row_order) != 1):
        total = np.take(total, np.argsort(row_order), axis=1)
    return np.ascontiguousarray(total)
