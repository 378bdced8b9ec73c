"""The view models of the pages: one :class:`SubmissionView` per result, with a :class:`Cell` per column.

:func:`build_views` turns the loaded results and their :class:`~benchmark.leaderboard.ranking.Standings`
into plain objects that the templates read. Figures stay numbers here (a :class:`Cell` holds the column
figure as a float, and the number of decimals its column prints); :mod:`benchmark.leaderboard.formatting`
prints them when a page is rendered. The charts, the sanity check and the paper comparison are added by
their own modules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard.columns import Column
from benchmark.leaderboard.formatting import (
    MISSING,
    column_decimals,
    finite_or_none,
    fmt,
    fmt_fixed,
    fmt_fixed_interval,
    fmt_seconds,
    sort_text,
)
from benchmark.leaderboard.gallery import GalleryImage, read_gallery
from benchmark.leaderboard.paper import PAPER_LABELS
from benchmark.leaderboard.ranking import Standings, column_interval, column_value, seed_count
from benchmark.leaderboard.safety import check_name, safe_url
from benchmark.leaderboard.tables import cost_rows, per_clip_table
from benchmark.results import SubmissionResult

if TYPE_CHECKING:
    from benchmark.leaderboard.sanity_view import SanityView

SEED0_MARK = "*"
"""Printed after an interval that is seed 0's, not the seed mean's (results without per-clip seed means)."""

GROUPS: Mapping[str, str] = {
    "paper": "The paper's baselines",
    "added": "Added methods",
    "control": "Controls (references, not ranked)",
}
"""``submission.yaml: group`` -> the heading of its band in the main table, in display order."""


@dataclass(frozen=True)
class Cell:
    """One figure of the main table.

    Attributes:
        value: the column's figure (the mean over clips, over seeds for a stochastic submission; the
            runtime's median, in seconds per clip), or ``None`` when the result has none. It is also the
            sort key.
        rank: the competition rank in the column (1 is best; ``None`` when missing or for a control).
        best: whether the figure is the column's best (never for a control).
        tied: whether the paired test cannot separate it from the best.
        decimals: how many decimals the column prints (every figure of a column alike).
        kind: ``"score"`` (fixed decimals), ``"seconds"`` (a duration with a unit) or ``"count"``.
        low, high: the 95% bootstrap interval of ``value`` (``None`` when there is none).
        basis: ``""``, or ``"seed 0"`` when the interval is seed 0's rather than the seed mean's.
        total: for the runtime, the total seconds over the clips.
        no_better: the figure is no better than a control's (not strictly better, or not separable).
        control: the row is a control.
        seeds: how many seeds the figure averages.
        seed_std: the standard deviation of the clip mean across seeds (``None`` for one seed).
    """

    value: float | None
    rank: int | None
    best: bool
    tied: bool
    decimals: int = 3
    kind: str = "score"
    low: float | None = None
    high: float | None = None
    basis: str = ""
    total: float | None = None
    no_better: bool = False
    control: bool = False
    seeds: int = 1
    seed_std: float | None = None

    def number(self, value: Any) -> str:
        """``value`` printed as this column prints its figures."""
        if self.kind == "seconds":
            return fmt_seconds(value)
        if self.kind == "count":
            v = finite_or_none(value)
            return MISSING if v is None else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}")
        return fmt_fixed(value, self.decimals)

    @property
    def text(self) -> str:
        """The figure as printed."""
        return self.number(self.value)

    @property
    def ci(self) -> str:
        """The text under the figure: the interval (and its basis), or for the runtime the total."""
        if self.kind == "seconds":
            return f"total {fmt_seconds(self.total)}" if self.total is not None else ""
        if self.low is None or self.high is None:
            return ""
        text = (
            fmt_fixed_interval(self.low, self.high, self.decimals)
            if self.kind == "score"
            else f"[{self.number(self.low)}, {self.number(self.high)}]"
        )
        return f"{text}{SEED0_MARK}" if self.basis else text

    @property
    def spread(self) -> str:
        """The seed spread as printed ("" for one seed): the sd across seeds, one decimal finer than the figure."""
        if self.seeds <= 1 or self.seed_std is None:
            return ""
        digits = self.decimals + 1
        sd = fmt_fixed(self.seed_std, digits)
        if self.seed_std > 0 and float(sd) == 0.0:
            sd = f"< {10.0 ** -digits:.{digits}f}"
        return f"{self.seeds} seeds, sd {sd}"

    @property
    def sort(self) -> str:
        """The ``data-sort`` text (:func:`~benchmark.leaderboard.formatting.sort_text`; ``""`` when missing)."""
        return sort_text(self.value)


@dataclass
class SubmissionView:
    """Everything the pages show about one submission.

    ``cells``, the ranks, ``gallery`` and the per-clip table are filled for scored (``status == "ok"``)
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
    group: str = "added"
    cells: dict[str, Cell] = field(default_factory=dict)
    overall_rank: int | None = None
    mean_rank: float | None = None
    rank_interval: tuple[int, int] | None = None
    seeds: int = 1
    gallery: list[GalleryImage] = field(default_factory=list)
    per_clip_columns: list[str] = field(default_factory=list)
    per_clip_rows: list[list[tuple[str, str]]] = field(default_factory=list)
    per_clip_href: str | None = None
    gallery_tiles: list[tuple[Any, Any]] = field(default_factory=list)
    """``(GalleryRow, Tile)`` of this submission's gallery clips (set by the renderer)."""
    charts: list[Markup] = field(default_factory=list)
    paper_label: str | None = None
    sanity: SanityView | None = None
    """The randomisation check (:class:`benchmark.leaderboard.sanity_view.SanityView`)."""

    @property
    def is_control(self) -> bool:
        return self.group == "control"

    @property
    def group_label(self) -> str:
        return GROUPS.get(self.group, self.group)

    @property
    def rank_text(self) -> str:
        """``"3"``, or ``"—"`` for a control or an unscored submission."""
        return str(self.overall_rank) if self.overall_rank is not None else MISSING

    @property
    def rank_interval_text(self) -> str:
        """``"95% CI 2–5"`` ("" when there is no interval)."""
        if self.rank_interval is None:
            return ""
        lo, hi = self.rank_interval
        return f"95% CI {lo}" if lo == hi else f"95% CI {lo}\u2013{hi}"


def _authors(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    return [str(a) for a in raw]


def _kind(col: Column) -> str:
    if col.is_median:
        return "seconds"
    return "count" if col.is_cost else "score"


def _cell(result: SubmissionResult, col: Column, standings: Standings, decimals: int) -> Cell:
    cs = standings.columns[col.name]
    value = column_value(result, col.name)
    present = math.isfinite(value)
    interval = column_interval(result, col.name)
    total = None
    if col.is_median:
        total = finite_or_none((result.summary.get("cost") or {}).get("runtime_total_s"))
    n_seeds = seed_count(result)
    seeds = result.summary.get("seeds") or {}
    std = None
    if n_seeds > 1 and col.name in (seeds.get("spread") or {}):
        std = finite_or_none(seeds["spread"][col.name].get("std"))
    return Cell(
        value=value if present else None,
        rank=cs.ranks.get(result.name) if present else None,
        best=result.name in cs.best,
        tied=result.name in cs.tied_best,
        decimals=decimals,
        kind=_kind(col),
        low=interval[0] if interval else None,
        high=interval[1] if interval else None,
        basis=interval[2] if interval else "",
        total=total,
        no_better=result.name in cs.no_better,
        control=result.name in standings.controls,
        seeds=n_seeds if col.name in (seeds.get("means") or {}) else 1,
        seed_std=std,
    )


def build_views(
    results: Sequence[SubmissionResult],
    standings: Standings,
    columns: Sequence[Column],
    groups: Mapping[str, str] | None = None,
) -> list[SubmissionView]:
    """One :class:`SubmissionView` per result: ranked ones in overall order, the controls, then the failed
    ones by name.

    ``groups``: submission name -> ``paper`` | ``added`` | ``control`` (default: ``metrics.json: group``,
    else ``added``).

    Raises:
        ValueError: a result folder's name cannot name a page, or its gallery index is broken.
    """
    by_name = {r.name: r for r in results}
    failed = sorted(r.name for r in results if not r.ok)
    order = [*standings.order, *failed]
    style_of = dict(zip(order, plots.styles(len(order))))
    decimals = {
        c.name: column_decimals([standings.columns[c.name].values.get(n) for n in standings.order])
        for c in columns
    }
    views = []
    for name in order:
        r = by_name[name]
        s = r.summary
        params = s.get("params") or {}
        group = (groups or {}).get(name) or str(s.get("group") or "added")
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
            group=group if group in GROUPS else "added",
            paper_label=PAPER_LABELS.get(name),
            seeds=seed_count(r),
        )
        if r.ok:
            view.cells = {c.name: _cell(r, c, standings, decimals[c.name]) for c in columns}
            view.overall_rank = standings.overall_rank.get(name)
            view.mean_rank = standings.mean_rank.get(name)
            view.rank_interval = standings.rank_interval.get(name)
            view.gallery = read_gallery(r)
            view.per_clip_columns, view.per_clip_rows = per_clip_table(r, columns)
            if r.per_clip is not None:
                view.per_clip_href = f"data/{name}/per_clip.csv"
        views.append(view)
    return views


def fmt_rank(value: float | None) -> str:
    """A mean rank as printed (two decimals)."""
    return MISSING if value is None else f"{value:.2f}"


__all__ = ["GROUPS", "SEED0_MARK", "Cell", "SubmissionView", "build_views", "fmt", "fmt_rank"]
