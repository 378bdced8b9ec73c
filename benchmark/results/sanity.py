"""The sanity records: ``sanity/<name>/sanity.json``, the model-parameter randomisation test of one submission.

Written atomically by :mod:`benchmark.harness.sanity`; read back here by the leaderboard, without torch.
The schema is described in :func:`benchmark.harness.sanity.sanity_check`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmark.metrics.similarity import VERDICTS

__all__ = ["SANITY_FILE", "SANITY_SCHEMA", "load_sanity", "read_sanity"]

SANITY_FILE = "sanity.json"
SANITY_SCHEMA = 1


def read_sanity(folder: Path) -> dict[str, Any]:
    """Read ``folder/sanity.json`` (errors name the file and the fix)."""
    path = Path(folder) / SANITY_FILE
    if not path.is_file():
        raise ValueError(f"{path}: missing; run `benchmark sanity {Path(folder).name}`.")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON ({exc}); delete {folder} and re-run its sanity stage."
        ) from exc
    if not isinstance(record, dict) or record.get("schema") != SANITY_SCHEMA:
        got = record.get("schema") if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"{path}: schema {got!r}, expected {SANITY_SCHEMA}; re-run its sanity stage.")
    if record.get("status") == "ok":
        if (
            record.get("verdict") not in VERDICTS
            or not isinstance(record.get("steps"), list)
            or not record["steps"]
        ):
            raise ValueError(
                f"{path}: an ok record needs a verdict in {VERDICTS} and steps; re-run its sanity stage."
            )
    elif record.get("status") != "failed":
        raise ValueError(
            f"{path}: status {record.get('status')!r}, expected 'ok' or 'failed'; re-run its stage."
        )
    return record


def load_sanity(root: Path, names: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """``{name: record}`` for every ``root/<name>/sanity.json`` (only ``names`` when given); a missing
    ``root`` or folder is simply absent (the page says "not run")."""
    root = Path(root)
    if not root.is_dir():
        return {}
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if names is not None and folder.name not in names:
            continue
        if (folder / SANITY_FILE).is_file():
            out[folder.name] = read_sanity(folder)
    return out
