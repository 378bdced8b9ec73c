"""Detector quality: AUC and accuracy with clip and video bootstrap intervals (videos are the honest unit)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.model.quality import accuracy, roc_auc, scores_with_intervals


def _data(n_videos=6, per_video=16, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_videos * per_video)
    y[:2] = [0, 1]
    p = np.clip(0.3 * y + rng.normal(0.35, 0.2, y.size), 0, 1)
    videos = np.repeat([f"v{i}" for i in range(n_videos)], per_video)
    return p, y, videos


def test_point_values_are_the_plain_scores():
    p, y, videos = _data()
    out = scores_with_intervals(p, y, videos, resamples=200)
    assert out["roc_auc"].value == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert out["accuracy"].value == pytest.approx(np.mean((p >= 0.5) == y), rel=1e-12)
    for score in out.values():
        for ci in (score.clip_ci, score.video_ci):
            assert ci.low <= score.value <= ci.high


def test_the_video_interval_is_wider_when_videos_differ():
    _, y, videos = _data()
    right = np.repeat([True, True, True, False, False, False], 16)  # whole videos right or wrong: clustered errors
    p = np.where(right, y, 1 - y).astype(float)
    out = scores_with_intervals(p, y, videos, resamples=500)
    width = {k: ci.high - ci.low for k, ci in (("clip", out["accuracy"].clip_ci), ("video", out["accuracy"].video_ci))}
    assert width["video"] > width["clip"]


def test_reproducible_and_single_class_safe():
    p, y, videos = _data()
    a, b = (scores_with_intervals(p, y, videos, resamples=100, seed=3) for _ in range(2))
    assert a == b
    assert roc_auc(p, np.ones_like(y)) is None and accuracy(p[:0], y[:0]) is None
    with pytest.raises(ValueError, match="differ"):
        scores_with_intervals(p, y[:-1], videos)
