"""The metric columns of the leaderboard's tables, taken from the metric declarations.

A :class:`Column` is what the templates need to know about one metric (label, family, direction and
its arrow, whether it enters the overall rank); :func:`columns_from_spec` builds them from
:class:`benchmark.metrics.spec.MetricSpec` declarations in display order, and :func:`column_groups`
gives the spans of the family header row above them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmark.leaderboard.ranking import MEDIAN_METRICS

ARROWS: Mapping[str, str] = {"higher": "\u2191", "lower": "\u2193"}
"""The arrow printed after a column's label: direction (``"higher"``/``"lower"`` is better) -> arrow."""


@dataclass(frozen=True)
class Column:
    """A metric column of the main table.

    Attributes:
        name: the metric's name (a ``per_clip.csv`` column and a ``metrics.json: metrics`` key).
        label: the header text.
        family: the metric's family (the group header above it).
        direction: ``"higher"`` or ``"lower"`` (which is better).
        arrow: :data:`ARROWS` of ``direction``.
        description: the header's tooltip.
        primary: whether the spec declares the metric primary.
        is_median: whether the figure is the median over clips (the runtime) rather than the mean.
        in_overall: whether the overall rank averages over this column (primary and not left out by
            :data:`benchmark.leaderboard.ranking.NOT_IN_OVERALL`).
        is_cost: whether the column is a cost figure (printed with a unit, never compared with controls).
    """

    name: str
    label: str
    family: str
    direction: str
    arrow: str
    description: str
    primary: bool
    is_median: bool
    in_overall: bool = False
    is_cost: bool = False

    @property
    def anchor(self) -> str:
        """The id of the column's definition on the index page (``def-<name>``)."""
        return f"def-{self.name}"


def columns_from_spec(metrics: Sequence[Any], overall: Sequence[str] | None = None) -> list[Column]:
    """One :class:`Column` per metric declaration (``name``, ``direction``; optionally ``label``,
    ``family``, ``description``, ``primary``), in the given order.

    ``overall``: the metrics of the overall rank (:attr:`~benchmark.leaderboard.ranking.Standings.primary`;
    default: every primary metric).
    """
    return [
        Column(
            name=spec.name,
            label=getattr(spec, "label", spec.name),
            family=getattr(spec, "family", ""),
            direction=spec.direction,
            arrow=ARROWS[spec.direction],
            description=getattr(spec, "description", ""),
            primary=bool(getattr(spec, "primary", False)),
            is_median=spec.name in MEDIAN_METRICS,
            in_overall=(spec.name in overall) if overall is not None else bool(getattr(spec, "primary", False)),
            is_cost=getattr(spec, "family", "") == "cost",
        )
        for spec in metrics
    ]


def column_groups(columns: Sequence[Column]) -> list[tuple[str, int]]:
    """Consecutive columns of one family: ``[(family, span), ...]`` (spans sum to ``len(columns)``)."""
    groups: list[tuple[str, int]] = []
    for c in columns:
        if groups and groups[-1][0] == c.family:
            groups[-1] = (c.family, groups[-1][1] + 1)
        else:
            groups.append((c.family, 1))
    return groups
