"""Temporal robustness on constructed frames."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.metrics import frame_aucs, robustness


def _clip():
    rng = np.random.default_rng(0)
    T, H, W = 5, 6, 7
    M = np.zeros((T, H, W), dtype=bool)
    E = rng.random((T, H, W))
    # frame 0: empty mask (skipped); frame 1: a perfect map (AUC 1); frame 2: an inverted map (AUC 0);
    # frame 3: random with ties; frame 4: a full mask (skipped).
    M[1, :2, :3] = True
    E[1] = M[1] * 5.0
    M[2, 3:, 4:] = True
    E[2] = np.where(M[2], 0.1, 0.9)
    M[3] = rng.random((H, W)) < 0.3
    E[3] = np.round(E[3] * 4) / 4
    M[4] = True
    return E, M


def test_constructed_frames():
    E, M = _clip()
    auc3 = roc_auc_score(M[3].ravel(), E[3].ravel())
    expected = np.array([1.0, 0.0, auc3])
    scores = robustness(E, M)
    assert scores["mauc"] == pytest.approx(expected.mean(), abs=1e-12)
    assert scores["stdauc"] == pytest.approx(expected.std(), abs=1e-12)  # ddof = 0
    assert scores["cv"] == pytest.approx(expected.std() / expected.mean(), abs=1e-12)


def test_frame_aucs_mark_unusable_frames_nan():
    E, M = _clip()
    aucs = frame_aucs(E, M)
    assert np.isnan(aucs[0]) and np.isnan(aucs[4])
    assert aucs[1] == 1.0 and aucs[2] == 0.0
    assert aucs[3] == pytest.approx(roc_auc_score(M[3].ravel(), E[3].ravel()), abs=1e-12)


def test_channels_and_negatives():
    E, M = _clip()
    attribution = np.stack([E, -E, E])  # sums to E
    assert robustness(attribution, M) == robustness(E, M)
    assert robustness(np.where(E > 0.5, E, -3.0), M) == robustness(np.where(E > 0.5, E, 0.0), M)


def test_all_frames_inverted_gives_zero_cv_not_nan():
    M = np.zeros((3, 4, 4), dtype=bool)
    M[:, 0, :] = True
    E = np.where(M, 0.0, 1.0)  # every anomalous pixel below every normal one
    assert robustness(E, M) == {"mauc": 0.0, "stdauc": 0.0, "cv": 0.0}


def test_constant_frames_give_half():
    M = np.zeros((2, 3, 3), dtype=bool)
    M[:, 1, 1] = True
    assert robustness(np.zeros((2, 3, 3)), M) == {"mauc": 0.5, "stdauc": 0.0, "cv": 0.0}


def test_no_usable_frame_is_rejected():
    M = np.zeros((3, 2, 2), dtype=bool)
    M[1] = True  # full: unusable; the others empty
    with pytest.raises(ValueError, match="no frame"):
        robustness(np.ones((3, 2, 2)), M)


def test_single_frame_and_mismatch_are_rejected():
    with pytest.raises(ValueError, match="single frame"):
        robustness(np.ones((3, 3)), np.eye(3, dtype=bool))
    with pytest.raises(ValueError, match="does not match"):
        robustness(np.ones((2, 3, 3)), np.ones((2, 3, 4), dtype=bool))
