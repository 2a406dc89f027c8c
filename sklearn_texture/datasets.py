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

from numbers import Integral, Real

import numpy as np

from sklearn_texture.perlin import _check_params, _fbm_grid, as_generator

__all__ = [
    "NOISE_FREQUENCY",
    "NOISE_OCTAVES",
    "NOISE_PARAMETERS",
    "NOISE_SCALE",
    "PerlinTextureDataset",
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

# Fields generated per batch: bounds the temporary memory of the grid path.
_FIELDS_PER_BATCH = 16


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
        Stripe normal angles in radians.
    k : float or array-like of shape (n_images,)
        Scale: stripes per image side (wavelength ``1/k``), > 0.
    amplitude : float or array-like of shape (n_images,)
        Noise amplitude ``A`` >= 0. Scalars and length-1 sequences broadcast
        against the other parameters.
    size : int, default=128
        Image side in pixels.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the noise. Image ``i`` draws its two permutation tables from the
        ``i``-th generator spawned from it, so equal seeds give identical
        images and every image gets its own noise.
    noise_scale : float, default=NOISE_SCALE
        Displacement per unit amplitude and unit fBm value, in image sides.
    noise_frequency : float, default=NOISE_FREQUENCY
        Lattice cells of the first octave across the image side, > 0.
    octaves : int, default=NOISE_OCTAVES
        fBm octaves of the noise field.

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
        if not np.all(self.k > 0):
            raise ValueError(f"k must be > 0; got min k = {self.k.min()}.")
        if not np.all(self.amplitude >= 0):
            raise ValueError(f"amplitude must be >= 0; got min amplitude = {self.amplitude.min()}.")
        if not isinstance(size, Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(f"size must be an integer >= 1; got {size!r}.")
        for name, value in [("noise_scale", noise_scale), ("noise_frequency", noise_frequency)]:
            if not isinstance(value, Real) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite real number >= 0; got {value!r}.")
        if noise_frequency == 0:
            raise ValueError("noise_frequency must be > 0; got 0.")
        self.size = int(size)
        self.noise_scale = float(noise_scale)
        self.noise_frequency = float(noise_frequency)
        self.octaves = octaves
        self.params = np.column_stack([self.theta, self.k, self.amplitude])
        self.permutations = _permutation_tables(len(self.theta), random_state)
        self.images = perlin_textures(
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
            As for :class:`PerlinTextureDataset`.

        Examples
        --------
        >>> from sklearn_texture.datasets import PerlinTextureDataset
        >>> data = PerlinTextureDataset.angle_task(4, size=32, random_state=0)
        >>> data.theta.round(4).tolist()
        [0.0, 0.7854, 1.5708, 2.3562]
        """
        if not isinstance(n_images, Integral) or isinstance(n_images, bool) or n_images < 1:
            raise ValueError(f"n_images must be an integer >= 1; got {n_images!r}.")
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
            As for :class:`PerlinTextureDataset`.

        Examples
        --------
        >>> from sklearn_texture.datasets import PerlinTextureDataset
        >>> data = PerlinTextureDataset.manifold_task(2, size=16, random_state=0)
        >>> data.params[:, 1:].tolist()[::2]
        [[5.0, 0.5], [10.0, 0.5], [5.0, 1.25], [10.0, 1.25]]
        """
        if not isinstance(n_levels, Integral) or isinstance(n_levels, bool) or n_levels < 1:
            raise ValueError(f"n_levels must be an integer >= 1; got {n_levels!r}.")
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


def perlin_textures(params, permutations, *, size, noise_scale, noise_frequency, octaves):
    """Render Eq. (9) for each row ``(θ, k, A)`` of ``params``.

    ``permutations`` (N, 2, 256) seeds the x and y noise components of each
    image. Returns (N, size, size) float64.
    """
    fbm = _check_params(octaves, 0.5, 2.0, 1024, 1024, 0)
    positions = np.arange(size) / size
    lattice = (positions * noise_frequency).astype(np.float32)
    images = np.empty((len(params), size, size))
    per_batch = max(1, _FIELDS_PER_BATCH // 2)
    for start in range(0, len(params), per_batch):
        stop = min(start + per_batch, len(params))
        tables = permutations[start:stop].reshape(-1, 256).astype(np.intp)
        fields = _fbm_grid(lattice, lattice, tables, fbm).reshape(stop - start, 2, size, size)
        theta, k, amplitude = (p[:, None, None] for p in params[start:stop].T)
        displacement = amplitude * noise_scale
        # u · n_θ with u = r + A h(r); r = (column, row) / size.
        u_x = positions[None, None, :] + displacement * fields[:, 0]
        u_y = positions[None, :, None] + displacement * fields[:, 1]
        phase = u_x * np.cos(theta) + u_y * np.sin(theta)
        np.cos(2 * np.pi * k * phase, out=images[start:stop])
    return images


def _broadcast_parameters(**parameters):
    arrays = {}
    for name, value in parameters.items():
        array = np.asarray(value, dtype=float) if _is_real(value) else None
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


def _is_real(value):
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "biuf"


def _permutation_tables(n_images, random_state):
    """Two permutation tables per image, from per-image generators spawned from the seed."""
    generators = as_generator(random_state).spawn(n_images)
    return np.stack(
        [[rng.permutation(256) for _ in range(2)] for rng in generators]
    ).astype(np.uint8)
