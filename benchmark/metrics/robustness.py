"""Temporal robustness: how steady the frame-level AUC is across a clip's anomalous frames.

Protocol, "Temporal robustness": the frame-level ROC-AUC on every frame whose mask is non-empty and
not full; ``mAUC`` is their mean, ``stdAUC`` their population standard deviation (``ddof = 0``) and
``Cv = stdAUC / mAUC``. When every frame AUC is 0 (a map that ranks every anomalous pixel below every
normal one), ``stdAUC = 0`` and ``Cv`` is defined as 0 (no variation), never NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmark.metrics._arrays import as_mask
from benchmark.metrics._ranking import auc_rows, sort_keys
from benchmark.metrics.maps import scored_map
from benchmark.metrics.spec import MetricSpec

ROBUSTNESS_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("mauc", "robustness", "higher", "mAUC",
               "Mean of the frame-level AUCs over the clip's anomalous frames.", True),
    MetricSpec("stdauc", "robustness", "lower", "stdAUC",
               "Population standard deviation of the frame-level AUCs over the clip's anomalous frames.", False),
    MetricSpec("cv", "robustness", "lower", "Cv",
               "Coefficient of variation stdAUC / mAUC of the frame-level AUCs.", False),  # see spec.py
)
"""The robustness metrics (registered by :mod:`benchmark.metrics`)."""


def frame_sorted_keys(keys: np.ndarray) -> np.ndarray:
    """Per-frame sorted keys, uint64 ``(T, H * W)``, from the keys ``(T, H, W)`` of ``sort_keys``."""
    return np.sort(keys.reshape(keys.shape[0], -1), axis=1)


def robustness_from_rows(sorted_rows: np.ndarray) -> dict[str, float]:
    """mAUC, stdAUC and Cv from per-frame sorted keys ``(T, H * W)``."""
    auc, usable = auc_rows(sorted_rows)
    if not usable.any():
        raise ValueError(
            "robustness: no frame has a mask that is both non-empty and not full; "
            "the frame AUCs are undefined for this clip."
        )
    aucs = auc[usable]
    mauc = float(np.mean(aucs))
    stdauc = float(np.std(aucs, ddof=0))
    cv = stdauc / mauc if stdauc > 0.0 else 0.0
    return {"mauc": mauc, "stdauc": stdauc, "cv": cv}


def frame_aucs(attribution: Any, mask: Any) -> np.ndarray:
    """The frame-level AUC of every frame, float64 ``(T,)``; NaN where the frame's mask is empty or full.

    A diagnostic (e.g. for plots); :func:`robustness` drops the NaN frames before averaging.
    """
    E = _frames(attribution)
    return auc_rows(frame_sorted_keys(sort_keys(E, as_mask(mask, E.shape))))[0]


def robustness(attribution: Any, mask: Any) -> dict[str, float]:
    """mAUC, stdAUC and Cv of an attribution over a clip's anomalous frames.

    Args:
        attribution: ``(3, T, H, W)`` or ``(T, H, W)`` array or tensor (see :func:`scored_map`).
        mask: boolean ``(T, H, W)``.

    Returns:
        ``{"mauc", "stdauc", "cv"}`` as floats.

    Raises:
        ValueError: no frame with a mask both non-empty and not full, mismatched shapes, NaN/inf.
    """
    E = _frames(attribution)
    return robustness_from_rows(frame_sorted_keys(sort_keys(E, as_mask(mask, E.shape))))


def _frames(attribution: Any) -> np.ndarray:
    E = scored_map(attribution)
    if E.ndim != 3:
        raise ValueError(f"attribution: expected (3, T, H, W) or (T, H, W), got a single frame {E.shape}.")
    return E
