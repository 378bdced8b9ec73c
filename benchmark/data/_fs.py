"""Atomic file-system helpers shared by the data layer (private)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmark.atomic import atomic_write_text as write_text_atomic  # noqa: F401  (re-export)

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` without pickles (the caller writes into a temporary folder, so no rename here)."""
    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


@contextlib.contextmanager
def staging_dir(dest: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``dest``; removed on exit whatever happens.

    The caller builds its output inside and moves it into place with :func:`replace_dir`
    before leaving the block, so a failure leaves nothing half-written at ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(src: Path, dest: Path) -> None:
    """Move the finished folder ``src`` to ``dest``, replacing any folder already there.

    ``src`` and ``dest`` must be on the same file system (use :func:`staging_dir`). An old
    ``dest`` is first renamed aside and deleted only after the new folder is in place.
    """
    src, dest = Path(src), Path(dest)
    old: Path | None = None
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old / dest.name)
    os.replace(src, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
