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

CURVE_X_LABEL = "1 \u2212 \u03c4 / max E  (most-attributed voxels first)"
CURVE_Y_LABEL = "p(anomalous)"
GREY = "#c9c9c9"
"""The colour of the per-clip curves behind a submission's mean curve."""
VERBS: Mapping[str, str] = {"deletion": "replaced by the baseline", "insertion": "restored from the input"}

CASCADE_THRESHOLD_STYLE = plots.Style("#b0b0b0", "8 4")
CASCADE_X_LABEL = "cascade step (0 = trained model; last = every block random)"
CASCADE_Y_LABEL = "similarity to the trained model's map"


def curve_xs(curves: Mapping[str, Any], n: int) -> list[float]:
    """The ``n`` x positions of a curve: ``1 - threshold`` from ``curves.json``, else evenly in [0, 1]."""
    thresholds = curves.get("thresholds")
    if isinstance(thresholds, list) and len(thresholds) == n:
        return [1.0 - float(t) for t in thresholds]
    return [i / max(n - 1, 1) for i in range(n)]


def curve_charts(
    views: Sequence[SubmissionView],
    results: Mapping[str, SubmissionResult],
    metrics_by_name: Mapping[str, Any],
    chart_prefix: str,
    per_clip: bool = False,
) -> list[Markup]:
    """Deletion and insertion mean curves of ``views``; with ``per_clip``, every clip's curve in grey too.

    Args:
        views: the submissions to draw, in legend order.
        results: submission name -> its result (for ``curves.json``).
        metrics_by_name: metric name -> its declaration (label and direction of ``deletion``/``insertion``).
        chart_prefix: the charts' ids are ``<chart_prefix>-deletion`` and ``<chart_prefix>-insertion``.
        per_clip: also draw every clip's curve, in grey and without a legend entry.
    """
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
                            curve_xs(curves, len(ys)),
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
                        curve_xs(curves, len(mean)),
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
