"""Atomic file writes and hashing for the model package (private plumbing)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from benchmark.atomic import atomic_write, atomic_write_json  # noqa: F401  (re-export)


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save(obj, path)`` atomically."""
    atomic_write(path, lambda fh: torch.save(obj, fh))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def state_dict_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over a state dict: every key, dtype, shape and the tensor bytes, in sorted key order.

    Independent of the file container, device and memory layout (tensors are hashed contiguous, on CPU).
    """
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().to("cpu").contiguous()
        h.update(key.encode())
        h.update(str(t.dtype).encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()
