"""Per-column ranks, best values, statistical ties and the overall rank of the leaderboard.

Everything here is pure: it reads :class:`~benchmark.results.SubmissionResult` objects and metric
declarations (:class:`benchmark.metrics.spec.MetricSpec`: ``name``, ``direction`` ``"higher"`` or
``"lower"``, ``primary``) and returns plain data. Directions are never assumed: they come from the spec.

Conventions:

* The figure a column shows and ranks by is the mean over clips from ``metrics.json``, except the
  runtime, which the paper reports as a typical per-clip cost: its figure is the median
  (``cost.runtime_median_s``, or the median of ``per_clip.csv`` when that key is absent).
* Ranks are competition ranks ("1224"): equal figures share the better rank. A missing figure
  (``None``/NaN) ranks after every present one.
* *Best* are the submissions of rank 1. *Tied-best* are the others that a paired test over the clips
  both were scored on cannot separate from the best one (``tie_test(best, other) -> bool``).
* The overall rank orders submissions by their mean column rank over the primary metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from benchmark.results import SubmissionResult

TieTest = Callable[[np.ndarray, np.ndarray], bool]
"""``tie_test(a, b)``: ``True`` when paired samples ``a`` and ``b`` (both ``(n,)``) cannot be separated."""

MEDIAN_METRICS: Mapping[str, str] = {"runtime_s": "runtime_median_s"}
"""Metrics whose column figure is the median over clips: metric name -> key in ``metrics.json: cost``."""

MIN_PAIRS = 2
"""Fewest clips two submissions must share before a paired test is run (fewer: not marked tied)."""


@dataclass(frozen=True)
class ColumnStanding:
    """One metric's column.

    Attributes:
        metric: the metric's name (a ``per_clip.csv`` column).
        direction: ``"higher"`` or ``"lower"``, copied from the spec.
        values: submission name -> the column's figure (NaN when missing).
        ranks: submission name -> competition rank (1 is best).
        best: submissions with rank 1 (none when no figure is present).
        tied_best: submissions not of rank 1 that the paired test cannot separate from the best.
    """

    metric: str
    direction: str
    values: Mapping[str, float]
    ranks: Mapping[str, int]
    best: frozenset[str]
    tied_best: frozenset[str]


@dataclass(frozen=True)
class Standings:
    """The whole table's ranking.

    Attributes:
        columns: metric name -> its :class:`ColumnStanding`, in the spec's order.
        primary: the metrics the overall rank averages over.
        mean_rank: submission name -> mean column rank over ``primary``.
        overall_rank: submission name -> competition rank of ``mean_rank`` (1 is best).
        order: submission names, best overall first (ties broken by name).
    """

    columns: Mapping[str, ColumnStanding]
    primary: tuple[str, ...]
    mean_rank: Mapping[str, float]
    overall_rank: Mapping[str, int]
    order: tuple[str, ...]


def _check_direction(spec) -> str:
    direction = getattr(spec, "direction", None)
    if direction not in ("higher", "lower"):
        raise ValueError(
            f"metric {getattr(spec, 'name', spec)!r}: direction {direction!r} is neither "
            "'higher' nor 'lower'; fix its declaration in benchmark/metrics/spec.py."
        )
    return direction


def _finite(value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def column_value(result: SubmissionResult, metric: str) -> float:
    """The figure the leaderboard shows for ``metric`` (NaN when the result has none)."""
    if metric in MEDIAN_METRICS:
        cost = result.summary.get("cost") or {}
        value = _finite(cost.get(MEDIAN_METRICS[metric]))
        if math.isnan(value) and result.per_clip is not None and metric in result.per_clip:
            value = _finite(result.per_clip[metric].median())
        return value
    entry = (result.summary.get("metrics") or {}).get(metric) or {}
    return _finite(entry.get("mean"))


def competition_ranks(values: Mapping[str, float], direction: str) -> dict[str, int]:
    """Rank ``values`` (name -> figure) so that the best is 1; equal figures share the better rank.

    NaN figures rank after every finite one (and share that rank).
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction {direction!r}: expected 'higher' or 'lower'.")
    sign = -1.0 if direction == "higher" else 1.0
    keyed = {n: (math.isnan(v), sign * v if not math.isnan(v) else 0.0) for n, v in values.items()}
    ranks: dict[str, int] = {}
    for name, key in keyed.items():
        ranks[name] = 1 + sum(1 for other in keyed.values() if other < key)
    return ranks


def paired_scores(a: SubmissionResult, b: SubmissionResult, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip scores of ``metric`` for the clips both results hold, aligned by ``clip_id``.

    Returns two float arrays of shape ``(n,)``; clips where either score is NaN are dropped.
    """
    if a.per_clip is None or b.per_clip is None:
        return np.empty(0), np.empty(0)
    left = a.per_clip[["clip_id", metric]].drop_duplicates("clip_id")
    right = b.per_clip[["clip_id", metric]].drop_duplicates("clip_id")
    joined = left.merge(right, on="clip_id", suffixes=("_a", "_b")).dropna()
    return (joined[f"{metric}_a"].to_numpy(dtype=float), joined[f"{metric}_b"].to_numpy(dtype=float))


def column_standing(results: Sequence[SubmissionResult], spec, tie_test: TieTest) -> ColumnStanding:
    """Rank ``results`` (all with status ``ok``) on the metric that ``spec`` declares."""
    direction = _check_direction(spec)
    values = {r.name: column_value(r, spec.name) for r in results}
    ranks = competition_ranks(values, direction)
    best = frozenset(n for n, rank in ranks.items() if rank == 1 and not math.isnan(values[n]))
    tied: set[str] = set()
    if best:
        by_name = {r.name: r for r in results}
        reference = by_name[min(best)]
        for r in results:
            if r.name in best or math.isnan(values[r.name]):
                continue
            a, b = paired_scores(reference, r, spec.name)
            if len(a) >= MIN_PAIRS and bool(tie_test(a, b)):
                tied.add(r.name)
    return ColumnStanding(spec.name, direction, values, ranks, best, frozenset(tied))


def compute_standings(results: Sequence[SubmissionResult], metrics: Sequence, tie_test: TieTest) -> Standings:
    """Rank the ``ok`` results on every metric of ``metrics`` and overall.

    Args:
        results: results to rank; those whose status is not ``ok`` are ignored.
        metrics: metric declarations, in display order (``name``, ``direction``, ``primary``).
        tie_test: the paired test, e.g. ``benchmark.metrics.statistics.tied``.
    """
    ok = [r for r in results if r.ok]
    names = [r.name for r in ok]
    if len(set(names)) != len(names):
        raise ValueError(
            f"results: duplicate submission names {sorted(names)}; each results/<name>/ must be unique."
        )
    columns = {spec.name: column_standing(ok, spec, tie_test) for spec in metrics}
    primary = tuple(spec.name for spec in metrics if getattr(spec, "primary", False))
    if not primary:
        raise ValueError(
            "metrics: no metric is marked primary, so there is no overall rank; "
            "set primary=True on at least one MetricSpec in benchmark/metrics/spec.py."
        )
    mean_rank = {n: float(np.mean([columns[m].ranks[n] for m in primary])) for n in names}
    overall = competition_ranks(mean_rank, "lower")
    order = tuple(sorted(names, key=lambda n: (overall[n], n)))
    return Standings(columns, primary, mean_rank, overall, order)
