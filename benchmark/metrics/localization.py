"""Human-centric (localisation) scores: IoU, F1 and ROC-AUC of the scored map against a pixel mask.

Protocol, "Human-centric (localisation) scores": with ``E`` the scored map, ``M`` the boolean mask
and ``E_tau = E >= tau`` for the 51 thresholds ``tau_i = i / N * max(E)`` (:func:`~benchmark.metrics.maps.thresholds`),

* ``IoU = max_i |M & E_tau_i| / |M | E_tau_i|``,
* ``F1 = max_i 2 TP / (2 TP + FP + FN)``,
* ``AUC`` = ROC-AUC of ``E`` (scores) against ``M`` (labels) over all voxels, ties by average ranks
  (equal to ``sklearn.metrics.roc_auc_score``).

The clip level scores all ``T x H x W`` voxels; the max-attribution-frame level scores the ``H x W``
pixels of frame ``t*`` (:func:`max_attribution_frame`), whose thresholds come from that frame's own
maximum. One sort of the map serves all 51 thresholds and the AUC (:func:`localization_scores`);
nothing loops over voxels. :func:`benchmark.metrics.human_centric.human_centric` computes both levels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmark.metrics._arrays import as_mask
from benchmark.metrics._ranking import auc_sorted, positive_positions, threshold_counts
from benchmark.metrics.maps import scored_map
from benchmark.metrics.spec import MetricSpec

LOCALIZATION_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("clip_iou", "human-centric", "higher", "Clip IoU",
               "Best IoU over the 51 thresholds of the scored map against the mask, over the whole clip.", True),
    MetricSpec("clip_f1", "human-centric", "higher", "Clip F1",
               "Best F1 over the 51 thresholds of the scored map against the mask, over the whole clip.", True),
    MetricSpec("clip_auc", "human-centric", "higher", "Clip AUC",
               "ROC-AUC of the scored map against the mask over every voxel of the clip.", True),
    MetricSpec("frame_iou", "human-centric", "higher", "Frame IoU",
               "Best IoU on the anomalous frame with the largest total attribution.", True),
    MetricSpec("frame_f1", "human-centric", "higher", "Frame F1",
               "Best F1 on the anomalous frame with the largest total attribution.", True),
    MetricSpec("frame_auc", "human-centric", "higher", "Frame AUC",
               "ROC-AUC on the anomalous frame with the largest total attribution.", True),
)
"""The human-centric metrics (registered by :mod:`benchmark.metrics`)."""


def localization_scores(sorted_keys: np.ndarray, taus: np.ndarray) -> dict[str, float]:
    """IoU, F1 and AUC of one map from its sorted keys and its thresholds.

    Args:
        sorted_keys: uint64 ``(L,)``: :func:`~benchmark.metrics._ranking.sort_keys` of the map and its
            mask (neither empty nor full), sorted ascending.
        taus: the map's thresholds, :func:`~benchmark.metrics.maps.thresholds` of the same map.

    Returns:
        ``{"iou", "f1", "auc"}`` as floats in ``[0, 1]``.
    """
    positions = positive_positions(sorted_keys)
    n_pos = positions.size
    tp, fp = threshold_counts(sorted_keys, positions, taus)
    # |M | E_tau| = |M| + FP and 2TP + FP + FN = TP + FP + |M|; both > 0 since |M| > 0.
    iou = float(np.max(tp / (n_pos + fp)))
    f1 = float(np.max(2 * tp / (tp + fp + n_pos)))
    auc = auc_sorted(sorted_keys, positions)
    return {"iou": iou, "f1": f1, "auc": auc}


def frame_index(E: np.ndarray, mask: np.ndarray) -> int:
    """``t*`` of a ``(T, H, W)`` scored map and boolean mask (see :func:`max_attribution_frame`)."""
    anomalous = np.count_nonzero(mask.reshape(mask.shape[0], -1), axis=1) > 0
    if not anomalous.any():
        raise ValueError("max_attribution_frame: no frame of the mask is anomalous; pass an anomalous clip.")
    totals = E.reshape(E.shape[0], -1).sum(axis=1)
    totals = np.where(anomalous, totals, -np.inf)
    return int(np.argmax(totals))  # the first maximum: ties go to the earliest frame


def max_attribution_frame(attribution: Any, mask: Any) -> int:
    """The frame ``t*`` with the largest ``sum(E[t])`` among the frames whose mask is non-empty.

    Args:
        attribution: ``(3, T, H, W)`` or ``(T, H, W)`` array or tensor.
        mask: boolean ``(T, H, W)``.

    Returns:
        ``t*`` in ``[0, T)``; ties go to the earliest frame (so an all-zero map gives the first
        anomalous frame).

    Raises:
        ValueError: a map without a time axis, mismatched shapes, or a mask without an anomalous frame.
    """
    E = scored_map(attribution)
    if E.ndim != 3:
        raise ValueError(f"attribution: expected (3, T, H, W) or (T, H, W), got a single frame {E.shape}.")
    return frame_index(E, as_mask(mask, E.shape))
