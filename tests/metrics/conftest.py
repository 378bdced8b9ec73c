"""Independent reference computations for the metric tests: plain loops, sklearn, no shared code."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score


def _naive_localization(E: np.ndarray, mask: np.ndarray, n_thresholds: int = 50) -> dict[str, float]:
    """IoU/F1 from one boolean mask per threshold, AUC from sklearn; ``E`` is already the scored map."""
    peak = E.max()
    ious, f1s = [], []
    for i in range(n_thresholds + 1):
        selected = E >= (i / n_thresholds) * peak
        tp = np.logical_and(selected, mask).sum()
        fp = np.logical_and(selected, ~mask).sum()
        fn = np.logical_and(~selected, mask).sum()
        ious.append(tp / np.logical_or(selected, mask).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return {"iou": max(ious), "f1": max(f1s), "auc": roc_auc_score(mask.ravel(), E.ravel())}


def _naive_deletion_insertion(
    forward: Callable[[torch.Tensor], torch.Tensor],
    clip: torch.Tensor,
    E: np.ndarray,
    baseline: torch.Tensor,
    n_thresholds: int = 50,
) -> dict[str, object]:
    """The plain protocol loop: one forward per perturbed clip, 2 x (N + 1) + 1 passes."""
    normalised = E / E.max() if E.max() > 0 else E
    calls = 0

    def p(x: torch.Tensor) -> float:
        nonlocal calls
        calls += 1
        with torch.no_grad():
            return float(forward(x.unsqueeze(0))[0])

    p_x = p(clip)
    deletion_curve, insertion_curve = [], []
    for i in range(n_thresholds, -1, -1):
        selected = torch.from_numpy(normalised >= (i / n_thresholds) * normalised.max())
        deletion_curve.append(p(torch.where(selected, baseline, clip)))
        insertion_curve.append(p(torch.where(selected, clip, baseline)))
    return {
        "deletion": float(np.mean([p_x - v for v in deletion_curve])),
        "insertion": float(np.mean([p_x - v for v in insertion_curve])),
        "deletion_curve": deletion_curve,
        "insertion_curve": insertion_curve,
        "calls": calls,
    }


@pytest.fixture(scope="session")
def naive_localization() -> Callable[..., dict[str, float]]:
    return _naive_localization


@pytest.fixture(scope="session")
def naive_deletion_insertion() -> Callable[..., dict[str, object]]:
    return _naive_deletion_insertion
