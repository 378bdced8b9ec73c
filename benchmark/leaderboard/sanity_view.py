"""The randomisation sanity check as the pages show it.

Reads nothing itself: the renderer loads the records that :mod:`benchmark.harness.sanity` writes
(``sanity/<name>/sanity.json``) and :func:`attach_sanity` turns each into a :class:`SanityView` on its
submission's view: the main table's cell (verdict and mean Spearman at full randomisation), the cascade
chart for the submission's page, a small multiple for the index page and the per-step table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard.charts import cascade_chart
from benchmark.leaderboard.formatting import finite_or_none, fmt, fmt_interval, sort_text
from benchmark.leaderboard.views import SubmissionView

NOT_RUN = "not run"
LABELS: Mapping[str, str] = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "inconclusive",
    "failed": "failed",
    NOT_RUN: NOT_RUN,
}
"""Status -> the label the pages print."""
SHORT_NAME_CHARS = 30
"""Display names longer than this are cut (with an ellipsis) in the charts' titles."""


@dataclass
class SanityView:
    """One submission's sanity check, ready for the templates.

    Attributes:
        status: ``pass`` | ``fail`` | ``inconclusive`` (the verdict), ``failed`` (the submission failed
            during the check) or ``not run``.
        label: the status as printed (:data:`LABELS`).
        spearman_mean: the mean Spearman correlation at full randomisation (the main table's sort key),
            ``None`` when the check did not run.
        ssim_mean: the mean SSIM at full randomisation (``None`` when missing or not finite).
        ci: the 95% interval of ``spearman_mean`` as printed ("" when there is none).
        threshold: the pass threshold as printed.
        n_clips: how many evaluation clips the check used.
        failure: the failure record, for status ``failed``.
        steps: the per-step table rows (text).
        chart: the cascade chart of the submission's page.
        small_chart: the small multiple of the index page.
    """

    status: str
    label: str
    spearman_mean: float | None = None
    ci: str = ""
    ssim_mean: float | None = None
    threshold: str = "\u2014"
    n_clips: int = 0
    failure: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    chart: Markup | None = None
    small_chart: Markup | None = None

    @property
    def ran(self) -> bool:
        """Whether the check reached a verdict."""
        return self.status in ("pass", "fail", "inconclusive")

    @property
    def spearman(self) -> str:
        """``spearman_mean`` as printed (3 significant digits)."""
        return fmt(self.spearman_mean, 3)

    @property
    def ssim(self) -> str:
        """``ssim_mean`` as printed (3 significant digits)."""
        return fmt(self.ssim_mean, 3)

    @property
    def sort(self) -> str:
        """The main table's ``data-sort`` text of ``spearman_mean`` (``""`` when the check did not run)."""
        return sort_text(self.spearman_mean)


def _interval(entry: Mapping[str, Any]) -> str:
    if entry.get("ci_low") is None or entry.get("ci_high") is None:
        return ""
    return fmt_interval(entry["ci_low"], entry["ci_high"])


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
                "spearman_ci": _interval(scored["spearman"]),
                "ssim": fmt(scored["ssim"]["mean"], 3),
                "ssim_ci": _interval(scored["ssim"]),
                "abs_spearman": fmt(absolute["spearman"]["mean"], 3),
                "abs_ssim": fmt(absolute["ssim"]["mean"], 3),
                "constant": int(scored.get("constant") or 0),
            }
        )
    return rows


def build_sanity_view(
    record: Mapping[str, Any] | None, *, name: str, display_name: str, style: plots.Style
) -> SanityView:
    """The view of one ``sanity.json`` record (``None``: the check was not run).

    ``name`` names the charts (``sanity-<name>``, ``sanity-small-<name>``), ``display_name`` titles them
    and ``style`` is the submission's line style.
    """
    if record is None:
        return SanityView(NOT_RUN, LABELS[NOT_RUN])
    if record.get("status") != "ok":
        return SanityView(
            "failed", LABELS["failed"], failure=record.get("failure"), threshold=fmt(record.get("threshold"))
        )
    full = record["full"]
    mean = float(full["spearman"]["mean"])
    short = (
        display_name
        if len(display_name) <= SHORT_NAME_CHARS
        else display_name[: SHORT_NAME_CHARS - 1] + "\u2026"
    )
    status = str(record["verdict"])
    return SanityView(
        status=status,
        label=LABELS[status],
        spearman_mean=mean,
        ci=_interval(full["spearman"]),
        ssim_mean=finite_or_none(full["ssim"]["mean"]),
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


def attach_sanity(views: Sequence[SubmissionView], records: Mapping[str, Mapping[str, Any]]) -> None:
    """Set ``view.sanity`` on every submission view from ``records`` (``{submission name: record}``)."""
    for v in views:
        v.sanity = build_sanity_view(
            records.get(v.name), name=v.name, display_name=v.display_name, style=v.style
        )
