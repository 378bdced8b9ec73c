"""Trained-model checkpoints: one file holding the I3D weights and the facts needed to rebuild and trust it.

File layout (``torch.save`` of a plain dict, read back with ``weights_only=True``, so loading never runs
code from the file)::

    {"format": "video-xai-benchmark/i3d", "version": 1, "meta": {...}, "state_dict": {...}}

``meta`` records (see :data:`REQUIRED_META`): ``width``, ``num_classes``, ``dropout``, ``input_size``
``[H, W]``, ``clip_length``, ``profile``, ``pretrained`` (``none`` | ``kinetics`` | a path), ``seed``,
``data_source``, ``split_id`` and ``weights_sha256`` (a hash of the state dict, checked on load). Callers
may add further JSON-like entries (metrics, versions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ._io import atomic_torch_save, state_dict_sha256
from .i3d import I3D

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "REQUIRED_META", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "video-xai-benchmark/i3d"
CHECKPOINT_VERSION = 1
REQUIRED_META: tuple[str, ...] = (
    "input_size", "clip_length", "profile", "pretrained", "seed", "data_source", "split_id",
)
"""Keys the caller must give; ``width``, ``num_classes``, ``dropout`` and ``weights_sha256`` are taken
from the network itself."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, not ours, or does not fit the model it claims to be."""


def save_checkpoint(path: str | Path, net: I3D, meta: Mapping[str, Any]) -> None:
    """Write ``net`` and ``meta`` to ``path`` atomically (temp file beside it, then ``os.replace``).

    Args:
        path: destination, conventionally ``models/model.pt``.
        net: the trained network (its weights are saved from CPU copies; ``net`` is not modified).
        meta: at least :data:`REQUIRED_META`. ``width``/``num_classes``/``dropout`` may be given but must
            agree with ``net``.

    Raises:
        ValueError: a required key is missing, or a given architecture key disagrees with ``net``.
    """
    path = Path(path)
    if not isinstance(net, I3D):
        raise TypeError(f"save_checkpoint({path}): net must be an I3D, got {type(net).__name__}.")
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"save_checkpoint({path}): meta is missing {missing}; required: {list(REQUIRED_META)}.")
    arch = {"width": net.width, "num_classes": net.num_classes, "dropout": net.dropout_p,
            "in_channels": net.in_channels, "final_endpoint": net.final_endpoint, "pool": net.pool_kind,
            "gray_stem": net.gray_stem}
    for key, value in arch.items():
        if key in meta and meta[key] != value:
            raise ValueError(
                f"save_checkpoint({path}): meta[{key!r}] = {meta[key]!r} but the network has {value!r}."
            )
    try:  # plain JSON types only, so that the file loads with weights_only=True and the meta is printable
        full_meta = json.loads(json.dumps(dict(meta), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save_checkpoint({path}): meta must hold JSON-like values only ({exc}).") from exc
    state = {k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}
    full_meta.update(arch)
    full_meta["input_size"] = [int(v) for v in meta["input_size"]]
    full_meta["weights_sha256"] = state_dict_sha256(state)
    atomic_torch_save(
        path, {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "meta": full_meta, "state_dict": state}
    )


def _read(path: Path, map_location: str | torch.device) -> Any:
    if not path.exists():
        raise CheckpointError(
            f"{path}: checkpoint not found. Train the model first (`dvc repro train`) or pass the right path."
        )
    if not path.is_file():
        raise CheckpointError(f"{path}: is not a file; expected a checkpoint written by save_checkpoint.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types (UnpicklingError, RuntimeError, KeyError...) for bad files
        raise CheckpointError(
            f"{path}: unreadable or truncated checkpoint ({type(exc).__name__}: {str(exc)[:200]}). "
            "Delete it and re-run the train stage."
        ) from exc


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[I3D, dict[str, Any]]:
    """Rebuild the network saved by :func:`save_checkpoint`.

    Returns:
        ``(net, meta)``: the :class:`I3D` in eval mode on ``map_location``, and the recorded meta.

    Raises:
        CheckpointError: the file is missing, truncated or unreadable, is not one of our checkpoints, its
            weights do not match its recorded hash, or its state dict does not fit the architecture that
            its meta describes (the message lists the offending keys and shapes).
    """
    path = Path(path)
    blob = _read(path, map_location)
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        hint = ""
        if isinstance(blob, dict) and blob and all(isinstance(v, torch.Tensor) for v in blob.values()):
            hint = " It looks like a bare state dict (pretrained weights?): use benchmark.model.weights for those."
        raise CheckpointError(f"{path}: not a video-xai-benchmark I3D checkpoint (no format tag).{hint}")
    if blob.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {blob.get('version')!r}, this code reads {CHECKPOINT_VERSION}; retrain."
        )
    meta, state = blob.get("meta"), blob.get("state_dict")
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise CheckpointError(f"{path}: checkpoint lacks 'meta' or 'state_dict'; it is damaged. Retrain.")
    try:
        net = I3D(
            num_classes=int(meta["num_classes"]), width=float(meta["width"]),
            dropout=float(meta.get("dropout", 0.5)), in_channels=int(meta.get("in_channels", 3)),
            final_endpoint=str(meta.get("final_endpoint", "Mixed_5c")), pool=str(meta.get("pool", "avg")),
            gray_stem=bool(meta.get("gray_stem", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: meta does not describe an I3D ({exc}).") from exc
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''} ({len(missing)})")
        if unexpected:
            parts.append(
                f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''} ({len(unexpected)})"
            )
        if wrong:
            parts.append(f"shape mismatches {wrong[:5]}{' ...' if len(wrong) > 5 else ''} ({len(wrong)})")
        raise CheckpointError(
            f"{path}: weights do not fit an I3D(width={net.width}, num_classes={net.num_classes}): "
            + "; ".join(parts) + ". The checkpoint comes from another model; retrain or use the matching code."
        )
    recorded = meta.get("weights_sha256")
    if recorded is not None and state_dict_sha256(state) != recorded:
        raise CheckpointError(f"{path}: weights do not match their recorded sha256; the file is corrupt. Retrain.")
    net.load_state_dict(state, strict=True)
    net.to(map_location)
    net.eval()
    return net, dict(meta)
