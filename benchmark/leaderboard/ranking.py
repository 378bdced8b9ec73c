"""Per-column ranks, best values, statistical ties, the overall rank and its bootstrap interval.

Everything here is pure: it reads :class:`~benchmark.results.SubmissionResult` objects and metric
declarations (:class:`benchmark.metrics.spec.MetricSpec`: ``name``, ``direction`` ``"higher"`` or
``"lower"``, ``primary``) and returns plain data. Directions are never assumed: they come from the spec.

Conventions:

* The figure a column shows and ranks by (:func:`column_value`) is the mean over clips from
  ``metrics.json``; for a stochastic submission scored with several seeds it is the **mean over the
  seeds** (``seeds.mean`` when the result holds it, else the mean of ``seeds.means``), never seed 0
  alone. The runtime is a typical per-clip cost: its figure is the median (``cost.runtime_median_s``,
  or the median of ``per_clip.csv`` when that key is absent).
* *Controls* (``group: control`` in ``submission.yaml``, e.g. ``random``) are references, not
  contestants: they get figures but no rank, are never best, and every ranked figure that is no
  better than a control's (not strictly better, or not separable from it by the paired test over the
  same clips) is flagged (:attr:`ColumnStanding.no_better`). Cost columns are not compared with controls.
* Ranks are competition ranks ("1224"): equal figures share the better rank. A missing figure
  (``None``/NaN) ranks after every present one.
* *Best* are the ranked submissions of rank 1. *Tied-best* are the others that a paired test over the
  clips both were scored on cannot separate from the best one (``tie_test(best, other) -> bool``).
* The overall rank orders the ranked submissions by their mean column rank over the *overall* metrics:
  the primary metrics minus :data:`NOT_IN_OVERALL`. Its 95% interval comes from resampling the clips
  that every ranked submission was scored on (:func:`rank_intervals`), so two methods whose intervals
  overlap widely are not told apart by their rank.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmark.results import SubmissionResult
from benchmark.results.submission import SEED_MEAN_FILE

TieTest = Callable[[np.ndarray, np.ndarray], bool]
"""``tie_test(a, b)``: ``True`` when paired samples ``a`` and ``b`` (both ``(n,)``) cannot be separated."""

MEDIAN_METRICS: Mapping[str, str] = {"runtime_s": "runtime_median_s"}
"""Metrics whose column figure is the median over clips: metric name -> key in ``metrics.json: cost``."""

MIN_PAIRS = 2
"""Fewest clips two submissions must share before a paired test is run (fewer: not marked tied)."""

NOT_IN_OVERALL: Mapping[str, str] = {
    "cv": "a map that ignores the model (the random control) has the steadiest frame AUCs, so a low Cv "
    "does not mean a better explanation; Cv is shown, and compared with the control, but not ranked overall",
}
"""Why the page does not rank a shown metric overall (the metric's ``primary`` flag in
:mod:`benchmark.metrics` decides; this is the sentence the page prints beside it)."""

RANK_RESAMPLES = 1000
"""Bootstrap resamples of the clips for the interval of the overall rank."""
RANK_SEED = 0
"""Seed of those resamples (``numpy.random.default_rng``)."""
RANK_CONFIDENCE = 0.95

CONTROL_GROUP = "control"


@dataclass(frozen=True)
class ColumnStanding:
    """One metric's column.

    Attributes:
        metric: the metric's name (a ``per_clip.csv`` column).
        direction: ``"higher"`` or ``"lower"``, copied from the spec.
        values: submission name -> the column's figure (NaN when missing), controls included.
        ranks: ranked submission name -> competition rank (1 is best); controls have none.
        best: ranked submissions with rank 1 (none when no figure is present).
        tied_best: ranked submissions not of rank 1 that the paired test cannot separate from the best.
        no_better: ranked submissions whose figure is no better than a control's (empty for cost columns).
    """

    metric: str
    direction: str
    values: Mapping[str, float]
    ranks: Mapping[str, int]
    best: frozenset[str]
    tied_best: frozenset[str]
    no_better: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Standings:
    """The whole table's ranking.

    Attributes:
        columns: metric name -> its :class:`ColumnStanding`, in the spec's order.
        primary: the metrics the overall rank averages over (the spec's primary metrics minus
            :data:`NOT_IN_OVERALL`).
        mean_rank: ranked submission name -> mean column rank over ``primary``.
        overall_rank: ranked submission name -> competition rank of ``mean_rank`` (1 is best).
        order: ranked submission names, best overall first (ties broken by name), then the controls.
        controls: the control submissions (figures shown, never ranked).
        rank_interval: ranked submission name -> ``(low, high)``, the 95% bootstrap interval of its overall
            rank (``None`` when fewer than :data:`MIN_PAIRS` clips are shared).
        left_out: shown metrics not in ``primary``, with the reason the page prints.
        interval_clips: how many shared clips the rank intervals resample.
    """

    columns: Mapping[str, ColumnStanding]
    primary: tuple[str, ...]
    mean_rank: Mapping[str, float]
    overall_rank: Mapping[str, int]
    order: tuple[str, ...]
    controls: tuple[str, ...] = ()
    rank_interval: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    left_out: Mapping[str, str] = field(default_factory=dict)
    interval_clips: int = 0


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


def seed_count(result: SubmissionResult) -> int:
    """How many seeds the result's figures average (1 for a deterministic submission)."""
    seeds = result.summary.get("seeds") or {}
    try:
        return max(1, int(seeds.get("n", 1) or 1))
    except (TypeError, ValueError):
        return 1


def seed_mean_entry(result: SubmissionResult, metric: str) -> Mapping[str, float] | None:
    """``metrics.json: seeds.mean.<metric>`` (``{mean, ci_low, ci_high}`` over the per-clip seed means),
    when the result holds it."""
    entry = ((result.summary.get("seeds") or {}).get("mean") or {}).get(metric)
    return entry if isinstance(entry, Mapping) else None


def column_value(result: SubmissionResult, metric: str) -> float:
    """The figure the leaderboard shows for ``metric`` (NaN when the result has none).

    Stochastic results: the mean over seeds; the runtime: the median over clips; otherwise the mean.
    """
    if metric in MEDIAN_METRICS:
        cost = result.summary.get("cost") or {}
        value = _finite(cost.get(MEDIAN_METRICS[metric]))
        if math.isnan(value) and result.per_clip is not None and metric in result.per_clip:
            value = _finite(result.per_clip[metric].median())
        return value
    entry = seed_mean_entry(result, metric)
    if entry is not None:
        return _finite(entry.get("mean"))
    if seed_count(result) > 1:
        means = ((result.summary.get("seeds") or {}).get("means") or {}).get(metric)
        if isinstance(means, list) and means:
            values = [_finite(v) for v in means]
            if not any(math.isnan(v) for v in values):
                return float(np.mean(values))
    entry = (result.summary.get("metrics") or {}).get(metric) or {}
    return _finite(entry.get("mean"))


def column_interval(result: SubmissionResult, metric: str) -> tuple[float, float, str] | None:
    """The 95% bootstrap interval printed under :func:`column_value`: ``(low, high, basis)``.

    ``basis`` is ``""`` when the interval belongs to the figure itself, or ``"seed 0"`` for a
    stochastic result written before per-clip seed means existed (its interval is seed 0's, over clips).
    ``None`` when there is none (and for the runtime, whose figure is a median).
    """
    if metric in MEDIAN_METRICS:
        return None
    entry = seed_mean_entry(result, metric)
    basis = ""
    if entry is None:
        entry = (result.summary.get("metrics") or {}).get(metric) or {}
        seeded = metric in (((result.summary.get("seeds") or {}).get("means")) or {})
        basis = "seed 0" if seed_count(result) > 1 and seeded else ""
    low, high = _finite(entry.get("ci_low")), _finite(entry.get("ci_high"))
    if math.isnan(low) or math.isnan(high):
        return None
    return low, high, basis


def clip_table(result: SubmissionResult, metrics: Sequence[str]) -> pd.DataFrame:
    """Per-clip figures of ``metrics`` indexed by ``clip_id``, centred on :func:`column_value`.

    The per-clip seed means (``per_clip_seed_mean.csv``) when the result holds them, else
    ``per_clip.csv`` (seed 0). Each column is shifted so that its mean equals the column's figure (a
    no-op for deterministic results), so that tests and resampling agree with the headline. Median
    metrics (the runtime) are left as they are. Empty when the result has no per-clip file.
    """
    source = result.per_clip
    path = result.folder / SEED_MEAN_FILE
    if path.is_file():
        source = pd.read_csv(path)
    if source is None or "clip_id" not in source:
        return pd.DataFrame(columns=list(metrics))
    df = source.drop_duplicates("clip_id").set_index("clip_id")
    out = pd.DataFrame(index=df.index)
    for m in metrics:
        if m not in df:
            continue
        col = pd.to_numeric(df[m], errors="coerce").astype(float)
        if m not in MEDIAN_METRICS:
            target, mean = column_value(result, m), float(col.mean())
            if math.isfinite(target) and math.isfinite(mean):
                col = col + (target - mean)
        out[m] = col
    return out


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


def _paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    if metric not in a or metric not in b:
        return np.empty(0), np.empty(0)
    joined = pd.concat([a[metric].rename("a"), b[metric].rename("b")], axis=1, join="inner").dropna()
    return joined["a"].to_numpy(dtype=float), joined["b"].to_numpy(dtype=float)


def paired_scores(a: SubmissionResult, b: SubmissionResult, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip figures of ``metric`` (:func:`clip_table`) for the clips both results hold, aligned by
    ``clip_id``; clips where either is NaN are dropped. Two float arrays of shape ``(n,)``."""
    return _paired(clip_table(a, [metric]), clip_table(b, [metric]), metric)


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "higher" else a < b


def column_standing(
    results: Sequence[SubmissionResult],
    spec,
    tie_test: TieTest,
    *,
    controls: Sequence[SubmissionResult] = (),
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> ColumnStanding:
    """Rank ``results`` (all with status ``ok``, controls excluded) on the metric that ``spec`` declares.

    ``controls`` get a figure in ``values`` but no rank; each ranked figure is compared with theirs
    (except in the cost family).
    """
    direction = _check_direction(spec)
    tables = dict(tables or {})
    for r in (*results, *controls):
        if r.name not in tables:
            tables[r.name] = clip_table(r, [spec.name])
    values = {r.name: column_value(r, spec.name) for r in results}
    ranks = competition_ranks(values, direction)
    best = frozenset(n for n, rank in ranks.items() if rank == 1 and not math.isnan(values[n]))
    tied: set[str] = set()
    if best:
        reference = min(best)
        for r in results:
            if r.name in best or math.isnan(values[r.name]):
                continue
            a, b = _paired(tables[reference], tables[r.name], spec.name)
            if len(a) >= MIN_PAIRS and bool(tie_test(a, b)):
                tied.add(r.name)
    no_better: set[str] = set()
    control_values = {c.name: column_value(c, spec.name) for c in controls}
    if getattr(spec, "family", "") != "cost":
        for c in controls:
            cv = control_values[c.name]
            if math.isnan(cv):
                continue
            for r in results:
                v = values[r.name]
                if math.isnan(v) or r.name in no_better:
                    continue
                if not _better(v, cv, direction):
                    no_better.add(r.name)
                    continue
                a, b = _paired(tables[r.name], tables[c.name], spec.name)
                if len(a) >= MIN_PAIRS and bool(tie_test(a, b)):
                    no_better.add(r.name)
    return ColumnStanding(
        spec.name,
        direction,
        {**values, **control_values},
        ranks,
        best,
        frozenset(tied),
        frozenset(no_better),
    )


def _competition_rank_rows(x: np.ndarray) -> np.ndarray:
    """Competition ranks along the last axis of ``x`` (lower is better; NaN last): same shape, ints."""
    key = np.where(np.isnan(x), np.inf, x)
    return 1 + (key[..., None, :] < key[..., :, None]).sum(axis=-1)


def rank_intervals(
    tables: Mapping[str, pd.DataFrame],
    specs: Sequence,
    *,
    n_resamples: int = RANK_RESAMPLES,
    seed: int = RANK_SEED,
    confidence: float = RANK_CONFIDENCE,
) -> tuple[dict[str, tuple[int, int] | None], int]:
    """Bootstrap intervals of the overall rank, resampling the clips every submission was scored on.

    Each resample draws ``n`` of the ``n`` shared clips with replacement (the same draw for every
    submission: the comparison stays paired), recomputes every column's mean, the competition ranks, the
    mean rank over ``specs`` and the overall rank. The interval is the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` quantiles of the resampled overall ranks (lower and higher order statistic).

    Args:
        tables: submission name -> :func:`clip_table` (the ranked submissions only).
        specs: the metrics of the overall rank (``name``, ``direction``).

    Returns:
        ``({name: (low, high) or None}, n_shared_clips)``.
    """
    names = sorted(tables)
    if not names:
        return {}, 0
    shared = None
    for n in names:
        idx = tables[n].index
        shared = idx if shared is None else shared.intersection(idx)
    shared = sorted(shared) if shared is not None else []
    if len(shared) < MIN_PAIRS or not specs:
        return {n: None for n in names}, len(shared)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(shared), size=(n_resamples, len(shared)))
    total = np.zeros((n_resamples, len(names)))
    for spec in specs:
        direction = _check_direction(spec)
        matrix = np.full((len(names), len(shared)), np.nan)
        for i, n in enumerate(names):
            if spec.name in tables[n]:
                matrix[i] = tables[n][spec.name].reindex(shared).to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            means = np.nanmean(matrix[:, draws], axis=2).T if matrix.size else np.empty((n_resamples, 0))
        signed = -means if direction == "higher" else means
        total += _competition_rank_rows(signed)
    overall = _competition_rank_rows(total / len(specs))
    lo_q, hi_q = (1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100
    out: dict[str, tuple[int, int] | None] = {}
    for i, n in enumerate(names):
        lo = int(np.percentile(overall[:, i], lo_q, method="lower"))
        hi = int(np.percentile(overall[:, i], hi_q, method="higher"))
        out[n] = (lo, hi)
    return out, len(shared)


def compute_standings(
    results: Sequence[SubmissionResult],
    metrics: Sequence,
    tie_test: TieTest,
    *,
    controls: Sequence[str] | None = None,
    left_out: Mapping[str, str] | None = None,
    n_resamples: int = RANK_RESAMPLES,
) -> Standings:
    """Rank the ``ok`` results on every metric of ``metrics`` and overall.

    Args:
        results: results to rank; those whose status is not ``ok`` are ignored.
        metrics: metric declarations, in display order (``name``, ``direction``, ``primary``).
        tie_test: the paired test, e.g. ``benchmark.metrics.statistics.tied``.
        controls: names of the control submissions (default: the results whose ``metrics.json`` says
            ``group: control``).
        left_out: further metrics to leave out of the overall rank, with the reason (default: the
            reasons of :data:`NOT_IN_OVERALL` for the metrics declared not primary).
        n_resamples: bootstrap resamples of the rank intervals (0: no intervals).
    """
    ok = [r for r in results if r.ok]
    names = [r.name for r in ok]
    if len(set(names)) != len(names):
        raise ValueError(
            f"results: duplicate submission names {sorted(names)}; each results/<name>/ must be unique."
        )
    if controls is None:
        controls = [r.name for r in ok if r.summary.get("group") == CONTROL_GROUP]
    control_set = set(controls)
    ranked = [r for r in ok if r.name not in control_set]
    control_results = [r for r in ok if r.name in control_set]
    for spec in metrics:
        _check_direction(spec)
    all_names = [spec.name for spec in metrics]
    tables = {r.name: clip_table(r, all_names) for r in ok}
    columns = {
        spec.name: column_standing(ranked, spec, tie_test, controls=control_results, tables=tables)
        for spec in metrics
    }
    if left_out is None:  # the metrics declared not primary that the page explains
        left_out = {spec.name: NOT_IN_OVERALL[spec.name] for spec in metrics
                    if not getattr(spec, "primary", False) and spec.name in NOT_IN_OVERALL}
    left_out = dict(left_out)
    declared = [spec for spec in metrics if getattr(spec, "primary", False)]
    overall_specs = [spec for spec in declared if spec.name not in left_out]
    if not overall_specs:
        raise ValueError(
            "metrics: no metric is marked primary, so there is no overall rank; "
            "set primary=True on at least one MetricSpec in benchmark/metrics/spec.py."
        )
    primary = tuple(spec.name for spec in overall_specs)
    ranked_names = [r.name for r in ranked]
    mean_rank = {n: float(np.mean([columns[m].ranks[n] for m in primary])) for n in ranked_names}
    overall = competition_ranks(mean_rank, "lower")
    order = tuple(sorted(ranked_names, key=lambda n: (overall[n], n))) + tuple(sorted(control_set & set(names)))
    intervals: dict[str, tuple[int, int] | None] = {}
    n_clips = 0
    if n_resamples > 0 and ranked_names:
        intervals, n_clips = rank_intervals(
            {n: tables[n] for n in ranked_names}, overall_specs, n_resamples=n_resamples
        )
    return Standings(
        columns,
        primary,
        mean_rank,
        overall,
        order,
        controls=tuple(sorted(control_set & set(names))),
        rank_interval=intervals,
        left_out={m: why for m, why in left_out.items() if any(s.name == m for s in metrics)},
        interval_clips=n_clips,
    )
