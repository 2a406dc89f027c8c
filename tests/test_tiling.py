"""Tiled texture vectors of large images: receptive field, exactness against untiled."""

import numpy as np
import pytest
import torch

from sklearn_texture import GramTextureVectorizer
from sklearn_texture._tiling import (
    AUTO_TILE_SIZE,
    AUTO_TILING_PIXELS,
    receptive_field,
    resolve_tile_size,
    tile_margin,
    tiled_texture_vector,
)
from sklearn_texture.backbones import VGG19Backbone
from sklearn_texture.gram import PAPER_LAYERS

# Float rounding of summed tile Gram matrices vs one Gram matrix (measured: 3e-7
# of the largest entry for a 256² image in 96-pixel tiles, random and normalised
# weights alike).
TILED_RTOL = 2e-6


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:256, 0:256] / 256.0
    return np.cos(2 * np.pi * 9 * (xx + 0.4 * yy)) + 0.5 * rng.standard_normal((256, 256))


@pytest.mark.parametrize("layer", ["conv1_1", "conv2_1", "conv3_1", "conv5_1"])
def test_receptive_field_matches_gradient_support(layer):
    """The computed window is exactly the support of d(activation)/d(input).

    All weights positive and a positive input keep every ReLU open, so the
    gradient's support is the full receptive field.
    """
    size, stride, offset = receptive_field(layer)
    network = VGG19Backbone((layer,))
    with torch.no_grad():
        for module in network.features:
            if isinstance(module, torch.nn.Conv2d):
                module.weight.uniform_(0.01, 1.0)
                module.bias.zero_()
    side = stride * (-(-size // stride) + 2)
    image = torch.full((1, 3, side, side), 0.5, requires_grad=True)
    activations = network(image)[0]
    position = activations.shape[-1] // 2
    activations[0, 0, position, position].backward()
    support = np.flatnonzero(image.grad[0, 0].abs().sum(0).numpy() > 0)
    start = stride * position - offset
    assert start > 0 and start + size < side  # the window lies inside the image
    np.testing.assert_array_equal(support, np.arange(start, start + size))


def test_paper_receptive_field_and_margin():
    # conv5_1: 3x3 convs and 2x2 pools give a 156-pixel window on a 16-pixel grid.
    assert receptive_field("conv5_1") == (156, 16, 70)
    assert tile_margin("conv5_1") == 80  # max(70, 156 - 70 - 16) rounded up to the grid
    assert tile_margin("conv1_1") == 1


def test_tiled_matches_untiled_on_paper_layers(image):
    vectorizer = GramTextureVectorizer(weights="random", random_state=0).fit(image[None])
    whole = vectorizer.transform(image[None])
    tiled = vectorizer.set_params(tile_size=96).transform(image[None])
    assert tiled.dtype == np.float32 and tiled.shape == whole.shape
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=TILED_RTOL * np.abs(whole).max())
    # every layer's block, not only the dominant ones
    start = 0
    for size in vectorizer.layer_sizes_.values():
        block, reference = tiled[0, start:start + size], whole[0, start:start + size]
        assert np.linalg.norm(block - reference) <= TILED_RTOL * np.linalg.norm(reference)
        start += size


def test_margin_smaller_than_receptive_field_is_not_exact(image):
    """The margin matters: cutting it below the receptive field shows at conv5_1."""
    vectorizer = GramTextureVectorizer(weights="random", random_state=0,
                                       layers=("conv5_1",)).fit(image[None])
    network = vectorizer.get_network()
    strip = image[:192, :48]  # tiles along one axis only: 4 cores of 48 rows

    def vector(margin):
        return tiled_texture_vector(strip[..., None], None, network, (1.0,), 48,
                                    vectorizer.device_, margin)

    whole = vectorizer.transform(strip[None])[0]
    exact, short = vector(tile_margin("conv5_1")), vector(32)
    scale = np.linalg.norm(whole)
    assert np.linalg.norm(exact - whole) <= TILED_RTOL * scale
    assert np.linalg.norm(short - whole) > 1e-3 * scale


@pytest.mark.parametrize(("shape", "tile_size"), [((203, 237), 32), ((77, 130), 8)])
def test_tiles_partition_odd_sized_images(shape, tile_size):
    """Cores ending at image borders off the pooling grid still partition every map."""
    rng = np.random.default_rng(2)
    images = rng.random((1, *shape, 3))
    vectorizer = GramTextureVectorizer(weights="random", random_state=1,
                                       layers=("conv1_1", "conv2_2", "conv3_1")).fit(images)
    whole = vectorizer.transform(images)
    tiled = vectorizer.set_params(tile_size=tile_size).transform(images)
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=TILED_RTOL * np.abs(whole).max())


def test_tile_size_rounds_down_to_the_pooling_grid(image):
    crop = image[None, :144, :144]
    vectorizer = GramTextureVectorizer(weights="random", random_state=0,
                                       layers=("conv1_1", "conv4_1")).fit(crop)
    assert resolve_tile_size(70, (256, 256), 8) == 64
    assert resolve_tile_size(3, (256, 256), 8) == 8
    on_grid = vectorizer.set_params(tile_size=64).transform(crop)
    np.testing.assert_array_equal(vectorizer.set_params(tile_size=70).transform(crop), on_grid)


def test_auto_tiles_only_large_images(image):
    side = int(np.sqrt(AUTO_TILING_PIXELS))
    assert resolve_tile_size("auto", (side, side), 16) is None
    assert resolve_tile_size("auto", (side + 1, side), 16) == AUTO_TILE_SIZE
    assert resolve_tile_size(None, (8192, 8192), 16) is None
    assert resolve_tile_size(512, (300, 400), 16) is None  # one tile: the image itself
    vectorizer = GramTextureVectorizer(weights="random", layers=("conv1_1",)).fit(image[None])
    np.testing.assert_array_equal(vectorizer.set_params(tile_size="auto").transform(image[None]),
                                  vectorizer.set_params(tile_size=None).transform(image[None]))


def test_mixed_list_keeps_row_order(image):
    vectorizer = GramTextureVectorizer(weights="random", random_state=0, tile_size=48,
                                       layers=("conv1_1", "conv2_1")).fit(image[None])
    small = image[:24, :24]
    rows = vectorizer.transform([image[:160, :160], small, image[:100, :90]])
    reference = vectorizer.set_params(tile_size=None)
    expected = [reference.transform(x[None])[0]
                for x in (image[:160, :160], small, image[:100, :90])]
    np.testing.assert_allclose(rows, np.stack(expected), rtol=0,
                               atol=TILED_RTOL * np.abs(rows).max())


def test_tiled_intensity_conventions(image):
    """Min-max scaling uses the whole image's range, not each tile's; uint8 and uniform too."""
    vectorizer = GramTextureVectorizer(weights="random", random_state=0,
                                       layers=("conv1_1", "conv2_1")).fit(image[None])
    as_uint8 = np.round((image - image.min()) / np.ptp(image) * 255).astype(np.uint8)
    # A uniform image sums equal terms, so the untiled float32 Gram product's rounding
    # adds up coherently (measured 3.7e-6 of the largest entry): 1e-5 there.
    for batch, rtol in ((image[None] * 3.0 + 1.0, TILED_RTOL), (as_uint8[None], TILED_RTOL),
                        (np.full((1, 96, 96), 0.3), 1e-5)):
        whole = vectorizer.set_params(tile_size=None).transform(batch)
        tiled = vectorizer.set_params(tile_size=32).transform(batch)
        np.testing.assert_allclose(tiled, whole, rtol=0, atol=rtol * np.abs(whole).max())


@pytest.mark.parametrize("tile_size", [0, -5, "big", 1.5])
def test_bad_tile_size(tile_size):
    with pytest.raises(ValueError, match="tile_size"):
        GramTextureVectorizer(weights="random", tile_size=tile_size).fit(np.zeros((1, 16, 16)))


def test_paper_layers_constant():
    assert PAPER_LAYERS[-1] == "conv5_1"
