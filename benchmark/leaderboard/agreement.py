"""How our ordering of the eight baselines agrees with the paper's, metric by metric.

Rank agreement ignores scale (our figures come from another model, input size and data), and asks only
whether the methods come out in the same order. Both coefficients compare the raw values, so the
direction of a metric does not matter (reversing both orders leaves them unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from benchmark.leaderboard.paper import PaperTable


@dataclass(frozen=True)
class Agreement:
    """Rank agreement on one metric over the ``n`` baselines both sides have.

    ``spearman``/``kendall`` are ``None`` when undefined (fewer than 3 methods, or a constant column).
    """

    metric: str
    n: int
    spearman: float | None
    spearman_p: float | None
    kendall: float | None
    kendall_p: float | None


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def rank_agreement(ours: Mapping[str, Mapping[str, float]], paper: PaperTable,
                   metrics: Sequence[str] | None = None) -> list[Agreement]:
    """Spearman's rho and Kendall's tau-b between our values and the paper's, per metric.

    Args:
        ours: ``ours[submission][metric] -> value`` (our leaderboard figures; missing entries are skipped).
        paper: the paper's table.
        metrics: which metrics (default: every column of the paper's table).
    """
    out = []
    for metric in metrics or paper.metrics:
        names = sorted(n for n in paper.rows if n in ours and metric in ours[n] and metric in paper.rows[n]
                       and ours[n][metric] is not None and math.isfinite(float(ours[n][metric])))
        a = [float(ours[n][metric]) for n in names]
        b = [float(paper.rows[n][metric]) for n in names]
        rho = rho_p = tau = tau_p = None
        if len(names) >= 3 and len(set(a)) > 1 and len(set(b)) > 1:
            r = stats.spearmanr(a, b)
            t = stats.kendalltau(a, b)
            rho, rho_p, tau, tau_p = (_finite(r.statistic), _finite(r.pvalue), _finite(t.statistic),
                                      _finite(t.pvalue))
        out.append(Agreement(metric, len(names), rho, rho_p, tau, tau_p))
    return out
