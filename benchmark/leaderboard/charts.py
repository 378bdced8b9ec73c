"""The charts of the pages, built on :mod:`benchmark.leaderboard.plots`.

Deletion and insertion curves (:func:`curve_charts`), runtime against deletion
(:func:`runtime_scatter`) and the randomisation cascade of the sanity check (:func:`cascade_chart`).
Each returns inline SVG (:class:`markupsafe.Markup`) whose text ``plots`` escapes. Curves are
p(anomalous) in [0, 1] against the fraction of voxels removed or restored, in [0, 1]; runtimes are
median seconds per clip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard.columns import ARROWS
from benchmark.leaderboard.views import SubmissionView
from benchmark.results import SubmissionResult

CURVE_X_LABELS: Mapping[str, str] = {
    "deletion": "fraction of the clip's voxels removed (most-attributed first)",
    "insertion": "fraction of the clip's voxels restored (most-attributed first)",
}
CURVE_X_FALLBACK = "threshold step 1 \u2212 \u03c4 / max E (voxel fractions not recorded in these results)"
CURVE_Y_LABEL = "p(anomalous)"
GREY = "#c9c9c9"
"""The colour of the per-clip curves behind a submission's mean curve, and of the other methods' band."""
VERBS: Mapping[str, str] = {"deletion": "replaced by the baseline", "insertion": "restored from the input"}
MARKER_EVERY = 5
"""A marker every this many points of a mean curve (the grid has 51)."""

CASCADE_THRESHOLD_STYLE = plots.Style("#b0b0b0", "8 4")
CASCADE_X_LABEL = "cascade step (0 = trained model; last = every block random)"
CASCADE_Y_LABEL = "similarity to the trained model's map"


def curve_xs(curves: Mapping[str, Any], n: int) -> list[float]:
    """The ``n`` x positions of a threshold-indexed curve: ``1 - threshold`` from ``curves.json``, else
    evenly in [0, 1]."""
    thresholds = curves.get("thresholds")
    if isinstance(thresholds, list) and len(thresholds) == n:
        return [1.0 - float(t) for t in thresholds]
    return [i / max(n - 1, 1) for i in range(n)]


def _fraction_block(curves: Mapping[str, Any]) -> Mapping[str, Any] | None:
    block = curves.get("fraction")
    return block if isinstance(block, Mapping) and isinstance(block.get("grid"), list) else None


def has_fractions(result: SubmissionResult) -> bool:
    """Whether ``curves.json`` records the fraction of voxels of each point (:data:`benchmark.results`)."""
    return _fraction_block(result.curves or {}) is not None


def mean_curve(result: SubmissionResult, kind: str, by_fraction: bool) -> tuple[list[float], list[float]]:
    """The mean ``kind`` curve: on the fraction-of-voxels grid (``by_fraction``) or per threshold step."""
    curves = result.curves or {}
    if by_fraction:
        block = _fraction_block(curves) or {}
        ys = block.get(f"{kind}_mean") or []
        return [float(x) for x in block.get("grid") or []][: len(ys)], [float(y) for y in ys]
    mean = (curves.get(kind) or {}).get("mean")
    if not isinstance(mean, list) or not mean:
        return [], []
    return curve_xs(curves, len(mean)), [float(y) for y in mean]


def clip_curves(result: SubmissionResult, kind: str, by_fraction: bool) -> list[tuple[str, list[float], list[float]]]:
    """Every clip's ``kind`` curve as ``(clip_id, xs, ys)``: x the clip's own fraction of voxels at each
    threshold (``by_fraction``), else the threshold step."""
    curves = result.curves or {}
    per_clip = (curves.get(kind) or {}).get("per_clip") or {}
    fractions = ((_fraction_block(curves) or {}).get("per_clip") or {}) if by_fraction else {}
    out = []
    for clip_id, ys in sorted(per_clip.items()):
        xs = fractions.get(clip_id) if by_fraction else curve_xs(curves, len(ys))
        if xs is not None and len(xs) == len(ys):
            out.append((clip_id, [float(x) for x in xs], [float(y) for y in ys]))
    return out


def _better(spec: Any) -> str:
    return {"higher": "a higher score is better", "lower": "a lower score is better"}.get(
        getattr(spec, "direction", None), ""
    )


def curve_charts(
    views: Sequence[SubmissionView],
    results: Mapping[str, SubmissionResult],
    metrics_by_name: Mapping[str, Any],
    chart_prefix: str,
    per_clip: bool = False,
) -> list[Markup]:
    """Deletion and insertion mean curves of ``views``; with ``per_clip``, every clip's curve in grey too.

    The x axis is the fraction of the clip's voxels removed or restored when every result records it,
    else the threshold step (said on the axis). Each mean curve has its own colour, dash pattern and
    markers, repeated in the legend, so the curves can be told apart without colour.

    Args:
        views: the submissions to draw, in legend order.
        results: submission name -> its result (for ``curves.json``).
        metrics_by_name: metric name -> its declaration (label and direction of ``deletion``/``insertion``).
        chart_prefix: the charts' ids are ``<chart_prefix>-deletion`` and ``<chart_prefix>-insertion``.
        per_clip: also draw every clip's curve, in grey and without a legend entry.
    """
    by_fraction = bool(views) and all(has_fractions(results[v.name]) for v in views)
    charts = []
    for kind in ("deletion", "insertion"):
        spec = metrics_by_name.get(kind)
        label = getattr(spec, "label", kind)
        series = []
        for v in views:
            result = results[v.name]
            if per_clip:
                for clip_id, xs, ys in clip_curves(result, kind, by_fraction):
                    series.append(plots.Series(f"clip {clip_id}", xs, ys, plots.Style(GREY), in_legend=False,
                                               width=1.0))
            xs, ys = mean_curve(result, kind, by_fraction)
            if ys:
                series.append(
                    plots.Series(
                        f"{v.display_name} (mean over clips)" if per_clip else v.display_name,
                        xs,
                        ys,
                        v.style,
                        marker_every=MARKER_EVERY,
                    )
                )
        title = f"{label} curve" + (": every clip (grey) and the mean" if per_clip else ": mean over clips")
        charts.append(
            plots.line_chart(
                series,
                chart_id=f"{chart_prefix}-{kind}",
                title=title,
                x_label=CURVE_X_LABELS[kind] if by_fraction else CURVE_X_FALLBACK,
                y_label=CURVE_Y_LABEL,
                description=f"{label}: the model's p(anomalous) as voxels are {VERBS[kind]}, most-attributed "
                f"first; the score is the mean over the 51 thresholds of p(x) minus this curve, and "
                f"{_better(spec)}.",
            )
        )
    return charts


def curve_panels(
    views: Sequence[SubmissionView],
    results: Mapping[str, SubmissionResult],
    metrics_by_name: Mapping[str, Any],
    kind: str,
) -> list[Markup]:
    """Small multiples: one panel per submission, its mean ``kind`` curve over the grey band that the other
    submissions' mean curves span. Readable without colour and without a legend."""
    by_fraction = bool(views) and all(has_fractions(results[v.name]) for v in views)
    curves = {v.name: mean_curve(results[v.name], kind, by_fraction) for v in views}
    curves = {n: c for n, c in curves.items() if c[1]}
    spec = metrics_by_name.get(kind)
    label = getattr(spec, "label", kind)
    panels = []
    for v in views:
        if v.name not in curves:
            continue
        xs, ys = curves[v.name]
        others = [c[1] for n, c in curves.items() if n != v.name and len(c[1]) == len(ys)]
        series = []
        if others:
            lo = [min(o[i] for o in others) for i in range(len(ys))]
            hi = [max(o[i] for o in others) for i in range(len(ys))]
            series.append(plots.Series("range of the other submissions", xs, lo, plots.Style("#dcdfe3"),
                                       in_legend=False, upper=hi))
        series.append(plots.Series(v.display_name, xs, ys, plots.Style("#1b1f24", "", ""), in_legend=False,
                                   width=2.2))
        cell = v.cells.get(kind)
        score = f" \u00b7 {label} {cell.text}" if cell is not None and cell.value is not None else ""
        panels.append(
            plots.line_chart(
                series,
                chart_id=f"panel-{kind}-{v.name}",
                title=f"{v.display_name}{score}",
                x_label="fraction of voxels" if by_fraction else "threshold step",
                y_label="p",
                description=f"{v.display_name}'s mean {label.lower()} curve (black) over the range of the other "
                "submissions' mean curves (grey band).",
                width=250,
                plot_height=110,
            )
        )
    return panels


def runtime_scatter(views: Sequence[SubmissionView], metrics_by_name: Mapping[str, Any]) -> Markup:
    """Each submission's median runtime per clip (s, log axis) against its mean deletion score.

    Submissions missing either figure are left out.
    """
    runtime, deletion = metrics_by_name.get("runtime_s"), metrics_by_name.get("deletion")
    points = []
    for v in views:
        rt, de = v.cells.get("runtime_s"), v.cells.get("deletion")
        if rt is None or de is None or rt.value is None or de.value is None:
            continue
        points.append(plots.Point(v.display_name, rt.value, de.value, v.style))
    x_label = f"{getattr(runtime, 'label', 'runtime')}, median s/clip (log scale)"
    y_label = getattr(deletion, "label", "deletion")
    return plots.scatter_chart(
        points,
        chart_id="scatter-runtime-deletion",
        log_x=True,
        title=f"Cost against faithfulness ({y_label} {ARROWS.get(getattr(deletion, 'direction', ''), '')}, "
        f"runtime {ARROWS.get(getattr(runtime, 'direction', ''), '')})",
        x_label=x_label,
        y_label=y_label,
        description="Each submission's median runtime per clip (logarithmic axis) against its mean "
        "deletion score.",
    )


def cascade_curves(record: Mapping[str, Any], basis: str) -> tuple[list[float], list[float]]:
    """Mean Spearman and SSIM per cascade step of a sanity record on ``basis`` (``"scored"`` or
    ``"absolute"``), with step 0 (the trained model, similarity 1) first: two lists of ``n_steps + 1``."""
    rho = [1.0] + [float(s[basis]["spearman"]["mean"]) for s in record["steps"]]
    ssim = [1.0] + [float(s[basis]["ssim"]["mean"]) for s in record["steps"]]
    return rho, ssim


def cascade_chart(
    record: Mapping[str, Any], *, title: str, chart_id: str, style: plots.Style, small: bool = False
) -> Markup:
    """Spearman (solid) and SSIM (dashed) of the scored map against the cascade step, and the threshold.

    ``record`` is a ``sanity.json`` record of status ``ok`` (:mod:`benchmark.harness.sanity`). The full chart
    also draws the Spearman of ``|sum_c A|`` (dotted) and a legend; the small multiple draws the two
    scored-map curves and the threshold, without a legend (the index page explains them).
    """
    steps = record["steps"]
    xs = list(range(len(steps) + 1))
    rho, ssim = cascade_curves(record, "scored")
    threshold = float(record["threshold"])
    series = [
        plots.Series("Spearman, E", xs, rho, plots.Style(style.color), in_legend=not small),
        plots.Series("SSIM, E", xs, ssim, plots.Style(style.color, "6 3"), in_legend=not small),
    ]
    if not small:
        abs_rho, _ = cascade_curves(record, "absolute")
        series.append(plots.Series("Spearman, |\u03a3c A|", xs, abs_rho, plots.Style("#666666", "2 3")))
    series.append(
        plots.Series(
            f"pass threshold {threshold:g}",
            [xs[0], xs[-1]],
            [threshold, threshold],
            CASCADE_THRESHOLD_STYLE,
            in_legend=not small,
        )
    )
    if small:
        ticks = [(float(x), str(x)) for x in xs]
    else:
        ticks = [(0.0, "trained")] + [(float(s["step"]), str(s["step"])) for s in steps]
    return plots.line_chart(
        series,
        chart_id=chart_id,
        title=title,
        x_label="cascade step" if small else CASCADE_X_LABEL,
        y_label="similarity" if small else CASCADE_Y_LABEL,
        description="Rank correlation (Spearman) and structural similarity (SSIM) between the submission's "
        "maps on the trained model and on progressively randomised models (blocks re-initialised from the "
        "logits down); the check passes when the mean Spearman at full randomisation is below "
        f"{threshold:g}.",
        width=280 if small else 560,
        plot_height=130 if small else 240,
        x_ticks=ticks,
    )
