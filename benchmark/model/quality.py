"""How good the detector is: clip ROC-AUC and accuracy with intervals that respect how few videos there are.

The held-out side of the UCSD Ped2 split has 6 videos (96 clips, 18 of them normal). Clips of one video are
not independent, so besides the usual clip bootstrap the card reports a **video-level bootstrap**: resample
the videos with replacement, keep every clip of a drawn video, recompute the score (resamples that draw a
single class are redrawn). Both are 95 % percentile intervals with a fixed seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = ["THRESHOLD", "Interval", "ScoreWithIntervals", "accuracy", "roc_auc", "scores_with_intervals"]

THRESHOLD = 0.5
"""A clip is predicted anomalous when ``p(anomalous) >= THRESHOLD`` (the protocol's accuracy)."""


def roc_auc(p: np.ndarray, y: np.ndarray) -> float | None:
    """ROC-AUC of scores ``p`` for labels ``y`` (``None`` when ``y`` has one class)."""
    y = np.asarray(y)
    return float(roc_auc_score(y, p)) if y.size and len(np.unique(y)) == 2 else None


def accuracy(p: np.ndarray, y: np.ndarray, threshold: float = THRESHOLD) -> float | None:
    """The fraction of clips whose prediction ``p >= threshold`` equals the label (``None`` for no clips)."""
    y = np.asarray(y)
    return float(((np.asarray(p) >= threshold).astype(int) == y).mean()) if y.size else None


@dataclass(frozen=True)
class Interval:
    """A 95 % percentile bootstrap interval."""

    low: float
    high: float

    def as_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class ScoreWithIntervals:
    """A score, its clip-bootstrap and its video-bootstrap intervals."""

    value: float | None
    clip_ci: Interval | None
    video_ci: Interval | None

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "clip_ci": self.clip_ci.as_list() if self.clip_ci else None,
                "video_ci": self.video_ci.as_list() if self.video_ci else None}


def _bootstrap(score, p: np.ndarray, y: np.ndarray, groups: list[np.ndarray], resamples: int,
               rng: np.random.Generator) -> Interval | None:
    values = []
    attempts = 0
    while len(values) < resamples and attempts < 20 * resamples:
        attempts += 1
        idx = np.concatenate([groups[g] for g in rng.integers(0, len(groups), len(groups))])
        if score is roc_auc and len(np.unique(y[idx])) < 2:
            continue  # an AUC needs both classes: redraw
        values.append(score(p[idx], y[idx]))
    if not values:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return Interval(float(low), float(high))


def scores_with_intervals(p: Sequence[float], y: Sequence[int], videos: Sequence[str], *, resamples: int = 2000,
                          seed: int = 0) -> dict[str, ScoreWithIntervals]:
    """``{"roc_auc": ..., "accuracy": ...}`` of ``p`` against ``y``, each with a clip and a video bootstrap.

    Args:
        p: p(anomalous) per clip ``(N,)``.
        y: labels per clip ``(N,)`` in ``{0, 1}``.
        videos: the video of each clip ``(N,)`` (the video bootstrap's resampling unit).
        resamples: bootstrap resamples of each kind.
        seed: the bootstrap's seed (one generator per score and kind, so intervals are reproducible).
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=int)
    videos = np.asarray(videos)
    if not (p.shape == y.shape == videos.shape):
        raise ValueError(f"scores_with_intervals: p {p.shape}, y {y.shape} and videos {videos.shape} differ.")
    clip_groups = [np.array([i]) for i in range(len(p))]
    video_groups = [np.flatnonzero(videos == v) for v in sorted(set(videos.tolist()))]
    out = {}
    for k, (name, score) in enumerate((("roc_auc", roc_auc), ("accuracy", accuracy))):
        value = score(p, y)
        out[name] = ScoreWithIntervals(
            value,
            _bootstrap(score, p, y, clip_groups, resamples, np.random.default_rng([seed, k, 0])) if len(p) else None,
            _bootstrap(score, p, y, video_groups, resamples, np.random.default_rng([seed, k, 1]))
            if len(video_groups) > 1 else None,
        )
    return out
