"""Metric declarations: what each per-clip column means and which way is better.

Every metric is declared by the module that computes it, as a public tuple of :class:`MetricSpec`
(``localization.LOCALIZATION_METRICS``, ``faithfulness.FAITHFULNESS_METRICS``,
``robustness.ROBUSTNESS_METRICS``, ``cost.COST_METRICS``), and :mod:`benchmark.metrics` registers them
all with :func:`register` when it is imported (importing this module imports that package first), so
that the harness and the leaderboard read names, directions, labels and families from here and never
hard-code them: :func:`score_names` and :func:`cost_names` are the per-clip columns.

The overall rank averages the ranks of the *primary* metrics: ``clip_iou``, ``clip_f1``,
``clip_auc``, ``frame_iou``, ``frame_f1``, ``frame_auc``, ``deletion``, ``insertion`` and ``mauc``.
``stdauc`` and ``cv`` are shown but not ranked: a map that ignores the model (the random control) has the
steadiest frame AUCs, so low values do not mean a better explanation. The cost figures are shown beside the
rank, never inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Direction = Literal["higher", "lower"]

COST = "cost"
"""The family of the cost figures: shown beside the rank, never inside it, and not scores."""

METRIC_FAMILIES: tuple[str, ...] = ("human-centric", "model-centric", "robustness", COST)
"""The metric families, in the order the leaderboard shows them (not the submissions' method families)."""


@dataclass(frozen=True)
class MetricSpec:
    """One per-clip metric as the harness writes it and the leaderboard reads it.

    Attributes:
        name: the per-clip CSV column name, e.g. ``"clip_iou"``.
        family: one of :data:`METRIC_FAMILIES`.
        direction: ``"higher"`` or ``"lower"``: which values are better.
        label: short display text, e.g. ``"Clip IoU"``.
        description: one sentence stating what is measured.
        primary: whether the overall rank averages this metric.
    """

    name: str
    family: str
    direction: Direction
    label: str
    description: str
    primary: bool

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"MetricSpec.name must be a column-safe identifier, got {self.name!r}.")
        if self.family not in METRIC_FAMILIES:
            raise ValueError(f"MetricSpec {self.name!r}: family {self.family!r} is not one of {METRIC_FAMILIES}.")
        if self.direction not in ("higher", "lower"):
            raise ValueError(
                f"MetricSpec {self.name!r}: direction must be 'higher' or 'lower', got {self.direction!r}."
            )

    @property
    def higher_is_better(self) -> bool:
        """``True`` when larger values are better."""
        return self.direction == "higher"


_REGISTRY: dict[str, MetricSpec] = {}

METRICS: Mapping[str, MetricSpec] = MappingProxyType(_REGISTRY)
"""Every declared metric by name (read-only). Complete once ``benchmark.metrics`` is imported."""


def register(*specs: MetricSpec) -> None:
    """Declare metrics (:mod:`benchmark.metrics` registers every metric of the benchmark when imported).

    Re-declaring an identical spec is a no-op (module reloads); a different spec under a name
    already taken raises ``ValueError``.
    """
    for spec in specs:
        known = _REGISTRY.get(spec.name)
        if known is not None and known != spec:
            raise ValueError(f"metric {spec.name!r} is already declared differently: {known}.")
        _REGISTRY[spec.name] = spec


def get_metric(name: str) -> MetricSpec:
    """The :class:`MetricSpec` called ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; declared metrics: {sorted(_REGISTRY)}.") from None


def primary_metrics() -> tuple[MetricSpec, ...]:
    """The metrics the overall rank averages, grouped by family in :data:`METRIC_FAMILIES` order."""
    return tuple(
        spec for family in METRIC_FAMILIES for spec in _REGISTRY.values() if spec.primary and spec.family == family
    )


def metrics_in_family(family: str) -> tuple[MetricSpec, ...]:
    """The metrics of one family, in declaration order; an unknown family raises ``ValueError``."""
    if family not in METRIC_FAMILIES:
        raise ValueError(f"unknown metric family {family!r}; families: {METRIC_FAMILIES}.")
    return tuple(spec for spec in _REGISTRY.values() if spec.family == family)


def score_names() -> tuple[str, ...]:
    """The per-clip score columns: every metric but the cost figures, grouped by family in
    :data:`METRIC_FAMILIES` order, in declaration order within a family."""
    return tuple(spec.name for family in METRIC_FAMILIES if family != COST for spec in metrics_in_family(family))


def cost_names() -> tuple[str, ...]:
    """The per-clip cost columns (the :data:`COST` family), in declaration order."""
    return tuple(spec.name for spec in metrics_in_family(COST))
