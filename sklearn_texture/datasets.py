r"""The paper's synthetic marble-like texture images (Sec. IV A, Eq. 9).

Each image is a sinusoidal stripe pattern whose positions are displaced by a
smooth multi-scale Perlin noise field,

.. math::

    \phi_i(\mathbf{r}) = \cos\left[2\pi k_i\,
        \mathbf{u}_{A_i} \cdot \hat{\mathbf{n}}_{\theta_i}\right],
    \qquad \mathbf{u}_A = \mathbf{r} + A\,\mathbf{h}(\mathbf{r}),

with angle ``θ``, scale ``k`` (stripes per image side) and noise amplitude ``A``.

The paper does not give the scale or spectrum of ``h``. Here
``h(r) = NOISE_SCALE * (p_x(f r), p_y(f r))`` where ``p_x`` and ``p_y`` are two
independent Perlin fBm fields (:func:`sklearn_texture.perlin.perlin2`, values
identical to ``noise.pnoise2`` with per-image permutation tables), ``r`` is in
units of the image side and ``f = NOISE_FREQUENCY`` lattice cells span the image
in the first of ``NOISE_OCTAVES`` octaves (persistence 0.5, lacunarity 2).

Calibration (``benchmarks/calibrate_noise.py``, ``docs/calibration.md``): the
three constants were chosen so that the paper's angle-task results (Sec. IV B,
Figs. 5-7) hold with its own methods. One octave of ``f = 12`` cells has RMS
0.24 and RMS gradient 8.1 per image side and component, so at ``k = 15`` the
stripe phase ``2πk A h·n`` has RMS ≈ ``0.61 A`` rad and the local stripe
direction turns by ≈ ``0.22 A`` rad RMS; the map ``r -> u_A`` starts to fold
near ``A ≈ 4.5``. Angle RMSE (Eq. 10, rad) of the D* = 2 MDS embedding, N = 50,
k = 15, mean of 2 datasets (seeds 0, 1):

====  =======  =======  ========  ========
A     PS 64²   CNN 64²  PS 128²   CNN 128²
====  =======  =======  ========  ========
1     0.575    0.038    0.575     0.010
2     0.101    0.046    0.102     0.015
2.5   0.079    0.051    0.079     0.020
3     0.072    0.058    0.077     0.026
3.5   0.079    0.074    0.078     0.034
4     0.123    0.109    0.103     0.045
4.5   0.231    0.192    0.122     0.059
5     0.610    0.403    0.152     0.077
6     0.745    -        0.244     -
====  =======  =======  ========  ========

The power spectrum (PS) keeps sharp, non-overlapping peaks at ``A = 1`` and
fails, works for ``2 ≲ A ≲ 3.5`` and degrades again as the stripe directions
spread (at 128² only mildly: 2x its best error at ``A = 5``, 3x at ``A = 6``);
the CNN (normalised VGG-19) stays accurate, with 6-80x lower stress for
``A <= 4``. Settings with more octaves or a lower base frequency (the earlier
``0.05, 4, 4``) do not degrade the PS at large ``A``; a larger scale makes the
PS work at ``A = 1``. At 64² pixels the
stripes (4.3 pixels per period) alias once compressed, so both methods fail
together beyond ``A ≈ 4``; the CNN's ``A = 4`` error there is at the
0.1 edge (0.109).
"""

from numbers import Real

import numpy as np

from sklearn_texture._validation import check_positive_integer, is_real_numeric
from sklearn_texture.perlin import as_generator, check_octaves, perlin2_fields

__all__ = [
    "MAX_DISPLACEMENT",
    "MAX_K",
    "MAX_NOISE_LATTICE",
    "MAX_PIXELS",
    "MAX_SIZE",
    "NOISE_FREQUENCY",
    "NOISE_OCTAVES",
    "NOISE_PARAMETERS",
    "NOISE_SCALE",
    "TEXTURES",
    "TEXTURE_PHOTOGRAPHS",
    "PerlinTextureDataset",
    "load_texture_photographs",
]

#: Displacement per unit noise amplitude, in image sides, per unit of Perlin fBm
#: value: ``h = NOISE_SCALE * fbm``. See the module docstring for its calibration.
NOISE_SCALE = 0.027

#: Lattice cells of the first noise octave across the image side.
NOISE_FREQUENCY = 12.0

#: fBm octaves of the noise field (each doubles the frequency, halves the amplitude).
NOISE_OCTAVES = 1

#: The keywords that set the noise field, wherever a dataset is made.
NOISE_PARAMETERS = ("noise_scale", "noise_frequency", "octaves")

# ---- Parameter bounds, checked before anything is allocated or computed.
#
# The stripe phase of Eq. (9) is 2πk u·n with |u·n| <= sqrt(2) (1 + A NOISE_SCALE |h|)
# and |h| <= 1 (Perlin fBm values lie in [-1, 1]). At the bounds below it stays under
# 2π 1e6 sqrt(2) 1001 ≈ 8.9e9 rad, where float64 still resolves the phase to 2e-6 rad:
# every accepted setting gives finite, meaningful images (k = 1.7e308 or A = 1e300 would
# give NaN, or cosines of rounding noise).

#: Largest image side in pixels (one float64 image of 16384² pixels is 2 GiB).
MAX_SIZE = 2**14

#: Largest total number of pixels of a dataset, ``n_images * size**2`` (64 GiB of
#: float64 images): a sanity bound checked before any array is allocated.
MAX_PIXELS = 2**33

#: Largest scale ``k`` (stripes per image side).
MAX_K = 1e6

#: Largest noise displacement per unit fBm value, ``amplitude * noise_scale``, in
#: image sides.
MAX_DISPLACEMENT = 1e3

#: Most lattice cells across the image side in the finest noise octave,
#: ``noise_frequency * 2**(octaves - 1)``: float32 lattice coordinates below 2**14
#: keep 9 fractional bits (1/512 of a cell) for Perlin's fade curves.
MAX_NOISE_LATTICE = 2**14

# Fields generated per batch: bounds the temporary memory of the grid path.
_FIELDS_PER_BATCH = 16

#: Photographs bundled in scikit-image's wheel (``skimage/data/NAME.png``) that
#: :func:`load_texture_photographs` reads, with what each shows. All are 8-bit; ``ihc``
#: is RGB, the others grey.
TEXTURE_PHOTOGRAPHS = {
    "brick": "a brick wall (512x512, grey)",
    "grass": "grass (512x512, grey)",
    "gravel": "gravel (512x512, grey)",
    "ihc": "an immunohistochemistry micrograph of colon tissue (512x512, RGB)",
    "cell": "a quantitative phase micrograph of a cell (660x550, grey)",
    "moon": "the surface of the moon (512x512, grey)",
}

#: The three texture photographs of :data:`TEXTURE_PHOTOGRAPHS` (the default).
TEXTURES = ("brick", "grass", "gravel")


class PerlinTextureDataset:
    """Synthetic stripe textures displaced by Perlin noise, paper Eq. (9).

    Image ``i`` is ``cos(2π k_i u · n_θi)`` with ``u = r + A_i h_i(r)``: ``r`` is
    the pixel position in units of the image side (column ``c`` and row ``j``
    of a ``size × size`` image sit at ``r = (c / size, j / size)``), ``n_θ =
    (cos θ, sin θ)`` points from the column axis towards the row axis, and
    ``h_i`` is a 2-vector Perlin fBm field drawn independently for every image
    (see the module docstring for its scale).

    Parameters
    ----------
    theta : float or array-like of shape (n_images,)
        Stripe normal angles in radians, finite.
    k : float or array-like of shape (n_images,)
        Scale: stripes per image side (wavelength ``1/k``), in
        ``(0, MAX_K]``.
    amplitude : float or array-like of shape (n_images,)
        Noise amplitude ``A`` >= 0, with ``A * noise_scale`` at most
        :data:`MAX_DISPLACEMENT`. Scalars and length-1 sequences broadcast
        against the other parameters.
    size : int, default=128
        Image side in pixels, from 1 to :data:`MAX_SIZE`; ``n_images * size**2``
        must not exceed :data:`MAX_PIXELS`.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the noise. Image ``i`` draws its two permutation tables from the
        ``i``-th generator spawned from it, so equal seeds give identical
        images and every image gets its own noise.
    noise_scale : float, default=NOISE_SCALE
        Displacement per unit amplitude and unit fBm value, in image sides,
        finite and >= 0.
    noise_frequency : float, default=NOISE_FREQUENCY
        Lattice cells of the first octave across the image side, > 0, with
        ``noise_frequency * 2**(octaves - 1)`` at most
        :data:`MAX_NOISE_LATTICE`.
    octaves : int, default=NOISE_OCTAVES
        fBm octaves of the noise field, from 1 to
        :data:`~sklearn_texture.perlin.MAX_OCTAVES` (and see ``noise_frequency``).

    Raises
    ------
    ValueError
        If a parameter is not finite or lies outside its range; the message
        names the parameter, its value and the allowed range. Every check runs
        before any image is computed.
    MemoryError
        If the images do not fit in memory (the message gives their size).

    Attributes
    ----------
    images : ndarray of shape (n_images, size, size), float64
        The textures, values in [-1, 1].
    theta, k, amplitude : ndarray of shape (n_images,)
        The generating parameters after broadcasting.
    params : ndarray of shape (n_images, 3)
        Columns ``theta``, ``k``, ``amplitude``.
    permutations : ndarray of shape (n_images, 2, 256), uint8
        The permutation tables of each image's noise components ``h_x``, ``h_y``
        (``perlin2(..., permutation=permutations[i, 0])`` recomputes ``h_x``).

    Examples
    --------
    >>> from sklearn_texture.datasets import PerlinTextureDataset
    >>> data = PerlinTextureDataset([0.0, 1.0], k=15, amplitude=2.5, size=64, random_state=0)
    >>> data.images.shape, len(data), data.params.shape
    ((2, 64, 64), 2, (2, 3))
    """

    def __init__(
        self,
        theta,
        k,
        amplitude,
        *,
        size=128,
        random_state=None,
        noise_scale=NOISE_SCALE,
        noise_frequency=NOISE_FREQUENCY,
        octaves=NOISE_OCTAVES,
    ):
        self.theta, self.k, self.amplitude = _broadcast_parameters(
            theta=theta, k=k, amplitude=amplitude
        )
        size = _check_size(size)
        _check_noise(noise_scale, noise_frequency, octaves)
        if not np.all(self.k > 0):
            raise ValueError(f"k must be > 0; got min k = {self.k.min()}.")
        if not np.all(self.k <= MAX_K):
            raise ValueError(
                f"k must be > 0 and <= MAX_K = {MAX_K:g} (stripes per image side); got max k "
                f"= {self.k.max():g}."
            )
        if not np.all(self.amplitude >= 0):
            raise ValueError(f"amplitude must be >= 0; got min amplitude = {self.amplitude.min()}.")
        _check_displacement(self.amplitude.max(), noise_scale)
        _check_total_pixels(len(self.theta), size)
        self.size = int(size)
        self.noise_scale = float(noise_scale)
        self.noise_frequency = float(noise_frequency)
        self.octaves = octaves
        self.params = np.column_stack([self.theta, self.k, self.amplitude])
        self.permutations = _permutation_tables(len(self.theta), random_state)
        self.images = _render(
            self.params, self.permutations, size=self.size, noise_scale=self.noise_scale,
            noise_frequency=self.noise_frequency, octaves=octaves,
        )

    @classmethod
    def angle_task(cls, n_images=50, amplitude=2.5, k=15, *, size=128, random_state=None,
                   noise_scale=NOISE_SCALE, noise_frequency=NOISE_FREQUENCY,
                   octaves=NOISE_OCTAVES):
        """The paper's angle task (Sec. IV B): ``θ_i = iπ/N``, fixed ``k`` and ``A``.

        Parameters
        ----------
        n_images : int, default=50
            ``N``, the number of angles.
        amplitude, k : float, default=2.5, 15
            Noise amplitude ``A`` and scale ``k`` of every image.
        size, random_state, noise_scale, noise_frequency, octaves
            As for :class:`PerlinTextureDataset` (same ranges).

        Returns
        -------
        dataset : PerlinTextureDataset
            ``n_images`` textures with ``theta = arange(n_images) * pi / n_images``.

        Examples
        --------
        >>> from sklearn_texture.datasets import PerlinTextureDataset
        >>> data = PerlinTextureDataset.angle_task(4, size=32, random_state=0)
        >>> data.theta.round(4).tolist()
        [0.0, 0.7854, 1.5708, 2.3562]
        """
        check_positive_integer(n_images, "n_images")
        # Before np.arange(n_images) allocates anything.
        _check_total_pixels(n_images, _check_size(size))
        theta = np.arange(n_images) * np.pi / n_images
        return cls(theta, k, amplitude, size=size, random_state=random_state,
                   noise_scale=noise_scale, noise_frequency=noise_frequency, octaves=octaves)

    @classmethod
    def manifold_task(cls, n_levels=10, *, size=128, random_state=None,
                      noise_scale=NOISE_SCALE, noise_frequency=NOISE_FREQUENCY,
                      octaves=NOISE_OCTAVES):
        """The paper's 3-parameter design (Sec. IV C): the full ``n_levels³`` grid.

        ``θ`` in [0, π), ``k`` in [5, 15) and ``A`` in [0.5, 2), each in
        ``n_levels`` equal increments from the lower end (``θ = iπ/n``,
        ``k = 5 + 10i/n``, ``A = 0.5 + 1.5i/n``); ``θ`` varies fastest.

        Parameters
        ----------
        n_levels : int, default=10
            Levels per parameter (the paper: 10, i.e. 1000 images).
        size, random_state, noise_scale, noise_frequency, octaves
            As for :class:`PerlinTextureDataset` (same ranges).

        Returns
        -------
        dataset : PerlinTextureDataset
            ``n_levels**3`` textures, ``θ`` varying fastest, then ``k``, then ``A``.

        Examples
        --------
        >>> from sklearn_texture.datasets import PerlinTextureDataset
        >>> data = PerlinTextureDataset.manifold_task(2, size=16, random_state=0)
        >>> data.params[:, 1:].tolist()[::2]
        [[5.0, 0.5], [10.0, 0.5], [5.0, 1.25], [10.0, 1.25]]
        """
        check_positive_integer(n_levels, "n_levels")
        # Before the n_levels³ grid is allocated.
        _check_total_pixels(n_levels**3, _check_size(size), what=f"n_levels**3 = {n_levels**3}")
        steps = np.arange(n_levels) / n_levels
        amplitude, k, theta = np.meshgrid(
            0.5 + 1.5 * steps, 5 + 10 * steps, np.pi * steps, indexing="ij"
        )
        return cls(
            theta.ravel(), k.ravel(), amplitude.ravel(), size=size, random_state=random_state,
            noise_scale=noise_scale, noise_frequency=noise_frequency, octaves=octaves,
        )

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index]


def _render(params, permutations, *, size, noise_scale, noise_frequency, octaves):
    """Render Eq. (9) for each row ``(θ, k, A)`` of ``params`` (already validated).

    ``permutations`` (N, 2, 256) seeds the x and y noise components of each
    image. Returns (N, size, size) float64.
    """
    positions = np.arange(size) / size
    lattice = positions * noise_frequency
    try:
        images = np.empty((len(params), size, size))
    except MemoryError:
        gib = len(params) * size * size * 8 / 2**30
        raise MemoryError(
            f"{len(params)} images of {size}x{size} pixels need {gib:.3g} GiB of float64; "
            "use fewer images or a smaller size."
        ) from None
    per_batch = max(1, _FIELDS_PER_BATCH // 2)
    for start in range(0, len(params), per_batch):
        stop = min(start + per_batch, len(params))
        tables = permutations[start:stop].reshape(-1, 256)
        fields = perlin2_fields(lattice, lattice, tables, octaves=octaves).reshape(
            stop - start, 2, size, size
        )
        theta, k, amplitude = (p[:, None, None] for p in params[start:stop].T)
        displacement = amplitude * noise_scale
        # u · n_θ with u = r + A h(r); r = (column, row) / size.
        u_x = positions[None, None, :] + displacement * fields[:, 0]
        u_y = positions[None, :, None] + displacement * fields[:, 1]
        phase = u_x * np.cos(theta) + u_y * np.sin(theta)
        np.cos(2 * np.pi * k * phase, out=images[start:stop])
    return images


def _check_size(size):
    return check_positive_integer(size, "size", high=MAX_SIZE, high_name="MAX_SIZE")


def _check_total_pixels(n_images, size, what=None):
    pixels = int(n_images) * size * size
    if pixels > MAX_PIXELS:
        what = what or f"n_images = {n_images}"
        raise ValueError(
            f"{what} images of {size}x{size} pixels make {pixels:.3g} pixels; at most MAX_PIXELS = "
            f"2**33 = {MAX_PIXELS:.3g} ({MAX_PIXELS * 8 / 2**30:g} GiB of float64) are "
            "allowed: use fewer images or a smaller size."
        )


def _check_noise(noise_scale, noise_frequency, octaves):
    """Finite, in-range noise keywords; the finest octave within MAX_NOISE_LATTICE."""
    for name, value in [("noise_scale", noise_scale), ("noise_frequency", noise_frequency)]:
        if (
            not isinstance(value, Real)
            or isinstance(value, bool)
            or not np.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"{name} must be a finite real number >= 0; got {value!r}.")
    check_octaves(octaves)
    if noise_frequency == 0:
        raise ValueError("noise_frequency must be > 0; got 0.")
    finest = float(noise_frequency) * 2.0 ** (int(octaves) - 1)
    if finest > MAX_NOISE_LATTICE:
        most_octaves = int(np.floor(np.log2(MAX_NOISE_LATTICE / noise_frequency))) + 1
        octave_range = (
            f"with noise_frequency = {noise_frequency!r}, octaves must be <= {most_octaves}"
            if most_octaves >= 1
            else f"no octave count fits noise_frequency > {MAX_NOISE_LATTICE}"
        )
        raise ValueError(
            f"noise_frequency * 2**(octaves - 1) (lattice cells across the image in the finest "
            f"octave) must be <= MAX_NOISE_LATTICE = {MAX_NOISE_LATTICE}; got noise_frequency "
            f"= {noise_frequency!r} with octaves = {octaves!r} ({finest:.3g} cells): with "
            f"octaves = {octaves!r}, noise_frequency must lie in "
            f"(0, {MAX_NOISE_LATTICE / 2.0 ** (octaves - 1):g}]; {octave_range}."
        )


def _check_displacement(amplitude, noise_scale):
    """``amplitude * noise_scale`` (largest amplitude) within MAX_DISPLACEMENT."""
    with np.errstate(over="ignore"):
        displacement = float(amplitude) * float(noise_scale)
    if displacement > MAX_DISPLACEMENT:
        raise ValueError(
            f"amplitude must be >= 0 and amplitude * noise_scale (the noise displacement, in "
            f"image sides) <= MAX_DISPLACEMENT = {MAX_DISPLACEMENT:g}; got amplitude = "
            f"{float(amplitude):g} with noise_scale = {float(noise_scale):g}, so amplitude must "
            f"lie in [0, {MAX_DISPLACEMENT / noise_scale:.6g}]."
        )


def _broadcast_parameters(**parameters):
    arrays = {}
    for name, value in parameters.items():
        array = np.asarray(value, dtype=float) if is_real_numeric(value) else None
        if array is None or array.ndim > 1:
            raise ValueError(
                f"{name} must be a real number or a 1-D sequence of real numbers; got {value!r}."
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or infinity.")
        arrays[name] = np.atleast_1d(array)
    lengths = {name: a.size for name, a in arrays.items() if a.size != 1}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "theta, k and amplitude must be scalars or sequences of one common length; got "
            + ", ".join(f"{name} of length {n}" for name, n in lengths.items())
            + "."
        )
    if any(a.size == 0 for a in arrays.values()):
        empty = next(name for name, a in arrays.items() if a.size == 0)
        raise ValueError(f"{empty} is empty; at least one image is needed.")
    n_images = max(a.size for a in arrays.values())
    return [np.broadcast_to(a, (n_images,)).copy() for a in arrays.values()]


def _permutation_tables(n_images, random_state):
    """Two permutation tables per image, from per-image generators spawned from the seed."""
    generators = as_generator(random_state).spawn(n_images)
    return np.stack(
        [[rng.permutation(256) for _ in range(2)] for rng in generators]
    ).astype(np.uint8)


def load_texture_photographs(names=TEXTURES, *, size=None):
    """Texture photographs that ship inside scikit-image's wheel, read as stored.

    The files ``skimage/data/NAME.png`` of the installed scikit-image package
    (:data:`TEXTURE_PHOTOGRAPHS`) are read with :func:`sklearn_texture.io.read_image`:
    nothing is downloaded (``skimage.data``'s functions are not called, since some of
    them fetch files with pooch), and nothing is converted.

    Parameters
    ----------
    names : str or sequence of str, default=("brick", "grass", "gravel")
        Keys of :data:`TEXTURE_PHOTOGRAPHS`, each at most once.
    size : int or None, default=None
        Crop each photograph to its central ``size x size`` pixels (at most the
        photograph's smaller side); ``None`` keeps the whole photograph.

    Returns
    -------
    images : list of ndarray of shape (H, W) or (H, W, 3), uint8
        The photographs (or their central crops), in the order of ``names``.
    names : list of str
        Their names.

    Raises
    ------
    ValueError
        ``names`` that is not a name or a sequence of names, an unknown or repeated
        name (the message lists the available ones), or a ``size`` that is not a
        positive integer or exceeds a photograph.
    ImportError
        If scikit-image is not installed (``pip install 'sklearn-texture[examples]'``).
    FileNotFoundError
        If the installed scikit-image lacks a photograph's file.

    Examples
    --------
    >>> from sklearn_texture.datasets import load_texture_photographs
    >>> images, names = load_texture_photographs(["brick", "ihc"], size=64)
    >>> names, images[0].shape, images[1].shape, images[0].dtype
    (['brick', 'ihc'], (64, 64), (64, 64, 3), dtype('uint8'))
    """
    import importlib.util
    from pathlib import Path

    from sklearn_texture.io import read_image

    available = ", ".join(TEXTURE_PHOTOGRAPHS)
    if isinstance(names, str):
        names = [names]
    else:
        try:
            names = list(names)
        except TypeError:  # None, a number: not a list of names
            raise ValueError(f"names must be a name or a sequence of names; choose from "
                             f"{available}; got {names!r}.") from None
    if not names:
        raise ValueError(f"names is empty; choose from {available}.")
    for name in names:
        if not isinstance(name, str) or name not in TEXTURE_PHOTOGRAPHS:
            raise ValueError(f"unknown texture photograph {name!r}; available: {available}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"texture photographs must not repeat; got {', '.join(repeated)} "
                         "more than once.")
    if size is not None:
        size = check_positive_integer(size, "size")
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the texture photographs ship with scikit-image, which is not "
                          "installed: pip install 'sklearn-texture[examples]'.")
    # The package's folder, found without importing skimage (which is slow to import).
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    images = []
    for name in names:
        path = folder / f"{name}.png"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from the installed scikit-image; "
                                    "reinstall it: pip install 'sklearn-texture[examples]'.")
        image = read_image(path)
        if size is not None:
            height, width = image.shape[:2]
            if size > min(height, width):
                raise ValueError(f"size must be at most {min(height, width)} for {name} "
                                 f"({height}x{width} pixels); got {size}.")
            top, left = (height - size) // 2, (width - size) // 2
            image = image[top:top + size, left:left + size]
        images.append(image)
    return images, names
