"""Statistics over clips: bootstrap confidence intervals and paired tests between submissions.

Protocol, "Statistics": every mean over clips carries a 95 % percentile-bootstrap interval (clips
resampled with replacement, a recorded seed); two submissions are *tied* on a metric when a paired
test over the same clips cannot separate them.

Choices made here, the same for every submission:

* Bootstrap: ``n_resamples`` resamples of ``n`` clips drawn by ``numpy.random.default_rng(seed)``;
  the interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled
  means (NumPy's default linear interpolation).
* Paired test: two-sided Wilcoxon signed-rank test on ``d = a - b`` (``scipy.stats.wilcoxon``) with
  ``zero_method="wilcox"`` (zero differences are dropped). The p-value is exact when no difference is
  zero, no two ``|d|`` tie and ``n <= 50``; otherwise it is the normal approximation with scipy's tie
  correction and no continuity correction. When every difference is zero, ``p = 1``.
* ``tied(a, b, alpha)``: ``p >= alpha``. No correction for multiple comparisons is applied.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

_EXACT_MAX_N = 50


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap confidence interval, ``low <= mean <= high`` in practice."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class PairedResult:
    """A paired comparison of two submissions over the same clips.

    Attributes:
        p_value: two-sided p-value in ``[0, 1]``.
        mean_diff: ``mean(a - b)``.
        method: ``"wilcoxon-exact"``, ``"wilcoxon-asymptotic"`` or ``"identical"`` (all differences zero).
    """

    p_value: float
    mean_diff: float
    method: str


def _as_values(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence of per-clip values, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name}: holds {int((~np.isfinite(array)).sum())} NaN/inf value(s); "
            "a per-clip metric must be finite (fix or drop the failed clips explicitly)."
        )
    return array


def bootstrap_ci(
    values: Any, *, n_resamples: int = 1000, confidence: float = 0.95, seed: int
) -> Interval:
    """Percentile-bootstrap confidence interval of the mean of per-clip values.

    Args:
        values: per-clip values, shape ``(n,)``, finite.
        n_resamples: bootstrap resamples (the protocol asks for at least 1000).
        confidence: coverage of the interval, in ``(0, 1)``.
        seed: seed of the ``numpy.random.Generator``; the same seed gives the same interval.

    Returns:
        :class:`Interval` with the sample mean and the interval bounds.
    """
    array = _as_values(values, "values")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples: expected a positive integer, got {n_resamples!r}.")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a value in (0, 1), got {confidence!r}.")
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, array.size, size=(int(n_resamples), array.size))
    means = array[indices].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(mean=float(array.mean()), low=float(low), high=float(high))


def paired_test(a: Any, b: Any) -> PairedResult:
    """Two-sided Wilcoxon signed-rank test of per-clip values ``a`` against ``b`` on the same clips.

    Args:
        a, b: per-clip values of two submissions, shape ``(n,)`` each, in the same clip order.

    Returns:
        :class:`PairedResult`; ``p_value = 1`` and ``method = "identical"`` when ``a == b`` everywhere.
    """
    x = _as_values(a, "a")
    y = _as_values(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a, b: expected values for the same clips, got {x.size} and {y.size} values.")
    diff = x - y
    mean_diff = float(diff.mean())
    nonzero = diff[diff != 0.0]
    if nonzero.size == 0:
        return PairedResult(p_value=1.0, mean_diff=mean_diff, method="identical")
    magnitudes = np.abs(nonzero)
    exact = (
        nonzero.size == diff.size
        and nonzero.size <= _EXACT_MAX_N
        and np.unique(magnitudes).size == magnitudes.size
    )
    method = "exact" if exact else "asymptotic"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that small samples suit the normal approximation poorly
        result = stats.wilcoxon(diff, zero_method="wilcox", correction=False, method=method)
    p_value = float(result.pvalue)
    if not np.isfinite(p_value):
        raise ValueError(f"paired_test: the Wilcoxon test returned p = {p_value} for {diff.size} differences.")
    return PairedResult(p_value=min(p_value, 1.0), mean_diff=mean_diff, method=f"wilcoxon-{method}")


def tied(a: Any, b: Any, alpha: float = 0.05) -> bool:
    """Whether the paired test cannot separate ``a`` and ``b`` at level ``alpha`` (``p >= alpha``)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a value in (0, 1), got {alpha!r}.")
    return paired_test(a, b).p_value >= alpha


def kendall_w(scores: Any) -> float:
    """Kendall's coefficient of concordance of ``m`` raters ranking the same ``n`` items, in ``[0, 1]``.

    ``scores`` is ``(m, n)``: row ``r`` holds rater ``r``'s values (here: one model instance's mean score of
    each submission); each row is ranked with average ranks for ties, and ``W = 12 S / (m^2 (n^3 - n) -
    m T)`` with ``S`` the sum of squared deviations of the rank sums and ``T`` the tie correction
    ``sum (t^3 - t)`` over tied groups. ``1`` is perfect agreement. Needs ``n >= 2`` items and ``m >= 2``
    raters; all-tied data (no ordering to agree on) gives ``nan``.
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 2:
        raise ValueError(f"kendall_w: expected (raters >= 2, items >= 2) scores, got shape {values.shape}.")
    if not np.isfinite(values).all():
        raise ValueError("kendall_w: scores hold NaN or inf.")
    m, n = values.shape
    ranks = np.vstack([stats.rankdata(row) for row in values])
    ties = sum(float(np.sum(counts**3 - counts)) for counts in
               (np.unique(row, return_counts=True)[1] for row in values))
    sums = ranks.sum(axis=0)
    s = float(np.sum((sums - sums.mean()) ** 2))
    denominator = m**2 * (n**3 - n) - m * ties
    return float(12 * s / denominator) if denominator > 0 else float("nan")


def mean_pairwise_tau(scores: Any) -> float:
    """The mean Kendall tau-b over every pair of rows of ``(m, n)`` scores (``nan`` if every pair is undefined)."""
    values = np.asarray(scores, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 2:
        raise ValueError(f"mean_pairwise_tau: expected (raters >= 2, items >= 2) scores, got {values.shape}.")
    taus = []
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tau = stats.kendalltau(values[i], values[j]).statistic
            if np.isfinite(tau):
                taus.append(float(tau))
    return float(np.mean(taus)) if taus else float("nan")
