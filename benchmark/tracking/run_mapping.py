"""How one ``metrics.json`` summary maps onto an MLflow run: its params, metrics and tags.

:func:`run_payload` returns them as a :class:`RunPayload`; :mod:`benchmark.tracking.sync` logs it.
Pure functions over plain mappings: no MLflow import, no I/O. The mapping (summarised in the
README's "Results in MLflow") is:

* params: the submission's merged ``params`` as ``params.<key>``; the run settings found in
  ``provenance`` (:data:`RUN_SETTING_KEYS`) as ``run.<key>``; ``n_clips``.
* metrics: every ``metrics.<name>`` as ``<name>`` (the figure the leaderboard shows: the mean over clips, and
  over the seeds for a stochastic submission, with seed 0's mean as ``<name>.seed0``), ``<name>.ci_low``,
  ``<name>.ci_high``; the numeric ``cost`` figures as ``cost.<key>``; ``degenerate_clips`` (a count); the
  numeric per-seed figures as ``seeds.<...>``.
* tags: ``benchmark.status``, ``benchmark.family``, ``benchmark.failure`` (failed runs); every
  ``provenance`` leaf as ``provenance.<key>`` (versions, hashes, split id, hardware, ...); the
  submission metadata as ``submission.<key>``; non-numeric cost figures (device) as ``cost.<key>``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmark.tracking.tags import TAG_FAILURE, TAG_FAMILY, TAG_STATUS

# MLflow 3.x limits (mlflow.utils.validation); values longer than these are cut with a marker.
_MAX_KEY = 250
_MAX_PARAM_VALUE = 6000
_MAX_TAG_VALUE = 8000
_TRUNCATED = "...[truncated]"
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")

RUN_SETTING_KEYS: tuple[str, ...] = (
    "profile",
    "input",
    "input_size",
    "model_width",
    "pretrained",
    "baseline",
    "seed",
    "seeds",
    "n_thresholds",
    "eval_clips",
    "bootstrap",
    "threads",
)
"""``provenance`` entries that describe how the run was configured: logged as params ``run.<key>``
(and, like every provenance entry, as tags ``provenance.<key>``)."""

_SECTIONS = frozenset(
    {
        "schema",
        "params",
        "status",
        "failure",
        "n_clips",
        "metrics",
        "cost",
        "degenerate_clips",
        "seeds",
        "provenance",
    }
)
"""Top-level ``metrics.json`` keys with their own mapping; every other key is submission metadata."""

_METADATA_CONTAINERS = frozenset({"submission", "metadata"})


@dataclass(frozen=True)
class RunPayload:
    """What one run logs besides its artifacts. All keys are valid MLflow keys."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def mlflow_key(*parts: str) -> str:
    """Join ``parts`` with dots into a valid MLflow key (other characters become ``_``)."""
    key = ".".join(_BAD_KEY_CHARS.sub("_", str(p)) for p in parts if str(p) != "")
    key = re.sub(r"\.{2,}", ".", key).strip(".")
    return (key or "_")[:_MAX_KEY]


def _text(value: Any, limit: int) -> str:
    if isinstance(value, str):
        out = value
    elif value is None or isinstance(value, (bool, int, float)):
        out = json.dumps(value)
    else:
        out = json.dumps(value, sort_keys=True, default=str)
    if len(out) > limit:
        out = out[: limit - len(_TRUNCATED)] + _TRUNCATED
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def flatten(obj: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Leaves of nested mappings as ``(path, value)``; lists are leaves (logged as JSON)."""
    if isinstance(obj, Mapping):
        for key in sorted(obj, key=str):
            yield from flatten(obj[key], (*prefix, str(key)))
    elif prefix:
        yield prefix, obj


def _metric(value: Any) -> float | None:
    if not _is_number(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _failure_text(failure: Any) -> str | None:
    if not isinstance(failure, Mapping):
        return None if failure in (None, "") else str(failure)
    where = f"clip {failure.get('clip_id')}" if failure.get("clip_id") is not None else "setup"
    kind = failure.get("kind") or "error"
    return f"{where}, {kind}: {failure.get('message', '')}".strip()


def run_payload(summary: Mapping[str, Any]) -> RunPayload:
    """Map one ``metrics.json`` summary (a mapping) to a :class:`RunPayload`.

    Missing sections are skipped (a failed submission may have no metrics); ``None`` and
    non-finite numbers are never logged as metrics.
    """
    params: dict[str, str] = {}
    metrics: dict[str, float] = {}
    tags: dict[str, str] = {}

    def metric(key: str, value: Any) -> None:
        v = _metric(value)
        if v is not None:
            metrics[key] = v

    for path, value in flatten(summary.get("params") or {}):
        params[mlflow_key("params", *path)] = _text(value, _MAX_PARAM_VALUE)
    if summary.get("n_clips") is not None:
        params["n_clips"] = _text(summary["n_clips"], _MAX_PARAM_VALUE)

    provenance = summary.get("provenance") or {}
    if isinstance(provenance, Mapping):
        for path, value in flatten(provenance):
            tags[mlflow_key("provenance", *path)] = _text(value, _MAX_TAG_VALUE)
            if path[0] in RUN_SETTING_KEYS:
                params[mlflow_key("run", *path)] = _text(value, _MAX_PARAM_VALUE)

    seeds = summary.get("seeds") if isinstance(summary.get("seeds"), Mapping) else {}
    seed_mean = seeds.get("mean") if isinstance(seeds.get("mean"), Mapping) else {}
    per_seed = seeds.get("means") if isinstance(seeds.get("means"), Mapping) else {}
    n_seeds = seeds.get("n") if _is_number(seeds.get("n")) else 1
    for name, stats in sorted((summary.get("metrics") or {}).items()):
        if isinstance(stats, Mapping):
            stats = dict(stats)
            if isinstance(seed_mean.get(name), Mapping):  # the leaderboard's figure: the mean over seeds
                metric(mlflow_key(name, "seed0"), stats.get("mean"))
                stats.update({k: v for k, v in seed_mean[name].items() if k in ("mean", "ci_low", "ci_high")})
            elif n_seeds > 1 and isinstance(per_seed.get(name), list) and per_seed[name]:
                values = [_metric(v) for v in per_seed[name]]
                if all(v is not None for v in values):
                    metric(mlflow_key(name, "seed0"), stats.get("mean"))
                    stats["mean"] = sum(values) / len(values)
            metric(mlflow_key(name), stats.get("mean"))
            for stat, value in sorted(stats.items()):
                if stat != "mean":
                    metric(mlflow_key(name, stat), value)
        else:
            metric(mlflow_key(name), stats)

    for path, value in flatten(summary.get("cost") or {}):
        if _is_number(value):
            metric(mlflow_key("cost", *path), value)
        else:
            tags[mlflow_key("cost", *path)] = _text(value, _MAX_TAG_VALUE)

    degenerate = summary.get("degenerate_clips")
    if isinstance(degenerate, (list, tuple)):
        metric("degenerate_clips", len(degenerate))
    else:
        metric("degenerate_clips", degenerate)

    for path, value in flatten(summary.get("seeds") or {}):
        metric(mlflow_key("seeds", *path), value)

    for key in sorted(k for k in summary if k not in _SECTIONS):
        value = summary[key]
        if not isinstance(value, Mapping):
            leaves = [((key,), value)]
        else:  # {"submission": {...}} and {"metadata": {...}} are flattened without their own name
            leaves = list(flatten(value, () if key in _METADATA_CONTAINERS else (key,)))
        for path, leaf in leaves:
            tags[mlflow_key("submission", *path)] = _text(leaf, _MAX_TAG_VALUE)

    tags[TAG_STATUS] = str(summary.get("status", "unknown"))
    family = tags.get("submission.family")
    if family is not None:
        tags[TAG_FAMILY] = family
    failure = _failure_text(summary.get("failure"))
    if failure:
        tags[TAG_FAILURE] = _text(failure, _MAX_TAG_VALUE)
    commit = next(
        (
            tags[k]
            for k in ("provenance.git_commit", "provenance.git.commit", "provenance.commit")
            if k in tags
        ),
        None,
    )
    if commit is not None:
        tags["mlflow.source.git.commit"] = commit
    description = tags.get("submission.description")
    if description:
        tags["mlflow.note.content"] = description
    return RunPayload(params=params, metrics=metrics, tags=tags)
