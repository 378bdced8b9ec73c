from __future__ import annotations

import pytest

from benchmark.leaderboard.agreement import rank_agreement
from benchmark.leaderboard.paper import PaperTable

NAMES = ["integrated_gradients", "ig_smoothgrad", "guided_backprop", "gradient_shap", "kernel_shap", "lime"]


def _paper(values):
    return PaperTable(("clip_auc",), {n: {"clip_auc": v} for n, v in zip(NAMES, values)})


def test_same_order_is_one_and_reversed_is_minus_one():
    paper = _paper([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    same = {n: {"clip_auc": 10 * v} for n, v in zip(NAMES, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])}
    rev = {n: {"clip_auc": -v} for n, v in zip(NAMES, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])}
    (a,) = rank_agreement(same, paper)
    (b,) = rank_agreement(rev, paper)
    assert a.n == 6 and a.spearman == pytest.approx(1.0) and a.kendall == pytest.approx(1.0)
    assert b.spearman == pytest.approx(-1.0) and b.kendall == pytest.approx(-1.0)


def test_one_swap_matches_hand_computed_coefficients():
    paper = _paper([1, 2, 3, 4, 5, 6])
    ours = {n: {"clip_auc": v} for n, v in zip(NAMES, [2, 1, 3, 4, 5, 6])}
    (a,) = rank_agreement(ours, paper)
    # one adjacent swap among 6: rho = 1 - 6*2/(6*35) ; tau = (14 - 1) / 15
    assert a.spearman == pytest.approx(1 - 12 / 210)
    assert a.kendall == pytest.approx(13 / 15)


def test_missing_methods_and_constant_columns_are_undefined_not_nan():
    paper = _paper([1, 2, 3, 4, 5, 6])
    ours = {NAMES[0]: {"clip_auc": 1.0}, NAMES[1]: {"clip_auc": 2.0}}
    (a,) = rank_agreement(ours, paper)
    assert a.n == 2 and a.spearman is None and a.kendall is None
    flat = {n: {"clip_auc": 0.5} for n in NAMES}
    (b,) = rank_agreement(flat, paper)
    assert b.n == 6 and b.spearman is None
