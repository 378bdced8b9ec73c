"""Similarity of two attribution maps (Spearman, SSIM) and the randomisation test's verdict."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmark.metrics.similarity import compare_maps, frame_ssim, spearman, verdict

# --------------------------------------------------------------------------------------------- similarity


def test_identical_maps_score_one_and_independent_noise_about_zero():
    rng = np.random.default_rng(0)
    a = rng.random((20, 32, 48))
    assert spearman(a, a) == (pytest.approx(1.0), False)
    assert frame_ssim(a, a) == pytest.approx(1.0)
    b = rng.random((20, 32, 48))
    rho, flagged = spearman(a, b)
    assert abs(rho) < 0.03 and not flagged
    assert abs(frame_ssim(a, b)) < 0.1
    # Scale does not matter to either measure.
    assert spearman(a, 7 * a)[0] == pytest.approx(1.0) and frame_ssim(a, 7 * a) == pytest.approx(1.0)


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    a = np.maximum(rng.standard_normal((4, 6, 8)), 0)  # about half the voxels tie at 0
    b = np.maximum(a + rng.standard_normal(a.shape), 0)
    assert spearman(a, b)[0] == pytest.approx(stats.spearmanr(a.ravel(), b.ravel()).statistic)


def test_constant_maps_are_flagged_never_nan():
    rng = np.random.default_rng(2)
    a, zero = rng.random((3, 8, 8)), np.zeros((3, 8, 8))
    assert spearman(a, zero) == (0.0, True)
    assert spearman(zero, a) == (0.0, True)
    assert spearman(zero, zero) == (1.0, True)  # nothing changed
    assert np.isfinite(frame_ssim(a, zero))
    with pytest.raises(ValueError, match="NaN"):
        spearman(a, np.full_like(a, np.nan))
    with pytest.raises(ValueError, match="different shapes"):
        spearman(a, a[:2])


def test_compare_maps_scores_the_clipped_map_and_the_absolute_map():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 16, 16))
    flipped = compare_maps(a, -a)
    assert flipped["absolute"].spearman == pytest.approx(1.0)  # |A| does not see a sign flip
    assert flipped["scored"].spearman < 0  # E = clip(A, 0) does


def test_verdict_rule():
    assert verdict([0.1, 0.2, 0.3], [False] * 3, 0.5) == "pass"
    assert verdict([0.9, 0.4, 0.5], [False] * 3, 0.5) == "fail"
    assert verdict([0.5, 0.5], [False] * 2, 0.5) == "fail"  # strictly below passes
    assert verdict([0.0, 0.0, 0.0], [True, True, False], 0.5) == "inconclusive"
