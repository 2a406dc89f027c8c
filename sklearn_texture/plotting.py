"""The paper's figures from experiment results (matplotlib, imported lazily, no screen needed).

Figures are drawn on :class:`matplotlib.figure.Figure` objects and saved directly to
files: nothing here imports :mod:`matplotlib.pyplot` or changes the matplotlib backend,
so drawing a figure leaves a notebook's or an application's backend and open figures
alone. (The ``sklearn-texture`` command line chooses a non-interactive backend itself.)
"""

import numpy as np

__all__ = [
    "plot_angle_panels",
    "plot_angle_scores",
    "plot_embedding_3d",
    "plot_image_map",
    "plot_map_walk",
    "plot_stress_vs_dimension",
]

_COLOURS = {"cnn": "tab:red", "ps": "tab:blue"}
_MARKERS = {"cnn": "o", "ps": "s"}
_LABELS = {"cnn": "CNN (Eq. 4)", "ps": "power spectrum (Eq. 7)"}


def _figure(**kwargs):
    """A figure not registered with pyplot (saving it needs no backend, no display)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def plot_angle_panels(result, path):
    """Fig. 5: embeddings (arrows at 2θ) per method and A, and θ vs reconstructed angle.

    Parameters
    ----------
    result : AngleTaskResult
        Its ``panels`` (from :func:`~sklearn_texture.experiments.run_angle_task`).
    path : str or path-like
        The image file to write (its suffix picks the format).
    """
    amplitudes = sorted({a for _, a in result.panels})
    methods = [m for m in ("cnn", "ps") if any(key[0] == m for key in result.panels)]
    figure = _figure(figsize=(3.2 * len(amplitudes), 3.2 * (len(methods) + 1)))
    axes = figure.subplots(len(methods) + 1, len(amplitudes), squeeze=False)
    for column, amplitude in enumerate(amplitudes):
        for row, method in enumerate(methods):
            embedding, theta, angles = result.panels[method, amplitude]
            centred = _aligned_to_ring(embedding, theta)
            radius = np.abs(centred).max()
            ax = axes[row, column]
            ax.scatter(*centred.T, c=_COLOURS[method], marker=_MARKERS[method], s=14)
            ax.quiver(centred[:, 0], centred[:, 1], np.cos(2 * theta), np.sin(2 * theta),
                      angles="xy", scale_units="xy", scale=4 / radius, width=0.004,
                      color="0.4")
            ax.set_aspect("equal")
            ax.set_title(f"{_LABELS[method]}, A = {amplitude:g}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            bottom = axes[-1, column]
            bottom.plot(theta, angles, _MARKERS[method], color=_COLOURS[method], ms=3,
                        label=_LABELS[method])
        bottom = axes[-1, column]
        bottom.plot([0, np.pi], [0, np.pi], "k-", lw=0.8)
        bottom.set_xlabel("θ")
        bottom.set_ylabel("(φ + c)/2")
        bottom.legend(fontsize=7)
    _save(figure, path, dpi=120)


def _save(figure, path, *, dpi):
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)


def _aligned_to_ring(embedding, theta):
    """Rotate/reflect a centred 2-D embedding onto the ring at angles 2θ (Procrustes).

    MDS fixes an embedding only up to rotation and reflection; aligning it makes
    the arrows at 2θ comparable with the points, as in the paper's Fig. 5.
    """
    from scipy.linalg import orthogonal_procrustes

    centred = embedding[:, :2] - embedding[:, :2].mean(axis=0)
    ring = np.c_[np.cos(2 * theta), np.sin(2 * theta)]
    rotation, _ = orthogonal_procrustes(centred, ring)
    return centred @ rotation


def plot_angle_scores(summary, path, *, score, ylabel):
    """Fig. 6 (``score="angle_rmse"``) or Fig. 7 (``score="stress"``) against A.

    Parameters
    ----------
    summary : list of dict
        :meth:`AngleTaskResult.summary` rows.
    path : str or path-like
        The image file to write.
    score : {"angle_rmse", "stress"}
        The column to plot (with its ``_std`` column as error bars).
    ylabel : str
        Label of the vertical axis.
    """
    figure = _figure(figsize=(5, 3.6))
    ax = figure.subplots()
    for method in ("cnn", "ps"):
        for n_images in sorted({r["N"] for r in summary}):
            rows = [r for r in summary if r["method"] == method and r["N"] == n_images]
            if not rows:
                continue
            amplitudes = [r["A"] for r in rows]
            ax.errorbar(amplitudes, [r[score] for r in rows],
                        yerr=[r[f"{score}_std"] for r in rows], color=_COLOURS[method],
                        marker=_MARKERS[method], ms=4, capsize=2,
                        label=f"{_LABELS[method]}, N = {n_images}")
    ax.set_xlabel("noise amplitude A")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    _save(figure, path, dpi=120)


def plot_stress_vs_dimension(stress_rows, path):
    """Fig. 8: Kruskal stress against the embedding dimension D*.

    Parameters
    ----------
    stress_rows : list of dict
        ``ManifoldTaskResult.stress_rows`` (``method``, ``D*``, ``stress``).
    path : str or path-like
        The image file to write.
    """
    figure = _figure(figsize=(5, 3.6))
    ax = figure.subplots()
    for method in ("cnn", "ps"):
        rows = [r for r in stress_rows if r["method"] == method]
        if rows:
            ax.semilogy([r["D*"] for r in rows], [r["stress"] for r in rows],
                        marker=_MARKERS[method], color=_COLOURS[method], label=_LABELS[method])
    ax.set_xlabel("embedding dimension D*")
    ax.set_ylabel("stress σ (Eq. 8)")
    ax.legend(fontsize=8)
    _save(figure, path, dpi=120)


def plot_embedding_3d(embedding, params, path, *, title):
    """Fig. 9–11: a 3-D view of an embedding coloured by A, k and θ.

    Parameters
    ----------
    embedding : ndarray of shape (N, D*), D* >= 3
        The embedding; its first three coordinates are drawn.
    params : ndarray of shape (N, 3)
        (θ, k, A) of each image.
    path : str or path-like
        The image file to write.
    title : str
        Title prefix of the three panels.
    """
    from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers the "3d" projection)

    figure = _figure(figsize=(12, 4))
    names = (("A", 2, "viridis"), ("k", 1, "plasma"), ("θ", 0, "twilight"))
    for index, (name, column, colour_map) in enumerate(names):
        ax = figure.add_subplot(1, 3, index + 1, projection="3d")
        points = ax.scatter(*embedding[:, :3].T, c=params[:, column], cmap=colour_map, s=4)
        ax.set_title(f"{title}, coloured by {name}", fontsize=9)
        figure.colorbar(points, ax=ax, shrink=0.6)
    _save(figure, path, dpi=110)


def plot_image_map(embedding, images, path, *, names=None, thumbnail_size=0.06, values=None,
                   value_label=None, highlight=None):
    """Scatter of a 2-D embedding with each image drawn as a thumbnail at its point.

    Parameters
    ----------
    embedding : ndarray of shape (N, D*), D* >= 1
        The embedding; its first two coordinates are drawn (a 1-D map on a line).
    images : list of ndarray
        The N images, greyscale or RGB, in [0, 1].
    path : str or path-like
        The image file to write.
    names : list of str or None, default=None
        Labels drawn under the thumbnails.
    thumbnail_size : float, default=0.06
        Thumbnail side as a fraction of the figure's side.
    values : array-like of shape (N,) or None, default=None
        A number per image (NaN: none): each thumbnail gets a frame in its colour
        (viridis; grey for NaN) and the figure a colour bar.
    value_label : str or None, default=None
        The colour bar's label.
    highlight : array-like of bool of shape (N,) or None, default=None
        Images drawn with a thick frame (orange where ``values`` is None), e.g. images
        placed on an existing map.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    embedding = np.asarray(embedding, dtype=float)
    if embedding.shape[1] == 1:  # a 1-D map: its points on a line
        embedding = np.c_[embedding, np.zeros(len(embedding))]
    highlight = np.zeros(len(embedding), bool) if highlight is None else \
        np.asarray(highlight, bool)
    figure = _figure(figsize=(8, 8))
    ax = figure.subplots()
    ax.scatter(*embedding[:, :2].T, s=6, c="k")
    colours = [None] * len(embedding)
    if values is not None:
        values = np.asarray(values, dtype=float)
        known = values[np.isfinite(values)]
        norm = Normalize(*(known.min(), known.max()) if known.size else (0, 1))
        cmap = colormaps["viridis"]
        colours = [cmap(norm(v)) if np.isfinite(v) else "0.7" for v in values]
        figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7,
                        label=value_label)
    side = thumbnail_size * 8 * 72  # points
    for index, (point, image) in enumerate(zip(embedding[:, :2], images, strict=True)):
        zoom = side / max(image.shape[:2])
        colour = colours[index] or ("tab:orange" if highlight[index] else None)
        frame = {"frameon": colour is not None, "pad": 0.15,
                 "bboxprops": {"edgecolor": colour, "linewidth": 3 if highlight[index] else 1.5}}
        box = AnnotationBbox(OffsetImage(image, zoom=zoom, cmap="gray"), point, **frame)
        ax.add_artist(box)
        if names is not None:
            ax.annotate(names[index], point, xytext=(0, -side / 2 - 2),
                        textcoords="offset points", fontsize=6, ha="center", va="top")
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2" if np.any(embedding[:, 1]) else "")
    _save(figure, path, dpi=120)


def plot_map_walk(points, images, embedding, path, *, dims=(0, 1), values=None,
                  value_label=None):
    """Syntheses drawn at their grid points over a map's points (Fig. 9–11 as images).

    Parameters
    ----------
    points : ndarray of shape (n_points ** 2, D*)
        Grid points (:func:`~sklearn_texture.synthesis.synthesize_map_grid`).
    images : ndarray of shape (n_points ** 2, H, W) or (n_points ** 2, H, W, 3)
        The syntheses at ``points``, in [0, 1].
    embedding : ndarray of shape (N, D*)
        The map's own images' coordinates, drawn as dots under the grid.
    path : str or path-like
        The image file to write.
    dims : (int, int), default=(0, 1)
        The two map dimensions (0-based) drawn.
    values : array-like of shape (N,) or None, default=None
        A number per map point (e.g. a processing parameter) to colour the dots by
        (viridis, with a colour bar); black dots when None.
    value_label : str or None, default=None
        The colour bar's label.
    """
    points = np.asarray(points, dtype=float)[:, list(dims)]
    embedding = np.asarray(embedding, dtype=float)[:, list(dims)]
    n_points = max(2, round(len(points) ** 0.5))
    span = np.ptp(points, axis=0)
    # Images at equal aspect (map distances mean something), each at most 90 % of the
    # smaller grid step, placed in data coordinates so that they tile the grid.
    side = 0.9 * min(s / (n_points - 1) for s in span if s > 0) if span.any() else 1.0
    low = np.minimum(points.min(axis=0) - side / 2, embedding.min(axis=0))
    high = np.maximum(points.max(axis=0) + side / 2, embedding.max(axis=0))
    low, high = low - 0.02 * (high - low).max(), high + 0.02 * (high - low).max()
    # The figure takes the map's aspect, so a wide map leaves no blank bands.
    aspect = float(np.clip((high[1] - low[1]) / (high[0] - low[0]), 0.25, 4.0))
    width = 8.0 if aspect <= 1 else 8.0 / aspect
    figure = _figure(figsize=(width + (1.2 if values is not None else 0.0),
                              max(2.5, width * aspect + 0.8)))
    ax = figure.subplots()
    for (x, y), image in zip(points, images, strict=True):
        # The longer side of the image fills ``side``; the other keeps its aspect.
        half_w, half_h = (side / 2 * s / max(image.shape[:2]) for s in image.shape[1::-1])
        ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest",
                  extent=(x - half_w, x + half_w, y - half_h, y + half_h), zorder=1)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    # Dots above the images, large and white-rimmed, so the map's own images show.
    colour = "k" if values is None else np.asarray(values, dtype=float)
    dots = ax.scatter(*embedding.T, s=30, c=colour, cmap=None if values is None else "viridis",
                      edgecolors="white", linewidths=1.0, zorder=3)
    if values is not None:
        figure.colorbar(dots, ax=ax, shrink=0.7, label=value_label)
    ax.set_xlabel(f"MDS {dims[0] + 1}")
    ax.set_ylabel(f"MDS {dims[1] + 1}")
    ax.set_title("Syntheses across the map (dots: the map's images)", fontsize=10)
    _save(figure, path, dpi=110)
