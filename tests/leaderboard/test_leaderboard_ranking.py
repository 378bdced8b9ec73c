"""Ranks, best values, ties and the overall rank, with directions taken from the metric spec."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from benchmark.leaderboard.ranking import column_value, competition_ranks, compute_standings
from benchmark.leaderboard.render import default_metrics, default_tie_test
from benchmark.metrics.spec import get_metric
from benchmark.metrics.statistics import tied
from benchmark.results import load_results

N = 12


def test_competition_ranks_follow_direction_share_ties_and_put_missing_last():
    values = {"a": 0.3, "b": 0.9, "c": 0.3, "d": math.nan}
    assert competition_ranks(values, "higher") == {"b": 1, "a": 2, "c": 2, "d": 4}
    assert competition_ranks(values, "lower") == {"a": 1, "c": 1, "b": 3, "d": 4}
    with pytest.raises(ValueError, match="direction"):
        competition_ranks(values, "up")


@pytest.mark.parametrize("metric", ["clip_iou", "deletion", "insertion", "stdauc", "cv", "runtime_s"])
def test_best_of_each_column_follows_the_spec_direction(tmp_path, make_result, metric):
    spec = get_metric(metric)
    low, high = np.full(N, 0.2), np.full(N, 0.8)
    make_result(tmp_path, "low", scores={metric: low}, runtime=1.0, seed=1, n_clips=N)
    make_result(tmp_path, "high", scores={metric: high}, runtime=5.0, seed=2, n_clips=N)
    st = compute_standings(load_results(tmp_path), default_metrics(), tied)
    col = st.columns[metric]
    expected = "high" if spec.direction == "higher" else "low"  # runtime_s: 1 s ("low") against 5 s
    assert col.direction == spec.direction
    assert col.best == {expected}
    assert col.ranks[expected] == 1 and col.tied_best == frozenset()


def test_runtime_column_is_the_median_from_cost(tmp_path, make_result):
    make_result(tmp_path, "a", runtime=2.0)
    (r,) = load_results(tmp_path)
    assert column_value(r, "runtime_s") == pytest.approx(r.summary["cost"]["runtime_median_s"])
    assert column_value(r, "clip_iou") == pytest.approx(r.summary["metrics"]["clip_iou"]["mean"])


def test_tied_best_is_what_the_paired_test_cannot_separate(tmp_path, make_result):
    rng = np.random.default_rng(0)
    base = 0.6 + 0.1 * rng.standard_normal(N)
    make_result(tmp_path, "best", scores={"clip_iou": base + 0.002}, seed=1, n_clips=N)
    make_result(
        tmp_path, "close", scores={"clip_iou": base + 0.01 * (-1.0) ** np.arange(N)}, seed=2, n_clips=N
    )
    make_result(tmp_path, "far", scores={"clip_iou": base - 0.3}, seed=3, n_clips=N)
    results = load_results(tmp_path)
    col = compute_standings(results, default_metrics(), tied).columns["clip_iou"]
    assert col.best == {"best"}
    assert col.tied_best == {"close"}
    # A test that never separates ties everyone with the best; one that always does ties nobody.
    assert compute_standings(results, default_metrics(), lambda a, b: True).columns["clip_iou"].tied_best == {
        "close",
        "far",
    }
    assert (
        compute_standings(results, default_metrics(), lambda a, b: False).columns["clip_iou"].tied_best
        == set()
    )


def test_ties_are_paired_over_the_shared_clips_only(tmp_path, make_result):
    seen = []

    def spy(a, b):
        seen.append((len(a), len(b)))
        return False

    make_result(tmp_path, "a", n_clips=8, level=0.2)
    make_result(tmp_path, "b", n_clips=5, level=0.0)
    compute_standings(load_results(tmp_path), [get_metric("clip_iou")], spy)
    assert seen == [(5, 5)]


def test_overall_rank_averages_primary_metrics_only(tmp_path, make_result):
    metrics = default_metrics()
    primary = [m.name for m in metrics if m.primary]
    assert "stdauc" not in primary and "runtime_s" not in primary and "clip_iou" in primary
    good = {m: np.full(N, 0.9 if get_metric(m).direction == "higher" else 0.1) for m in primary}
    bad = {m: np.full(N, 0.1 if get_metric(m).direction == "higher" else 0.9) for m in primary}
    make_result(
        tmp_path, "good", scores={**good, "stdauc": np.full(N, 0.9)}, runtime=100.0, seed=1, n_clips=N
    )
    make_result(tmp_path, "bad", scores={**bad, "stdauc": np.full(N, 0.0)}, runtime=0.1, seed=2, n_clips=N)
    make_result(tmp_path, "failed", status="failed")
    st = compute_standings(load_results(tmp_path), metrics, tied)
    assert st.order == ("good", "bad")
    assert st.overall_rank == {"good": 1, "bad": 2}
    assert st.mean_rank["good"] == 1.0 and st.mean_rank["bad"] == 2.0
    assert st.columns["stdauc"].best == {"bad"} and st.columns["runtime_s"].best == {"bad"}


def test_a_spec_without_a_valid_direction_or_primary_metric_is_rejected(tmp_path, make_result):
    make_result(tmp_path, "a")
    results = load_results(tmp_path)
    bad = SimpleNamespace(name="clip_iou", direction="up", primary=True, family="human-centric")
    with pytest.raises(ValueError, match="direction 'up'"):
        compute_standings(results, [bad], tied)
    unranked = SimpleNamespace(name="clip_iou", direction="higher", primary=False, family="human-centric")
    with pytest.raises(ValueError, match="primary"):
        compute_standings(results, [unranked], tied)


def test_default_metrics_are_grouped_by_family_and_the_tie_test_is_named():
    from benchmark.metrics.spec import METRIC_FAMILIES

    families = [m.family for m in default_metrics()]
    assert families == sorted(families, key=METRIC_FAMILIES.index)
    test, statement = default_tie_test(0.05)
    assert "0.05" in statement and "Wilcoxon" in statement
    assert test(np.arange(10.0), np.arange(10.0)) is True


def test_controls_get_figures_but_no_rank_and_flag_what_they_match(tmp_path, make_result):
    make_result(tmp_path, "good", level=0.3, seed=1, n_clips=N)
    make_result(tmp_path, "noise_like", level=0.0, seed=2, n_clips=N)
    make_result(tmp_path, "random", level=0.0, seed=3, n_clips=N, meta={"group": "control"})
    st = compute_standings(load_results(tmp_path), default_metrics(), tied)
    assert st.controls == ("random",) and st.order[-1] == "random" and "random" not in st.overall_rank
    col = st.columns["clip_iou"]
    assert "random" not in col.ranks and "random" in col.values and "random" not in col.best
    assert col.no_better == {"noise_like"}
    assert st.columns["runtime_s"].no_better == frozenset()  # cost is never compared with a control


def test_overall_rank_leaves_out_cv_by_default_and_says_why(tmp_path, make_result):
    make_result(tmp_path, "a", level=0.1, seed=1)
    make_result(tmp_path, "b", level=0.0, seed=2)
    st = compute_standings(load_results(tmp_path), default_metrics(), tied)
    assert "cv" not in st.primary and "clip_iou" in st.primary and "cv" in st.left_out
    assert "random control" in st.left_out["cv"]
    fewer = compute_standings(load_results(tmp_path), default_metrics(), tied, left_out={"mauc": "test"})
    assert "mauc" not in fewer.primary and "cv" not in fewer.primary


def test_rank_intervals_resample_the_shared_clips(tmp_path, make_result):
    rng = np.random.default_rng(0)
    base = 0.5 + 0.05 * rng.standard_normal(N)
    clear = {m: base + (0.5 if get_metric(m).direction == "higher" else -0.5) for m in ("clip_iou",)}
    make_result(tmp_path, "clear_winner", scores=clear, seed=1, n_clips=N)
    make_result(tmp_path, "twin_a", scores={"clip_iou": base + 0.001 * rng.standard_normal(N)}, seed=2, n_clips=N)
    make_result(tmp_path, "twin_b", scores={"clip_iou": base + 0.001 * rng.standard_normal(N)}, seed=3, n_clips=N)
    specs = [get_metric("clip_iou")]
    st = compute_standings(load_results(tmp_path), specs, tied, n_resamples=500)
    assert st.rank_interval["clear_winner"] == (1, 1)
    assert st.rank_interval["twin_a"] == (2, 3) and st.rank_interval["twin_b"] == (2, 3)
    assert st.interval_clips == N
    for name, (lo, hi) in st.rank_interval.items():
        assert lo <= st.overall_rank[name] <= hi


def test_rank_intervals_are_reproducible_and_none_without_shared_clips(tmp_path, make_result):
    from benchmark.leaderboard.ranking import clip_table, rank_intervals

    make_result(tmp_path, "a", level=0.1, seed=1)
    make_result(tmp_path, "b", level=0.0, seed=2)
    results = load_results(tmp_path)
    specs = [m for m in default_metrics() if m.primary]
    tables = {r.name: clip_table(r, [s.name for s in specs]) for r in results}
    assert rank_intervals(tables, specs, n_resamples=200) == rank_intervals(tables, specs, n_resamples=200)
    tables["b"] = tables["b"].iloc[:0]
    intervals, shared = rank_intervals(tables, specs, n_resamples=200)
    assert shared == 0 and intervals == {"a": None, "b": None}


def test_seed_mean_is_the_figure_and_the_clip_table_is_centred_on_it(tmp_path, make_result):
    from benchmark.leaderboard.ranking import clip_table, column_interval

    make_result(tmp_path, "stoch", seeds=3, seed=1)
    make_result(tmp_path, "stoch_new", seeds=2, seed=2, seed_mean_file=True)
    by = {r.name: r for r in load_results(tmp_path)}
    r = by["stoch"]
    figure = column_value(r, "clip_iou")
    assert figure == pytest.approx(np.mean(r.summary["seeds"]["means"]["clip_iou"]))
    assert clip_table(r, ["clip_iou"])["clip_iou"].mean() == pytest.approx(figure)
    assert column_interval(r, "clip_iou")[2] == "seed 0" and column_interval(r, "runtime_s") is None
    new = by["stoch_new"]
    assert column_value(new, "clip_iou") == pytest.approx(new.summary["seeds"]["mean"]["clip_iou"]["mean"])
    assert column_interval(new, "clip_iou")[2] == ""
