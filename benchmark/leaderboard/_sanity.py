"""The randomisation sanity check as the pages show it (private to :mod:`benchmark.leaderboard`).

Reads the records that :mod:`benchmark.sanity` writes (``sanity/<name>/sanity.json``) and turns each
into a :class:`SanityView`: the main table's cell (verdict and Spearman at full randomisation), the
cascade curve for the submission's page, a small multiple for the index page and the per-step table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard._context import fmt

NOT_RUN = "not run"
LABELS = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "inconclusive",
    "failed": "failed",
    NOT_RUN: NOT_RUN,
}
THRESHOLD_STYLE = plots.Style("#b0b0b0", "8 4")
X_LABEL = "cascade step (0 = trained model; last = every block random)"
Y_LABEL = "similarity to the trained model's map"


@dataclass
class SanityView:
    """One submission's sanity check, ready for the templates.

    ``status``: ``pass`` | ``fail`` | ``inconclusive`` (the verdict), ``failed`` (the submission failed
    during the check) or ``not run``. ``sort`` is the main table's sort key (the mean Spearman at full
    randomisation; ``""`` when there is none).
    """

    status: str
    label: str
    spearman: str = "\u2014"
    ci: str = ""
    sort: str = ""
    ssim: str = "\u2014"
    threshold: str = "\u2014"
    n_clips: int = 0
    failure: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    chart: Markup | None = None
    small_chart: Markup | None = None

    @property
    def ran(self) -> bool:
        return self.status in ("pass", "fail", "inconclusive")


def _ci(entry: Mapping[str, Any]) -> str:
    if entry.get("ci_low") is None or entry.get("ci_high") is None:
        return ""
    return f"[{fmt(entry['ci_low'], 3)}, {fmt(entry['ci_high'], 3)}]"


def _curves(record: Mapping[str, Any], basis: str) -> tuple[list[float], list[float]]:
    """Mean Spearman and SSIM per step, with step 0 (the trained model, similarity 1) first."""
    rho = [1.0] + [float(s[basis]["spearman"]["mean"]) for s in record["steps"]]
    ssim = [1.0] + [float(s[basis]["ssim"]["mean"]) for s in record["steps"]]
    return rho, ssim


def cascade_chart(
    record: Mapping[str, Any], *, title: str, chart_id: str, style: plots.Style, small: bool = False
) -> Markup:
    """Spearman (solid) and SSIM (dashed) of the scored map against the cascade step, and the threshold.

    The full chart also draws the Spearman of ``|sum_c A|`` (dotted) and a legend; the small multiple
    draws the two scored-map curves and the threshold, without a legend (the index page explains them).
    """
    steps = record["steps"]
    xs = list(range(len(steps) + 1))
    rho, ssim = _curves(record, "scored")
    threshold = float(record["threshold"])
    series = [
        plots.Series("Spearman, E", xs, rho, plots.Style(style.color), in_legend=not small),
        plots.Series("SSIM, E", xs, ssim, plots.Style(style.color, "6 3"), in_legend=not small),
    ]
    if not small:
        abs_rho, _ = _curves(record, "absolute")
        series.append(plots.Series("Spearman, |\u03a3c A|", xs, abs_rho, plots.Style("#666666", "2 3")))
    series.append(
        plots.Series(
            f"pass threshold {threshold:g}",
            [xs[0], xs[-1]],
            [threshold, threshold],
            THRESHOLD_STYLE,
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
        x_label="cascade step" if small else X_LABEL,
        y_label="similarity" if small else Y_LABEL,
        description="Rank correlation (Spearman) and structural similarity (SSIM) between the submission's "
        "maps on the trained model and on progressively randomised models (blocks re-initialised from the "
        "logits down); the check passes when the mean Spearman at full randomisation is below "
        f"{threshold:g}.",
        width=280 if small else 560,
        plot_height=130 if small else 240,
        x_ticks=ticks,
    )


def _step_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for s in record["steps"]:
        scored, absolute = s["scored"], s["absolute"]
        rows.append(
            {
                "step": s["step"],
                "label": s["label"],
                "blocks": ", ".join(s.get("blocks") or []),
                "spearman": fmt(scored["spearman"]["mean"], 3),
                "spearman_ci": _ci(scored["spearman"]),
                "ssim": fmt(scored["ssim"]["mean"], 3),
                "ssim_ci": _ci(scored["ssim"]),
                "abs_spearman": fmt(absolute["spearman"]["mean"], 3),
                "abs_ssim": fmt(absolute["ssim"]["mean"], 3),
                "constant": int(scored.get("constant") or 0),
            }
        )
    return rows


def sanity_view(
    record: Mapping[str, Any] | None, *, name: str, display_name: str, style: plots.Style
) -> SanityView:
    """The view of one record (``None``: the check was not run)."""
    if record is None:
        return SanityView(NOT_RUN, LABELS[NOT_RUN])
    if record.get("status") != "ok":
        return SanityView(
            "failed", LABELS["failed"], failure=record.get("failure"), threshold=fmt(record.get("threshold"))
        )
    full = record["full"]
    mean = float(full["spearman"]["mean"])
    short = display_name if len(display_name) <= 30 else display_name[:29] + "\u2026"
    status = str(record["verdict"])
    return SanityView(
        status=status,
        label=LABELS[status],
        spearman=fmt(mean, 3),
        ci=_ci(full["spearman"]),
        sort=repr(mean),
        ssim=fmt(full["ssim"]["mean"], 3),
        threshold=fmt(record["threshold"]),
        n_clips=int((record.get("settings") or {}).get("clips") or 0),
        steps=_step_rows(record),
        chart=cascade_chart(
            record, title=f"Randomisation cascade: {short}", chart_id=f"sanity-{name}", style=style
        ),
        small_chart=cascade_chart(
            record,
            title=f"{short}: {LABELS[status]}",
            chart_id=f"sanity-small-{name}",
            style=style,
            small=True,
        ),
    )


def attach(views: Sequence[Any], records: Mapping[str, Mapping[str, Any]]) -> None:
    """Set ``view.sanity`` on every submission view from ``records`` (``{name: record}``)."""
    for v in views:
        v.sanity = sanity_view(records.get(v.name), name=v.name, display_name=v.display_name, style=v.style)
