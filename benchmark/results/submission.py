"""The results folder: the one interface between the harness, the leaderboard and MLflow.

``results/<name>/`` is written by :mod:`benchmark.harness.evaluate` as a whole, atomically
(:func:`benchmark.atomic.atomic_dir`: a temporary sibling folder renamed into place), so a reader sees
either the previous complete result or the new complete one, never a partial one. It holds:

``metrics.json``
    ``schema``, the submission's metadata and merged ``params``, ``status`` (``ok`` | ``failed``),
    ``failure`` (``None`` or ``{clip_id, kind, message, traceback}``), ``n_clips``, ``metrics``
    (``{name: {mean, ci_low, ci_high}}`` for every per-clip metric; directions live in
    :mod:`benchmark.metrics.spec`), ``cost`` (median/total runtime, passes per clip, device,
    threads), ``degenerate_clips``, ``seeds`` (per-seed means for stochastic submissions) and
    ``provenance`` (versions, hashes, split id, profile, hardware).
``per_clip.csv``
    One row per evaluation clip: :data:`PER_CLIP_COLUMNS`.
``curves.json``
    ``thresholds`` (51 normalised thresholds in visiting order) and, for ``deletion`` and
    ``insertion``, the ``mean`` curve and the ``per_clip`` curves keyed by clip id.
``gallery/``
    ``index.json`` (``[{clip_id, frame, input, overlay}]``) and PNGs: the input frame with the
    ground-truth outline and the submission's heatmap over it (positive red, negative blue). An entry
    may also name ``raw``: a ``.npz`` (:data:`GALLERY_RAW_KEYS`) from which the page draws every method
    of a clip on one colour scale.

Files for DVC and the page (written with the result since schema 1's ``scores.json`` release; a reader
must treat each as optional, since older results lack them):

``scores.json``
    :data:`SCORES_FILE`: the slim file ``dvc metrics show/diff`` reads: ``{metric: figure}`` for every
    score metric (the seed mean for a stochastic submission) and ``runtime_s`` (the median), flat and
    numeric; a failed result holds ``{"failed": 1}``. Provenance stays in ``metrics.json``.
``plots/deletion.csv``, ``plots/insertion.csv``
    :data:`PLOTS_DIR`: the mean curve over clips on a common grid of the fraction of voxels removed
    (deletion) or restored (insertion): columns ``fraction`` (0 to 1, step 0.02) and ``p_anomalous``;
    what ``dvc plots show/diff`` draws.
``curves.json: fraction``
    optional: ``{"per_clip": {clip_id: [...]}}``, for each visited threshold the fraction of the clip's
    voxels with ``E >= tau`` (the x position of the curve's point), and ``grid``/``deletion_mean``/
    ``insertion_mean``: the curves of ``plots/``.
``per_clip_seed_mean.csv``
    :data:`SEED_MEAN_FILE`, stochastic submissions only: ``clip_id`` and every score column, each the
    mean of that clip's score over the seeds; ``metrics.json: seeds.mean`` holds
    ``{metric: {mean, ci_low, ci_high}}``, the bootstrap over clips of those seed means.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.metrics.spec import cost_names, score_names

SCHEMA_VERSION = 1
METRICS_FILE = "metrics.json"
PER_CLIP_FILE = "per_clip.csv"
CURVES_FILE = "curves.json"
GALLERY_DIR = "gallery"
SCORES_FILE = "scores.json"
PLOTS_DIR = "plots"
SEED_MEAN_FILE = "per_clip_seed_mean.csv"
FRACTION_GRID_STEP = 0.02
"""Step of the ``fraction`` column of ``plots/*.csv`` (51 points from 0 to 1)."""
GALLERY_RAW_KEYS: tuple[str, ...] = ("frame", "mask", "scored")
"""Arrays of a gallery entry's ``raw`` ``.npz`` (all ``(H, W)`` at the model grid, the shown frame):
``frame`` uint8 grey input, ``mask`` bool ground truth, ``scored`` float32 ``E[t] / max(E)`` with
``E = clip(sum over channels of A, 0)`` and the maximum taken over the whole clip (the scale of the
thresholds; all zero when the map is degenerate)."""

SCORE_COLUMNS: tuple[str, ...] = score_names()
"""The per-clip scores, from the metric registry (every family but cost), in family order."""
COST_COLUMNS: tuple[str, ...] = cost_names()
PER_CLIP_COLUMNS: tuple[str, ...] = (
    "clip_id", "scene", "video", "start", *SCORE_COLUMNS, "frame_index", "degenerate",
    "p_clip", "p_baseline", *COST_COLUMNS,
)


class ResultsError(ValueError):
    """A results folder is missing a file or holds one that does not parse."""


@dataclass(frozen=True)
class SubmissionResult:
    """One submission's complete results, as read back from ``results/<name>/``."""

    name: str
    folder: Path
    summary: dict[str, Any]
    per_clip: pd.DataFrame | None
    curves: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.summary.get("status") == "ok"


def read_result(folder: Path) -> SubmissionResult:
    """Read one ``results/<name>/`` folder (errors name the file and the fix)."""
    folder = Path(folder)
    mfile = folder / METRICS_FILE
    if not mfile.is_file():
        raise ResultsError(f"{mfile}: missing. Re-run the submission's stage: "
                           f"`dvc repro submissions/{folder.name}/dvc.yaml`.")
    try:
        summary = json.loads(mfile.read_text())
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{mfile}: not valid JSON ({exc}); delete the folder and re-run its stage.") from exc
    if summary.get("schema") != SCHEMA_VERSION:
        raise ResultsError(f"{mfile}: schema {summary.get('schema')!r}, expected {SCHEMA_VERSION}; re-run its stage.")
    per_clip = curves = None
    if summary.get("status") == "ok":
        pfile, cfile = folder / PER_CLIP_FILE, folder / CURVES_FILE
        for f in (pfile, cfile):
            if not f.is_file():
                raise ResultsError(f"{f}: missing from a result marked ok; delete {folder} and re-run its stage.")
        per_clip = pd.read_csv(pfile)
        missing = [c for c in PER_CLIP_COLUMNS if c not in per_clip.columns]
        if missing:
            raise ResultsError(f"{pfile}: missing columns {missing}; re-run its stage.")
        curves = json.loads(cfile.read_text())
    return SubmissionResult(folder.name, folder, summary, per_clip, curves)


def load_results(root: Path) -> list[SubmissionResult]:
    """Every complete result under ``root``, sorted by name (temporary folders are ignored)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out.append(read_result(folder))
    return out


def results_digest(folder: Path) -> str:
    """SHA-256 over every file of a results folder (names and bytes, sorted): the MLflow sync key."""
    folder = Path(folder)
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
