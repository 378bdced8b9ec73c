"""The scoring steps against their straightforward versions (for the performance table).

* deletion/insertion: :func:`benchmark.metrics.deletion_insertion` (batched, shared selections) against
  :func:`plain_deletion_insertion`, one model call per threshold and direction;
* localisation and robustness: :func:`benchmark.metrics.human_centric` (one sort of the clip and of
  its frames) against :func:`plain_human_centric`, 51 boolean masks per map and scikit-learn's
  ``roc_auc_score`` for every AUC.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.metrics import roc_auc_score


def plain_deletion_insertion(
    forward: Callable[[torch.Tensor], torch.Tensor],
    clip: torch.Tensor,
    attribution: np.ndarray,
    baseline: torch.Tensor,
    n_thresholds: int = 50,
) -> dict[str, float]:
    """Deletion and insertion by the definition: ``2 (N + 1) + 1`` model calls of one clip each.

    Args:
        forward: ``(B, C, T, H, W) -> p(anomalous) (B,)``.
        clip, baseline: ``(C, T, H, W)``.
        attribution: ``(T, H, W)`` scored map (non-negative).
        n_thresholds: ``N``.
    """
    E = np.asarray(attribution, dtype=np.float64)
    peak = E.max()
    normalised = torch.from_numpy(E / peak if peak > 0 else E)
    with torch.inference_mode():
        p_x = float(forward(clip.unsqueeze(0))[0])
        deletion, insertion = [], []
        for i in range(n_thresholds, -1, -1):
            selected = (normalised >= i / n_thresholds).unsqueeze(0)
            deletion.append(p_x - float(forward(torch.where(selected, baseline, clip).unsqueeze(0))[0]))
            insertion.append(p_x - float(forward(torch.where(selected, clip, baseline).unsqueeze(0))[0]))
    return {"deletion": float(np.mean(deletion)), "insertion": float(np.mean(insertion))}


def plain_human_centric(attribution: np.ndarray, mask: np.ndarray, n_thresholds: int = 50) -> dict[str, float]:
    """Clip and max-attribution-frame IoU/F1/AUC and mAUC/stdAUC/Cv with 51 masks and scikit-learn."""
    E = np.clip(np.asarray(attribution, dtype=np.float64), 0, None)
    M = np.asarray(mask, dtype=bool)

    def iou_f1(e: np.ndarray, m: np.ndarray) -> tuple[float, float]:
        best_iou = best_f1 = 0.0
        for i in range(n_thresholds + 1):
            sel = e >= i / n_thresholds * e.max()
            tp = np.count_nonzero(sel & m)
            fp = np.count_nonzero(sel & ~m)
            fn = np.count_nonzero(~sel & m)
            best_iou = max(best_iou, tp / (tp + fp + fn))
            best_f1 = max(best_f1, 2 * tp / (2 * tp + fp + fn))
        return best_iou, best_f1

    clip_iou, clip_f1 = iou_f1(E, M)
    clip_auc = roc_auc_score(M.ravel(), E.ravel())
    anomalous = M.reshape(M.shape[0], -1).any(axis=1)
    totals = np.where(anomalous, E.reshape(E.shape[0], -1).sum(axis=1), -np.inf)
    t = int(np.argmax(totals))
    frame_iou, frame_f1 = iou_f1(E[t], M[t])
    frame_auc = roc_auc_score(M[t].ravel(), E[t].ravel())
    aucs = [roc_auc_score(M[k].ravel(), E[k].ravel()) for k in range(M.shape[0]) if 0 < M[k].sum() < M[k].size]
    mauc, std = float(np.mean(aucs)), float(np.std(aucs))
    return {
        "clip_iou": clip_iou, "clip_f1": clip_f1, "clip_auc": float(clip_auc), "frame_iou": frame_iou,
        "frame_f1": frame_f1, "frame_auc": float(frame_auc), "mauc": mauc, "stdauc": std,
        "cv": std / mauc if std > 0 else 0.0,
    }
