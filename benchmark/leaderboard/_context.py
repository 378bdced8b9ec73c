"""Turn results into the plain objects the templates render (private to :mod:`benchmark.leaderboard`)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard.agreement import rank_agreement
from benchmark.leaderboard.paper import CITATION, PAPER_LABELS, PaperTable
from benchmark.leaderboard.ranking import MEDIAN_METRICS, Standings, column_value
from benchmark.results import GALLERY_DIR, SubmissionResult

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ARROWS = {"higher": "\u2191", "lower": "\u2193"}

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


@dataclass(frozen=True)
class Column:
    """A metric column of the main table."""

    name: str
    label: str
    family: str
    direction: str
    arrow: str
    description: str
    primary: bool
    is_median: bool


@dataclass(frozen=True)
class Cell:
    """One figure of the main table; ``sort`` is the number the page sorts by ("" when missing)."""

    text: str
    ci: str
    rank: int | None
    best: bool
    tied: bool
    sort: str
    spread: str = ""
    """The spread of the clip mean across seeds, for stochastic submissions ("" otherwise)."""


@dataclass
class SubmissionView:
    """Everything the pages show about one submission."""

    name: str
    page: str
    display_name: str
    family: str
    authors: list[str]
    description: str
    url: str | None
    params: list[tuple[str, str]]
    status: str
    failure: dict[str, Any] | None
    n_clips: int
    degenerate_clips: int
    cost: list[tuple[str, str]]
    style: plots.Style
    cells: dict[str, Cell] = field(default_factory=dict)
    overall_rank: int | None = None
    mean_rank: float | None = None
    gallery: list[dict[str, Any]] = field(default_factory=list)
    per_clip_columns: list[str] = field(default_factory=list)
    per_clip_rows: list[list[tuple[str, str]]] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    paper_label: str | None = None
    sanity: Any = None
    """The randomisation check (:class:`benchmark.leaderboard._sanity.SanityView`), set by the renderer."""


def fmt(value: Any, digits: int = 4) -> str:
    """A figure as the tables print it: ``digits`` significant digits, scientific below 0.01.

    Missing or non-finite values print as an em dash.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "\u2014"
    if not math.isfinite(v):
        return "\u2014"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) < 0.01:
        return f"{v:.{max(digits - 2, 1)}e}"
    return f"{v:.{digits}g}"


def check_name(result: SubmissionResult) -> str:
    """The submission's folder name, which becomes a file name of the site."""
    if not NAME_RE.match(result.name):
        raise ValueError(
            f"{result.folder}: the folder name {result.name!r} cannot name a page; rename it to "
            "letters, digits, '_', '.' and '-' (starting with a letter or digit)."
        )
    return result.name


def safe_url(url: Any) -> str | None:
    """``url`` when it is an absolute http(s) address, else ``None`` (never a ``javascript:`` link)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    return url if re.match(r"^https?://[^\s/]+", url, re.IGNORECASE) else None


def _authors(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    return [str(a) for a in raw]


def _cost_rows(cost: Mapping[str, Any]) -> list[tuple[str, str]]:
    labels = {
        "runtime_median_s": "Runtime, median (s/clip)",
        "runtime_total_s": "Runtime, total (s)",
        "forward_samples_per_clip": "Forward samples per clip",
        "backward_samples_per_clip": "Backward samples per clip",
        "device": "Device",
        "threads": "Threads",
        "stage_wall_s": "Stage wall time (s)",
    }
    rows = []
    for key in [*labels, *sorted(set(cost) - set(labels))]:
        if key in cost:
            v = cost[key]
            rows.append((labels.get(key, key), fmt(v) if isinstance(v, (int, float)) else str(v)))
    return rows


def columns_from_spec(metrics: Sequence[Any]) -> list[Column]:
    cols = []
    for spec in metrics:
        cols.append(
            Column(
                name=spec.name,
                label=getattr(spec, "label", spec.name),
                family=getattr(spec, "family", ""),
                direction=spec.direction,
                arrow=ARROWS[spec.direction],
                description=getattr(spec, "description", ""),
                primary=bool(getattr(spec, "primary", False)),
                is_median=spec.name in MEDIAN_METRICS,
            )
        )
    return cols


def column_groups(columns: Sequence[Column]) -> list[tuple[str, int]]:
    """Consecutive columns of one family: ``[(family, span), ...]``."""
    groups: list[tuple[str, int]] = []
    for c in columns:
        if groups and groups[-1][0] == c.family:
            groups[-1] = (c.family, groups[-1][1] + 1)
        else:
            groups.append((c.family, 1))
    return groups


def _cell(result: SubmissionResult, col: Column, standings: Standings) -> Cell:
    cs = standings.columns[col.name]
    value = column_value(result, col.name)
    entry = (result.summary.get("metrics") or {}).get(col.name) or {}
    if col.is_median:
        total = (result.summary.get("cost") or {}).get("runtime_total_s")
        ci = f"total {fmt(total)} s" if total is not None else ""
    elif entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        ci = f"[{fmt(entry['ci_low'], 3)}, {fmt(entry['ci_high'], 3)}]"
    else:
        ci = ""
    present = math.isfinite(value)
    seeds = result.summary.get("seeds") or {}
    spread = ""
    if int(seeds.get("n", 1) or 1) > 1 and col.name in (seeds.get("spread") or {}):
        spread = f"seeds \u00b1{fmt(seeds['spread'][col.name]['std'], 3)} (n={seeds['n']})"
    return Cell(
        text=fmt(value),
        ci=ci,
        rank=cs.ranks.get(result.name) if present else None,
        best=result.name in cs.best,
        tied=result.name in cs.tied_best,
        sort=repr(value) if present else "",
        spread=spread,
    )


def _gallery(result: SubmissionResult) -> list[dict[str, Any]]:
    index = result.folder / GALLERY_DIR / "index.json"
    if not index.is_file():
        return []
    try:
        entries = json.loads(index.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{index}: not valid JSON ({exc}); re-run the submission's stage.") from exc
    if not isinstance(entries, list):
        raise ValueError(f"{index}: expected a list of {{clip_id, frame, input, overlay}}; re-run its stage.")
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not {"clip_id", "input", "overlay"} <= set(e):
            raise ValueError(
                f"{index}: entry {i} lacks clip_id/input/overlay; re-run the submission's stage."
            )
        files = {}
        for key in ("input", "overlay"):
            rel = PurePosixPath(str(e[key]))
            if rel.is_absolute() or ".." in rel.parts or len(rel.parts) != 1:
                raise ValueError(f"{index}: entry {i} {key}={e[key]!r} must be a file name inside gallery/.")
            src = result.folder / GALLERY_DIR / rel.name
            if not src.is_file():
                raise ValueError(f"{index}: entry {i}: {src} is missing; re-run the submission's stage.")
            files[key] = src
        out.append(
            {
                "clip_id": str(e["clip_id"]),
                "frame": e.get("frame"),
                "input_src": files["input"],
                "overlay_src": files["overlay"],
                "input": f"assets/gallery/{result.name}/{files['input'].name}",
                "overlay": f"assets/gallery/{result.name}/{files['overlay'].name}",
            }
        )
    return out


def _curve_xs(curves: Mapping[str, Any], n: int) -> list[float]:
    thresholds = curves.get("thresholds")
    if isinstance(thresholds, list) and len(thresholds) == n:
        return [1.0 - float(t) for t in thresholds]
    return [i / max(n - 1, 1) for i in range(n)]


CURVE_X_LABEL = "1 \u2212 \u03c4 / max E  (most-attributed voxels first)"
CURVE_Y_LABEL = "p(anomalous)"
GREY = "#c9c9c9"
VERBS = {"deletion": "replaced by the baseline", "insertion": "restored from the input"}


def curve_charts(
    views: Sequence[SubmissionView],
    results: Mapping[str, SubmissionResult],
    metrics_by_name: Mapping[str, Any],
    chart_prefix: str,
    per_clip: bool = False,
) -> list[Markup]:
    """Deletion and insertion mean curves of ``views``; with ``per_clip``, every clip's curve in grey too."""
    charts = []
    for kind in ("deletion", "insertion"):
        spec = metrics_by_name.get(kind)
        label = getattr(spec, "label", kind)
        better = {"higher": "a higher score is better", "lower": "a lower score is better"}.get(
            getattr(spec, "direction", None), ""
        )
        series = []
        for v in views:
            curves = results[v.name].curves or {}
            block = curves.get(kind) or {}
            if per_clip:
                for clip_id, ys in sorted((block.get("per_clip") or {}).items()):
                    series.append(
                        plots.Series(
                            f"clip {clip_id}",
                            _curve_xs(curves, len(ys)),
                            ys,
                            plots.Style(GREY),
                            in_legend=False,
                        )
                    )
            mean = block.get("mean")
            if isinstance(mean, list) and mean:
                series.append(
                    plots.Series(
                        f"{v.display_name} (mean over clips)" if per_clip else v.display_name,
                        _curve_xs(curves, len(mean)),
                        mean,
                        v.style,
                    )
                )
        title = f"{label} curve" + (": every clip (grey) and the mean" if per_clip else ": mean over clips")
        charts.append(
            plots.line_chart(
                series,
                chart_id=f"{chart_prefix}-{kind}",
                title=title,
                x_label=CURVE_X_LABEL,
                y_label=CURVE_Y_LABEL,
                description=f"{label}: the model's p(anomalous) as voxels are {VERBS[kind]}, most-attributed "
                f"first; the score is the mean of p(x) minus this curve, and {better}.",
            )
        )
    return charts


def per_clip_table(
    result: SubmissionResult, columns: Sequence[Column]
) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Header and rows ``[(text, sort value), ...]`` of a submission's per-clip scores."""
    df = result.per_clip
    if df is None:
        return [], []
    keys = ["clip_id", *[c.name for c in columns if c.name in df.columns], "degenerate"]
    rows = []
    for rec in df.to_dict("records"):
        row = []
        for k in keys:
            v = rec.get(k)
            if k in ("clip_id", "degenerate"):
                row.append((str(v), str(v)))
            else:
                num = float(v) if isinstance(v, (int, float)) and math.isfinite(float(v)) else None
                row.append((fmt(v), repr(num) if num is not None else ""))
        rows.append(row)
    return keys, rows


def build_views(
    results: Sequence[SubmissionResult], standings: Standings, columns: Sequence[Column]
) -> list[SubmissionView]:
    """One :class:`SubmissionView` per result: ranked ones in overall order, then the failed ones by name."""
    by_name = {r.name: r for r in results}
    failed = sorted(r.name for r in results if not r.ok)
    order = [*standings.order, *failed]
    style_of = dict(zip(order, plots.styles(len(order))))
    views = []
    for name in order:
        r = by_name[name]
        s = r.summary
        params = s.get("params") or {}
        view = SubmissionView(
            name=check_name(r),
            page=f"submissions/{name}.html",
            display_name=str(s.get("display_name") or name),
            family=str(s.get("family") or ""),
            authors=_authors(s.get("authors")),
            description=str(s.get("description") or ""),
            url=safe_url(s.get("url")),
            params=[(str(k), json.dumps(v, sort_keys=True, default=str)) for k, v in sorted(params.items())],
            status=str(s.get("status")),
            failure=s.get("failure") if not r.ok else None,
            n_clips=int(s.get("n_clips") or 0),
            degenerate_clips=int(s.get("degenerate_clips") or 0),
            cost=_cost_rows(s.get("cost") or {}),
            style=style_of[name],
            paper_label=PAPER_LABELS.get(name),
        )
        if r.ok:
            view.cells = {c.name: _cell(r, c, standings) for c in columns}
            view.overall_rank = standings.overall_rank[name]
            view.mean_rank = standings.mean_rank[name]
            view.gallery = _gallery(r)
            view.per_clip_columns, view.per_clip_rows = per_clip_table(r, columns)
        views.append(view)
    return views


def gallery_rows(views: Sequence[SubmissionView]) -> list[dict[str, Any]]:
    """Figure-1 rows: per gallery clip, its input frame and each submission's overlay (table order)."""
    clips: dict[str, dict[str, Any]] = {}
    for v in views:
        for g in v.gallery:
            row = clips.setdefault(
                g["clip_id"],
                {"clip_id": g["clip_id"], "frame": g["frame"], "input": g["input"], "overlays": []},
            )
            row["overlays"].append({"view": v, "overlay": g["overlay"]})
    return list(clips.values())


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: obj}


def _prov_text(v: Any) -> str:
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def provenance_rows(results: Sequence[SubmissionResult]) -> tuple[list[dict[str, Any]], list[str]]:
    """The provenance of all results, each key once.

    Returns ``(rows, disagreements)``: rows ``{key, label, value, values: [(value, [names])], critical}``
    (``values`` has more than one entry where the results disagree) and the labels of the
    :data:`COMPARABILITY_KEYS` on which they disagree.
    """
    per: dict[str, dict[str, list[str]]] = {}
    for r in results:
        for k, v in _flatten(r.summary.get("provenance") or {}).items():
            per.setdefault(k, {}).setdefault(_prov_text(v), []).append(r.name)
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


def paper_comparison(
    views: Sequence[SubmissionView], table: PaperTable, columns: Sequence[Column]
) -> dict[str, Any]:
    """Rows ``{label, view, cells: [(ours, paper)]}`` for the paper's methods, in the paper's order."""
    by_name = {v.name: v for v in views}
    col_by_name = {c.name: c for c in columns}
    cols = [col_by_name[m] for m in table.metrics if m in col_by_name]
    rows = []
    for method in PAPER_LABELS:
        if method not in table.rows:
            continue
        v = by_name.get(method)
        cells = []
        for c in cols:
            ours = v.cells[c.name].text if v is not None and c.name in v.cells else "\u2014"
            cells.append((ours, fmt(table.rows[method][c.name])))
        rows.append({"method": method, "label": PAPER_LABELS[method], "view": v, "cells": cells})
    ours = {
        v.name: {c.name: float(v.cells[c.name].sort) for c in cols if c.name in v.cells and v.cells[c.name].sort}
        for v in views if v.name in PAPER_LABELS
    }
    agreement = [
        {"column": col_by_name[a.metric], "n": a.n, "spearman": fmt(a.spearman, 2), "kendall": fmt(a.kendall, 2),
         "spearman_p": fmt(a.spearman_p, 2), "kendall_p": fmt(a.kendall_p, 2)}
        for a in rank_agreement(ours, table, [c.name for c in cols])
    ]
    return {"columns": cols, "groups": column_groups(cols), "rows": rows, "citation": CITATION,
            "agreement": agreement}
