"""Texture synthesis, morphing and a micrograph at any point of a map (issue 14).

1. Synthesise a new image from each of two exemplars (the paper's Fig. 1).
2. Morph between them: ``vec.inverse_transform((1 - t) * va + t * vb)``.
3. Fit ``GramTextureVectorizer() | LandmarkMDS(2)`` on a few textures and synthesise the
   image at the midpoint between two of them on the map.

The exemplars are scikit-image's bundled photographs ``brick`` and ``gravel`` when
scikit-image is installed (``pip install sklearn-texture[examples]``), otherwise two
generated two-phase textures. Writes ``synthesis_example.png``.

    python examples/synthesis.py            # normalised VGG-19, 96², 300 evaluations
    python examples/synthesis.py --quick    # random weights, 32², 10 evaluations
"""

import argparse

import numpy as np
from matplotlib.figure import Figure
from sklearn.pipeline import make_pipeline

from sklearn_texture import GramTextureVectorizer, LandmarkMDS, synthesize_textures
from sklearn_texture.datasets import load_texture_photographs


def exemplars(size):
    """Two grey [0, 1] textures of ``size``²: photographs if scikit-image is there."""
    try:
        photos, _ = load_texture_photographs(["brick", "gravel"], size=size)
        return [p.astype(np.float64) / 255.0 for p in photos], "photographs"
    except ImportError:  # no scikit-image: generated textures instead
        rng = np.random.default_rng(0)
        made = []
        for sigma in (1.5, 4.0):
            frequencies = np.add.outer(np.fft.fftfreq(size) ** 2, np.fft.fftfreq(size) ** 2)
            field = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size)))
                                 * np.exp(-2 * np.pi**2 * sigma**2 * frequencies)).real
            made.append((field > np.median(field)).astype(np.float64))
        return made, "generated two-phase textures"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="synthesis_example.png")
    args = parser.parse_args()
    size, n_iter = (32, 10) if args.quick else (96, 300)
    options = ({"weights": "random", "layers": ("conv1_1", "conv2_1")} if args.quick
               else {})
    (a, b), source = exemplars(size)
    print(f"exemplars: {source}, {size}x{size}")

    # 1. Synthesis (Fig. 1).
    new, losses = synthesize_textures(np.stack([a, b]), n_iter=n_iter, random_state=0,
                                      return_losses=True, **options)
    for name, curve in zip("ab", losses, strict=True):
        print(f"synthesis {name}: final loss {curve[-1] / curve[0]:.3g} of the start")

    # 2. Morphing A -> B.
    vec = GramTextureVectorizer(random_state=0, **options).fit(np.stack([a, b]))
    va, vb = vec.transform(np.stack([a, b]))
    t = np.linspace(0, 1, 5)[:, None]
    morphs = vec.inverse_transform((1 - t) * va + t * vb, n_iter=n_iter)
    v = vec.transform(morphs)
    print("morph distance to A:", np.round(np.linalg.norm(v - va, axis=1), 4).tolist())
    print("morph distance to B:", np.round(np.linalg.norm(v - vb, axis=1), 4).tolist())

    # 3. A micrograph at a map point.
    textures = np.stack([a, b, np.rot90(a), np.rot90(b)])
    # A Pipeline passes no keywords to inverse_transform: the vectorizer's parameter
    # synthesis_n_iter sets the evaluations there.
    pipe = make_pipeline(GramTextureVectorizer(random_state=0, synthesis_n_iter=n_iter,
                                               **options),
                         LandmarkMDS(n_components=2))
    points = pipe.fit_transform(textures)
    midpoint = (points[0] + points[1]) / 2
    [at_midpoint] = pipe.inverse_transform(midpoint[None])
    distances = np.linalg.norm(pipe[0].transform(at_midpoint[None]) - pipe[0].transform(
        textures), axis=1)
    print(f"map: midpoint of A and B at {np.round(midpoint, 4).tolist()}, image "
          f"{at_midpoint.shape}, Eq. 4 distances to A, B, A', B': "
          f"{np.round(distances, 4).tolist()}")

    figure = Figure(figsize=(10, 4.6), layout="constrained")
    axes = figure.subplots(2, 5)
    panels = [(a, "A"), (new[0], "synthesis of A"), (b, "B"), (new[1], "synthesis of B"),
              (at_midpoint, "map midpoint A-B")]
    panels += [(m, f"morph t={float(s):.2f}") for m, s in zip(morphs, t[:, 0], strict=True)]
    for axis, (image, title) in zip(axes.ravel(), panels, strict=True):
        axis.set_axis_off()
        axis.imshow(image, cmap="gray")
        axis.set_title(title, fontsize=9)
    figure.savefig(args.out, dpi=80)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
