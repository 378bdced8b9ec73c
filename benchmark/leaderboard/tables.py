"""The tables of a result that the pages print as they are: cost, per-clip scores and provenance.

Each function reads one or more :class:`~benchmark.results.SubmissionResult` and returns rows of text
ready for the templates (the per-clip rows carry their ``data-sort`` text beside the figure). Nothing
here ranks or compares submissions; see :mod:`benchmark.leaderboard.ranking` for that.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from benchmark.leaderboard.columns import Column
from benchmark.leaderboard.formatting import column_decimals, fmt, fmt_fixed, fmt_seconds, sort_text
from benchmark.results import SubmissionResult

COST_LABELS: Mapping[str, str] = {
    "runtime_median_s": "Runtime, median (s/clip)",
    "runtime_total_s": "Runtime, total (s)",
    "forward_samples_per_clip": "Forward samples per clip",
    "backward_samples_per_clip": "Backward samples per clip",
    "device": "Device",
    "threads": "Threads",
    "stage_wall_s": "Stage wall time (s)",
}
"""``metrics.json: cost`` key -> its label, in display order (other keys follow, sorted, as they are)."""

COMPARABILITY_KEYS: tuple[str, ...] = (
    "split_id",
    "checkpoint_hash",
    "data_hash",
    "data_source",
    "profile",
    "input",
    "model_width",
    "baseline",
    "n_thresholds",
)
"""Provenance keys on which every submission must agree for their scores to be comparable."""

PROVENANCE_LABELS: Mapping[str, str] = {
    "benchmark_version": "Benchmark version",
    "git_commit": "Git commit",
    "data_source": "Data source",
    "data_hash": "Data hash (prepared/meta.json)",
    "checkpoint_hash": "Checkpoint hash",
    "split_id": "Split id",
    "profile": "Profile",
    "input": "Input size (H, W)",
    "model_width": "I3D width",
    "baseline": "Perturbation baseline",
    "n_thresholds": "Thresholds N",
    "evaluate_seed": "Evaluation seed",
    "hardware": "Hardware",
    "workers": "Parallel workers",
    "sandbox": "Worker sandbox",
    "packages": "Package",
    "checkpoint_meta": "Checkpoint",
}
"""Top-level provenance key -> its label, in display order (other keys follow, sorted)."""

PER_CLIP_TEXT_KEYS: tuple[str, ...] = ("clip_id", "degenerate")
"""Per-clip columns printed and sorted as text (every other column is a number)."""
PER_CLIP_SECONDS: tuple[str, ...] = ("runtime_s",)
"""Per-clip columns printed as durations with a unit."""
PER_CLIP_COUNTS: tuple[str, ...] = ("forward_samples", "backward_samples")
"""Per-clip columns printed as whole counts."""


def cost_rows(cost: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[(label, text), ...]`` of ``metrics.json: cost`` (seconds, pass counts, device): durations
    (keys ending ``_s``) through :func:`fmt_seconds`, other numbers through :func:`fmt`, anything else
    as ``str``."""
    rows = []
    for key in [*COST_LABELS, *sorted(set(cost) - set(COST_LABELS))]:
        if key in cost:
            v = cost[key]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                text = fmt_seconds(v) if key.endswith("_s") else fmt(v)
            else:
                text = str(v)
            label = COST_LABELS.get(key, key).replace(" (s/clip)", " per clip").replace(" (s)", "")
            rows.append((label, text))
    return rows


def per_clip_table(
    result: SubmissionResult, columns: Sequence[Column]
) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Header and rows of a submission's per-clip scores (``per_clip.csv``).

    Returns:
        ``(keys, rows)``: ``keys`` is ``clip_id``, the metric columns present in the file (in the order
        of ``columns``) and ``degenerate``; each row has one ``(text, data-sort text)`` per key. Numbers
        print through :func:`fmt` and sort by :func:`sort_text` (``""`` when not finite); the text columns
        sort by their text. Every score column prints with one number of decimals
        (:func:`~benchmark.leaderboard.formatting.column_decimals` of its values), the runtime with a unit
        and the pass counts as whole numbers. ``([], [])`` when the result has no per-clip file.
    """
    df = result.per_clip
    if df is None:
        return [], []
    keys = ["clip_id", *[c.name for c in columns if c.name in df.columns], "p_clip", "degenerate"]
    keys = [k for k in keys if k in df.columns]
    decimals = {k: column_decimals(df[k].tolist()) for k in keys if k not in PER_CLIP_TEXT_KEYS}
    rows = []
    for rec in df.to_dict("records"):
        row = []
        for k in keys:
            v = rec.get(k)
            if k in PER_CLIP_TEXT_KEYS:
                row.append((str(v), str(v)))
                continue
            num = float(v) if isinstance(v, (int, float)) and math.isfinite(float(v)) else None
            if k in PER_CLIP_SECONDS:
                text = fmt_seconds(num)
            elif k in PER_CLIP_COUNTS:
                text = fmt(num) if num is None else f"{num:,.0f}"
            else:
                text = fmt_fixed(num, decimals[k])
            row.append((text, sort_text(num)))
        rows.append(row)
    return keys, rows


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of nested mappings under dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: obj}


def _provenance_text(v: Any) -> str:
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def provenance_rows(results: Sequence[SubmissionResult]) -> tuple[list[dict[str, Any]], list[str]]:
    """The provenance of all results, each key once.

    Returns ``(rows, disagreements)``: rows ``{key, label, value, values: [(value, [names])], critical}``
    (``values`` has more than one entry where the results disagree, most common first; ``value`` is the
    one value when they agree, else ``None``) and the labels of the :data:`COMPARABILITY_KEYS` on which
    they disagree.
    """
    per: dict[str, dict[str, list[str]]] = {}
    for r in results:
        for k, v in _flatten(r.summary.get("provenance") or {}).items():
            per.setdefault(k, {}).setdefault(_provenance_text(v), []).append(r.name)
    ordered = [k for k in PROVENANCE_LABELS if k in per]
    ordered += sorted(k for k in per if k not in PROVENANCE_LABELS)
    rows, disagreements = [], []
    for k in ordered:
        values = sorted(per[k].items(), key=lambda kv: (-len(kv[1]), kv[0]))
        head, _, rest = k.partition(".")
        label = PROVENANCE_LABELS.get(head, head) + (f" \u203a {rest}" if rest else "")
        critical = k in COMPARABILITY_KEYS and len(values) > 1
        if critical:
            disagreements.append(label)
        rows.append(
            {
                "key": k,
                "label": label,
                "value": values[0][0] if len(values) == 1 else None,
                "values": values,
                "critical": critical,
            }
        )
    return rows, disagreements
