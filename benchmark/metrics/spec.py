"""Metric declarations: what each per-clip column means and which way is better.

Every metric is declared by the module that computes it (``localization``, ``robustness``,
``faithfulness``, ``cost``) through :func:`register`, so that the leaderboard reads directions,
labels and families from here and never hard-codes them.

The overall rank averages the ranks of the *primary* metrics: ``clip_iou``, ``clip_f1``,
``clip_auc``, ``frame_iou``, ``frame_f1``, ``frame_auc``, ``deletion``, ``insertion``, ``mauc``
and ``cv``. ``stdauc`` is shown but not ranked (``cv`` already holds it, relative to ``mauc``),
and the cost figures are shown beside the rank, never inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Direction = Literal["higher", "lower"]

FAMILIES: tuple[str, ...] = ("human-centric", "model-centric", "robustness", "cost")
"""The metric families, in the order the leaderboard shows them."""


@dataclass(frozen=True)
class MetricSpec:
    """One per-clip metric as the harness writes it and the leaderboard reads it.

    Attributes:
        name: the per-clip CSV column name, e.g. ``"clip_iou"``.
        family: one of :data:`FAMILIES`.
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
        if self.family not in FAMILIES:
            raise ValueError(f"MetricSpec {self.name!r}: family {self.family!r} is not one of {FAMILIES}.")
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
    """Declare metrics; called once by the module that computes them, at import time.

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
    """The metrics the overall rank averages, grouped by family in :data:`FAMILIES` order."""
    return tuple(
        spec for family in FAMILIES for spec in _REGISTRY.values() if spec.primary and spec.family == family
    )


def metrics_in_family(family: str) -> tuple[MetricSpec, ...]:
    """The metrics of one family, in declaration order; an unknown family raises ``ValueError``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown metric family {family!r}; families: {FAMILIES}.")
    return tuple(spec for spec in _REGISTRY.values() if spec.family == family)


def score_names(family: str | None = None) -> tuple[str, ...]:
    """Metric names in :data:`FAMILIES` order: every score (all families but ``cost``), or one ``family``."""
    families = [f for f in FAMILIES if f != "cost"] if family is None else [family]
    return tuple(spec.name for f in families for spec in metrics_in_family(f))
