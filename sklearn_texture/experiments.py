"""The paper's two tasks (Sec. IV B and IV C) as plain functions that return tables.

The command line, the docs, the benchmarks and the fidelity tests all call these,
so each experiment is defined once. Every function takes the image size, the
network weights, the device and a seed, and returns plain Python/numpy data.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.manifold import MDS

from sklearn_texture.datasets import PerlinTextureDataset
from sklearn_texture.distances import texture_distances
from sklearn_texture.gram import GramTextureVectorizer
from sklearn_texture.metrics import (
    angle_rmse,
    kruskal_stress,
    linear_r2,
    reconstruct_angles,
    regression_angle,
)
from sklearn_texture.spectrum import PowerSpectrumVectorizer

__all__ = [
    "METHODS",
    "PAPER_BETA_ANGLE",
    "PAPER_TABLE_I",
    "AngleTaskResult",
    "ManifoldTaskResult",
    "embed",
    "method_distances",
    "run_angle_task",
    "run_manifold_task",
]

#: The two texture representations compared in the paper.
METHODS = ("cnn", "ps")

#: Table I of the paper: R² of linear models for k and A at each D*.
PAPER_TABLE_I = {
    "D*": (2, 3, 4, 5, 6, 10, 50),
    "k": (0.532, 0.720, 0.901, 0.916, 0.916, 0.930, 0.980),
    "A": (0.183, 0.231, 0.908, 0.950, 0.951, 0.972, 0.983),
}
#: Eq. 14 of the paper: angle between the regression vectors of A and k at D* = 6.
PAPER_BETA_ANGLE = 91.0


def _vectorizer(method, *, weights, device, random_state, layer_weights=None):
    if method == "cnn":
        return GramTextureVectorizer(weights=weights, layer_weights=layer_weights,
                                     device=device, random_state=random_state)
    if method == "ps":
        return PowerSpectrumVectorizer()
    raise ValueError(f"method must be one of {METHODS}; got {method!r}.")


def method_distances(images, method, *, weights="vgg19_normalized", device="auto",
                     random_state=0, layer_weights=None):
    """Texture distances between images: Eq. 4 (``"cnn"``) or Eq. 7 (``"ps"``).

    Parameters
    ----------
    images : array-like of shape (N, H, W) or list of ndarray
        The images (as the vectorizer of ``method`` accepts them).
    method : {"cnn", "ps"}
        ``"cnn"``: Gram matrices of VGG-19
        (:class:`~sklearn_texture.gram.GramTextureVectorizer`); ``"ps"``: power spectra
        (:class:`~sklearn_texture.spectrum.PowerSpectrumVectorizer`).
    weights : str or path-like, default="vgg19_normalized"
        The CNN's weights (``"vgg19_normalized"``, the paper's; ``"vgg19_imagenet"``;
        ``"random"``; or a file). Unused for ``"ps"``.
    device : str, default="auto"
        Torch device of the CNN (``"auto"``, ``"cpu"``, ``"cuda"``, ...). Unused for
        ``"ps"``.
    random_state : int, default=0
        Seed of the CNN's random weights (``weights="random"``). Unused otherwise.
    layer_weights : array-like of float or None, default=None
        ``w_l`` of Eq. 3, one per layer in the order of the paper's layers; ``None``
        weighs the layers equally (the paper).
        Unused for ``"ps"``.

    Returns
    -------
    distances : ndarray of shape (N, N)
    """
    vectorizer = _vectorizer(method, weights=weights, device=device, random_state=random_state,
                             layer_weights=layer_weights)
    return texture_distances(vectorizer.fit_transform(images))


def embed(distances, n_components, *, random_state=0, max_iter=300):
    """Metric MDS of a distance matrix (Sec. III C), started from classical MDS.

    All-zero distances (identical textures, or a single image) embed every
    point at the origin, the exact solution, without running SMACOF (whose
    relative stress change is then 0/0).

    Parameters
    ----------
    distances : array-like of shape (N, N)
        Symmetric texture distances with a zero diagonal.
    n_components : int
        The embedding dimension D*.
    random_state : int, default=0
        Seed of :class:`sklearn.manifold.MDS`.
    max_iter : int, default=300
        Most SMACOF iterations.

    Returns
    -------
    embedding : ndarray of shape (N, n_components)
    """
    distances = np.asarray(distances)
    if distances.size and not distances.any():
        return np.zeros((len(distances), n_components))
    mds = MDS(n_components=n_components, metric="precomputed", init="classical_mds",
              n_init=1, max_iter=max_iter, random_state=random_state)
    return mds.fit_transform(distances)


@dataclass
class AngleTaskResult:
    """Rows of the angle task (Fig. 6, 7) and the Fig. 5 panels.

    Parameters
    ----------
    rows : list of dict
        One dict per (method, N, A, trial) with the angle RMSE (Eq. 10, radians)
        and the Kruskal stress (Eq. 8) of the D* = 2 embedding.
    panels : dict
        Maps (method, A) to ``(embedding, theta, reconstructed_angle)`` of the
        first trial at the first N.
    """

    rows: list = field(default_factory=list)
    panels: dict = field(default_factory=dict)

    def summary(self):
        """Mean and standard deviation over trials per (method, N, A).

        Returns
        -------
        table : list of dict
            One row per (method, N, A), sorted, with the number of trials and the
            mean and standard deviation of the angle RMSE and of the stress.
        """
        groups = {}
        for row in self.rows:
            groups.setdefault((row["method"], row["N"], row["A"]), []).append(row)
        table = []
        for (method, n_images, amplitude), rows in sorted(groups.items()):
            rmse = np.array([r["angle_rmse"] for r in rows])
            stress = np.array([r["stress"] for r in rows])
            table.append({
                "method": method, "N": n_images, "A": amplitude, "trials": len(rows),
                "angle_rmse": float(rmse.mean()), "angle_rmse_std": float(rmse.std()),
                "stress": float(stress.mean()), "stress_std": float(stress.std()),
            })
        return table


def run_angle_task(*, n_images=(50,), amplitudes=(1.0, 2.5, 4.0), n_trials=1, k=15.0,
                   size=128, methods=METHODS, panel_amplitudes=(1.0, 2.5, 4.0),
                   weights="vgg19_normalized", device="auto", random_state=0, noise=None,
                   progress=None):
    """Sec. IV B: reconstruct the angle of N stripe textures from a D* = 2 embedding.

    For each N, amplitude A and trial a fresh :meth:`PerlinTextureDataset.angle_task`
    is drawn, embedded by each method with MDS into two dimensions and scored
    with :func:`~sklearn_texture.metrics.angle_rmse` (Eq. 10) and
    :func:`~sklearn_texture.metrics.kruskal_stress` (Eq. 8).

    Parameters
    ----------
    n_images : tuple of int, default=(50,)
        The dataset sizes N to run (at least 2 each).
    amplitudes : tuple of float, default=(1.0, 2.5, 4.0)
        The noise amplitudes A to run.
    n_trials : int, default=1
        Datasets drawn per (N, A); the summary gives mean and standard deviation over them.
    k : float, default=15.0
        Stripe wavenumber of the textures.
    size : int, default=128
        Image side in pixels.
    methods : tuple of str, default=METHODS
        The texture representations to compare (``"cnn"``, ``"ps"``).
    panel_amplitudes : tuple of float, default=(1.0, 2.5, 4.0)
        The amplitudes whose first trial (at the first N) is kept for Fig. 5.
    weights : str or path-like, default="vgg19_normalized"
        The CNN's weights (see :func:`method_distances`).
    device : str, default="auto"
        Torch device of the CNN.
    random_state : int, default=0
        Seed of the whole run: one seed per (N, A, trial) is drawn from it (by
        :class:`numpy.random.SeedSequence`) for the dataset, random CNN weights and MDS.
    noise : dict or None
        Keywords of :data:`~sklearn_texture.datasets.NOISE_PARAMETERS` (``noise_scale``,
        ``noise_frequency``, ``octaves``) for the textures' displacement field
        (:class:`~sklearn_texture.datasets.PerlinTextureDataset`); ``None`` keeps the
        calibrated defaults.
    progress : callable or None
        Called with a short description after each dataset is done.

    Returns
    -------
    result : AngleTaskResult
    """
    if min(n_images) < 2:
        raise ValueError(
            f"the angle task needs at least 2 images per dataset (their azimuths are compared); "
            f"got n_images={tuple(n_images)}."
        )
    result = AngleTaskResult()
    seeds = iter(np.random.SeedSequence(random_state).generate_state(
        len(n_images) * len(amplitudes) * n_trials))
    for n in n_images:
        for amplitude in amplitudes:
            for trial in range(n_trials):
                seed = int(next(seeds))
                data = PerlinTextureDataset.angle_task(
                    n_images=n, amplitude=amplitude, k=k, size=size, random_state=seed,
                    **(noise or {}))
                for method in methods:
                    distances = method_distances(data.images, method, weights=weights,
                                                 device=device, random_state=seed)
                    embedding = embed(distances, 2, random_state=seed)
                    result.rows.append({
                        "method": method, "N": n, "A": float(amplitude), "trial": trial,
                        "angle_rmse": angle_rmse(embedding, data.theta),
                        "stress": kruskal_stress(distances, embedding),
                    })
                    if n == n_images[0] and trial == 0 and amplitude in panel_amplitudes:
                        angles = reconstruct_angles(embedding, data.theta)
                        result.panels[method, float(amplitude)] = (
                            embedding, data.theta, angles)
                if progress is not None:
                    progress(f"angle task N={n} A={amplitude:g} trial {trial + 1}/{n_trials}")
    return result


@dataclass
class ManifoldTaskResult:
    """Stress vs D* (Fig. 8), Table I, the β angle (Eq. 14) and embeddings (Fig. 9–11).

    Parameters
    ----------
    stress_rows : list of dict
        Kruskal stress (Eq. 8) per method and D* (Fig. 8).
    r2_rows : list of dict
        R² (Eq. 13) of linear models for k and A per D* (Table I).
    beta_angle : float
        Angle between the regression directions of k and A, degrees (Eq. 14).
    embeddings : dict
        The CNN embeddings at D* = 3 and 4 (Fig. 9–11), keyed by D*.
    params : ndarray of shape (n_images, 3)
        (θ, k, A) of each image.
    """

    stress_rows: list
    r2_rows: list
    beta_angle: float
    embeddings: dict
    params: np.ndarray


def run_manifold_task(*, n_levels=10, size=128, dims=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50),
                      methods=METHODS, weights="vgg19_normalized", device="auto",
                      random_state=0, beta_dim=6, noise=None, progress=None):
    """Sec. IV C: embed the n_levels³ grid of (θ, k, A) textures into D* dimensions.

    Returns the stress of each method at each D* (Fig. 8), the R² of linear
    models for k and A from the CNN embedding (Table I, Eq. 11–13), the angle
    between their regression vectors at ``beta_dim`` (Eq. 14) and the CNN
    embeddings at D* = 3 and 4 for Fig. 9–11.

    Parameters
    ----------
    n_levels : int, default=10
        Levels of each of θ, k and A: the dataset holds ``n_levels**3`` images.
    size : int, default=128
        Image side in pixels.
    dims : tuple of int, default=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50)
        The embedding dimensions D* to run (those not below the number of images are
        left out).
    methods : tuple of str, default=METHODS
        The texture representations to compare (``"cnn"``, ``"ps"``).
    weights : str or path-like, default="vgg19_normalized"
        The CNN's weights (see :func:`method_distances`).
    device : str, default="auto"
        Torch device of the CNN.
    random_state : int, default=0
        Seed of the dataset, random CNN weights and MDS.
    beta_dim : int, default=6
        The D* at which the angle β between the regression vectors is measured (Eq. 14;
        the paper uses 6).
    noise : dict or None
        As for :func:`run_angle_task`.
    progress : callable or None
        Called with a short description after each step.

    Returns
    -------
    result : ManifoldTaskResult
    """
    data = PerlinTextureDataset.manifold_task(n_levels=n_levels, size=size,
                                              random_state=random_state, **(noise or {}))
    dims = tuple(d for d in dims if d < len(data))
    if not dims:
        raise ValueError(
            f"the manifold task with n_levels={n_levels} has {len(data)} image(s), too few "
            "to embed in any dimension; use n_levels >= 2."
        )
    stress_rows, r2_rows, embeddings, beta = [], [], {}, float("nan")
    for method in methods:
        distances = method_distances(data.images, method, weights=weights, device=device,
                                     random_state=random_state)
        if progress is not None:
            progress(f"manifold task: {method} distances for {len(data)} images")
        for dim in dims:
            embedding = embed(distances, dim, random_state=random_state)
            stress_rows.append({"method": method, "D*": dim,
                                "stress": kruskal_stress(distances, embedding)})
            if method == "cnn":
                r2_rows.append({"D*": dim, "R2_k": linear_r2(embedding, data.k),
                                "R2_A": linear_r2(embedding, data.amplitude)})
                if dim in (3, 4):
                    embeddings[dim] = embedding
                if dim == beta_dim:
                    beta = regression_angle(embedding, data.amplitude, data.k)
            if progress is not None:
                progress(f"manifold task: {method} D*={dim}")
    return ManifoldTaskResult(stress_rows, r2_rows, beta, embeddings, data.params)
