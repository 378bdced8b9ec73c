"""Every localisation and robustness score of one clip in one pass (the harness's fast path).

:func:`human_centric` computes the scored map once, sorts the clip once and its frames once, and
derives the clip-level scores, the max-attribution-frame scores and the robustness scores from those
two sorts (:func:`~benchmark.metrics.localization.localization_scores`,
:func:`~benchmark.metrics.robustness.robustness_from_rows`). Its values equal the plain protocol loop's
(one boolean mask per threshold, sklearn's AUC; the tests check it), and its robustness scores equal
:func:`~benchmark.metrics.robustness.robustness` exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmark.metrics._arrays import as_mask, check_labels, check_n_thresholds
from benchmark.metrics._ranking import sort_keys
from benchmark.metrics.localization import frame_index, localization_scores
from benchmark.metrics.maps import scored_map, thresholds
from benchmark.metrics.robustness import frame_sorted_keys, robustness_from_rows


def human_centric(attribution: Any, mask: Any, n_thresholds: int = 50) -> dict[str, float | int | bool]:
    """Clip-level and max-attribution-frame IoU/F1/AUC, and mAUC/stdAUC/Cv, of one clip.

    Args:
        attribution: ``(3, T, H, W)`` or ``(T, H, W)`` array or tensor (see :func:`scored_map`).
        mask: boolean ``(T, H, W)`` ground truth on the model grid.
        n_thresholds: ``N``; IoU and F1 use ``N + 1`` thresholds.

    Returns:
        ``clip_iou``, ``clip_f1``, ``clip_auc``, ``frame_index`` (``t*``, int), ``frame_iou``,
        ``frame_f1``, ``frame_auc``, ``mauc``, ``stdauc``, ``cv`` and ``degenerate`` (the scored map is
        all zero: scored as it falls, and to be flagged in the results).

    Raises:
        ValueError: an empty or full clip mask, a frame ``t*`` whose mask is full (its AUC is undefined),
            no frame with a usable mask, mismatched shapes, NaN/inf attributions.
    """
    n_thresholds = check_n_thresholds(n_thresholds)
    E = scored_map(attribution)
    if E.ndim != 3:
        raise ValueError(f"attribution: expected (3, T, H, W) or (T, H, W), got a single frame {E.shape}.")
    labels = as_mask(mask, E.shape)
    check_labels(labels, "human_centric (clip level)")

    keys = sort_keys(E, labels)
    clip = localization_scores(np.sort(keys.reshape(-1)), thresholds(E, n_thresholds))

    t_star = frame_index(E, labels)
    check_labels(labels[t_star], f"human_centric (max-attribution frame {t_star})")
    frame_rows = frame_sorted_keys(keys)
    frame = localization_scores(frame_rows[t_star], thresholds(E[t_star], n_thresholds))

    robust = robustness_from_rows(frame_rows)
    return {
        "clip_iou": clip["iou"],
        "clip_f1": clip["f1"],
        "clip_auc": clip["auc"],
        "frame_index": t_star,
        "frame_iou": frame["iou"],
        "frame_f1": frame["f1"],
        "frame_auc": frame["auc"],
        "mauc": robust["mauc"],
        "stdauc": robust["stdauc"],
        "cv": robust["cv"],
        "degenerate": bool(E.max() == 0.0),
    }
