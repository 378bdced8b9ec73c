"""Bootstrap intervals and the paired test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmark.metrics import Interval, bootstrap_ci, paired_test, tied


def test_bootstrap_is_deterministic_per_seed():
    values = np.random.default_rng(0).normal(size=40)
    a = bootstrap_ci(values, n_resamples=500, seed=3)
    assert a == bootstrap_ci(list(values), n_resamples=500, seed=3)
    assert a != bootstrap_ci(values, n_resamples=500, seed=4)
    assert a.mean == pytest.approx(values.mean(), abs=1e-15)
    assert a.low < a.mean < a.high


def test_bootstrap_of_a_constant_is_a_point():
    assert bootstrap_ci([0.7] * 10, seed=0) == Interval(0.7, 0.7, 0.7)


def test_bootstrap_coverage_is_sane():
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        sample = rng.normal(loc=2.0, scale=1.0, size=40)
        ci = bootstrap_ci(sample, n_resamples=400, seed=trial)
        covered += ci.low <= 2.0 <= ci.high
    assert 0.88 <= covered / 200 <= 0.99


def test_bootstrap_narrows_with_more_clips_and_less_confidence():
    rng = np.random.default_rng(2)
    small = bootstrap_ci(rng.normal(size=10), seed=0)
    large = bootstrap_ci(rng.normal(size=1000), seed=0)
    assert large.high - large.low < small.high - small.low
    values = rng.normal(size=40)
    wide = bootstrap_ci(values, confidence=0.99, seed=0)
    narrow = bootstrap_ci(values, confidence=0.5, seed=0)
    assert wide.low < narrow.low < narrow.high < wide.high


@pytest.mark.parametrize("bad", [[1.0, np.nan], [np.inf, 1.0], [], [[1.0, 2.0]]])
def test_bootstrap_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="values"):
        bootstrap_ci(bad, seed=0)


def test_bootstrap_rejects_bad_settings():
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_ci([1.0, 2.0], n_resamples=0, seed=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0], confidence=1.0, seed=0)


def test_identical_samples_are_tied():
    a = np.random.default_rng(3).random(40)
    result = paired_test(a, a.copy())
    assert (result.p_value, result.mean_diff, result.method) == (1.0, 0.0, "identical")
    assert tied(a, a)


def test_shifted_samples_are_separated():
    rng = np.random.default_rng(4)
    a = rng.random(40)
    b = a + 0.2 + rng.normal(scale=0.01, size=40)
    result = paired_test(b, a)
    assert result.method == "wilcoxon-exact"
    assert result.p_value < 1e-6
    assert result.mean_diff == pytest.approx(np.mean(b - a))
    assert result.p_value == pytest.approx(stats.wilcoxon(b - a, method="exact").pvalue)
    assert not tied(a, b)


def test_noise_alone_is_tied():
    rng = np.random.default_rng(5)
    a = rng.random(40)
    b = a + rng.normal(scale=0.01, size=40)
    b[:20] = a[:20] - (b[:20] - a[:20])  # symmetric differences
    assert paired_test(a, b).p_value > 0.5
    assert tied(a, b)


def test_zeros_and_ties_use_the_normal_approximation():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    b = a - np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # a zero and a tie
    result = paired_test(a, b)
    assert result.method == "wilcoxon-asymptotic"
    expected = stats.wilcoxon(a - b, zero_method="wilcox", correction=False, method="asymptotic").pvalue
    assert result.p_value == pytest.approx(expected)


def test_paired_test_rejects_bad_input():
    with pytest.raises(ValueError, match="same clips"):
        paired_test([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        paired_test([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="alpha"):
        tied([1.0], [2.0], alpha=0.0)


def test_kendall_w_is_one_for_agreement_and_matches_the_textbook_example():
    from benchmark.metrics.statistics import kendall_w, mean_pairwise_tau

    same = np.array([[1, 2, 3, 4], [10, 20, 30, 40], [0.1, 0.2, 0.3, 0.4]])
    assert kendall_w(same) == pytest.approx(1.0) and mean_pairwise_tau(same) == pytest.approx(1.0)
    opposite = np.array([[1, 2, 3, 4], [4, 3, 2, 1]])
    assert kendall_w(opposite) == pytest.approx(0.0) and mean_pairwise_tau(opposite) == pytest.approx(-1.0)
    # m = 3 raters, n = 4 items, no ties: rank sums 4, 7, 8, 11 -> S = 25, W = 12 * 25 / (9 * 60) = 0.5556
    example = np.array([[1, 2, 3, 4], [2, 1, 3, 4], [1, 4, 2, 3]])
    assert kendall_w(example) == pytest.approx(12 * 25 / (9 * 60), rel=1e-12)
    with pytest.raises(ValueError, match="raters >= 2"):
        kendall_w(np.ones((1, 4)))
