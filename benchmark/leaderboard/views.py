"""The view models of the pages: one :class:`SubmissionView` per result, with a :class:`Cell` per column.

:func:`build_views` turns the loaded results and their :class:`~benchmark.leaderboard.ranking.Standings`
into plain objects that the templates read. Figures stay numbers here (a :class:`Cell` holds the column
figure as a float); :mod:`benchmark.leaderboard.formatting` prints them when a page is rendered. The
charts, the sanity check and the paper comparison are added by their own modules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard.columns import Column
from benchmark.leaderboard.formatting import fmt, fmt_interval, sort_text
from benchmark.leaderboard.gallery import GalleryImage, read_gallery
from benchmark.leaderboard.paper import PAPER_LABELS
from benchmark.leaderboard.ranking import Standings, column_value
from benchmark.leaderboard.safety import check_name, safe_url
from benchmark.leaderboard.tables import cost_rows, per_clip_table
from benchmark.results import SubmissionResult

if TYPE_CHECKING:
    from benchmark.leaderboard.sanity_view import SanityView


@dataclass(frozen=True)
class Cell:
    """One figure of the main table.

    Attributes:
        value: the column's figure (the mean over clips; the runtime's median, in seconds per clip), or
            ``None`` when the result has none (missing or not finite). It is also the sort key.
        ci: the text under the figure: the 95% bootstrap interval, or for the runtime the total seconds.
        rank: the competition rank in the column (1 is best; ``None`` when the figure is missing).
        best: whether the figure is the column's best.
        tied: whether the paired test cannot separate it from the best.
        spread: the spread of the clip mean across seeds, for stochastic submissions ("" otherwise).
    """

    value: float | None
    ci: str
    rank: int | None
    best: bool
    tied: bool
    spread: str = ""

    @property
    def text(self) -> str:
        """The figure as printed (:func:`~benchmark.leaderboard.formatting.fmt`)."""
        return fmt(self.value)

    @property
    def sort(self) -> str:
        """The ``data-sort`` text (:func:`~benchmark.leaderboard.formatting.sort_text`; ``""`` when missing)."""
        return sort_text(self.value)


@dataclass
class SubmissionView:
    """Everything the pages show about one submission.

    ``cells``, the ranks, ``gallery`` and the per-clip table are filled for ranked (``status == "ok"``)
    submissions only; ``charts`` and ``sanity`` are set by the renderer.
    """

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
    gallery: list[GalleryImage] = field(default_factory=list)
    per_clip_columns: list[str] = field(default_factory=list)
    per_clip_rows: list[list[tuple[str, str]]] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    paper_label: str | None = None
    sanity: SanityView | None = None
    """The randomisation check (:class:`benchmark.leaderboard.sanity_view.SanityView`)."""


def _authors(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    return [str(a) for a in raw]


def _cell(result: SubmissionResult, col: Column, standings: Standings) -> Cell:
    cs = standings.columns[col.name]
    value = column_value(result, col.name)
    entry = (result.summary.get("metrics") or {}).get(col.name) or {}
    if col.is_median:
        total = (result.summary.get("cost") or {}).get("runtime_total_s")
        ci = f"total {fmt(total)} s" if total is not None else ""
    elif entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        ci = fmt_interval(entry["ci_low"], entry["ci_high"])
    else:
        ci = ""
    present = math.isfinite(value)
    seeds = result.summary.get("seeds") or {}
    spread = ""
    if int(seeds.get("n", 1) or 1) > 1 and col.name in (seeds.get("spread") or {}):
        spread = f"seeds \u00b1{fmt(seeds['spread'][col.name]['std'], 3)} (n={seeds['n']})"
    return Cell(
        value=value if present else None,
        ci=ci,
        rank=cs.ranks.get(result.name) if present else None,
        best=result.name in cs.best,
        tied=result.name in cs.tied_best,
        spread=spread,
    )


def build_views(
    results: Sequence[SubmissionResult], standings: Standings, columns: Sequence[Column]
) -> list[SubmissionView]:
    """One :class:`SubmissionView` per result: ranked ones in overall order, then the failed ones by name.

    Raises:
        ValueError: a result folder's name cannot name a page, or its gallery index is broken.
    """
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
            cost=cost_rows(s.get("cost") or {}),
            style=style_of[name],
            paper_label=PAPER_LABELS.get(name),
        )
        if r.ok:
            view.cells = {c.name: _cell(r, c, standings) for c in columns}
            view.overall_rank = standings.overall_rank[name]
            view.mean_rank = standings.mean_rank[name]
            view.gallery = read_gallery(r)
            view.per_clip_columns, view.per_clip_rows = per_clip_table(r, columns)
        views.append(view)
    return views
