"""Private kernels: ROC-AUC and threshold counts from one sort, vectorised, exact in integers.

A voxel's sort key is ``bits(E) << 1 | label`` as ``uint64``. For finite ``E >= 0`` (no ``-0.0``)
the IEEE-754 bit pattern is ordered like the value, so sorting the keys ranks the voxels by score,
negatives before positives within a tie, with no argsort. Then, for sorted keys of length ``L``
with positives at positions ``j_1 < ... < j_P``:

* the ``k``-th positive has ``j_k - k`` negatives before it: all those scored lower and all those tied
  with it. The Mann-Whitney statistic counts ties one half, so
  ``2 U = 2 * sum_k (j_k - k) - sum over positives of (negatives tied with it)``, and
  ``AUC = 2 U / (2 P (L - P))``: ties by average ranks, like ``sklearn.metrics.roc_auc_score``, with an
  exact integer numerator and one rounding;
* a score ``v`` is below ``tau`` exactly when its key is below ``bits(tau) << 1``, so the counts of
  ``E >= tau`` for all thresholds are binary searches in the keys.

Only the positives (usually a small share of a clip) are touched beyond two linear passes.
"""

from __future__ import annotations

import numpy as np

_ONE = np.uint64(1)


def sort_keys(E: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """uint64 keys of the same shape as ``E``; sort them along an axis to rank voxels by score.

    ``E`` must be float64, finite, ``>= 0`` and free of ``-0.0`` (what :func:`scored_map` returns).
    """
    keys = np.left_shift(np.ascontiguousarray(E, dtype=np.float64).view(np.uint64), _ONE)
    np.bitwise_or(keys, mask, out=keys, casting="unsafe")
    return keys


def positive_positions(sorted_keys: np.ndarray) -> np.ndarray:
    """Positions (int64, ascending) of the positives in sorted keys ``(L,)``."""
    return np.flatnonzero((sorted_keys & _ONE).astype(bool))


def auc_sorted(sorted_keys: np.ndarray, positions: np.ndarray) -> float:
    """ROC-AUC of sorted keys ``(L,)`` with positives at ``positions``; NaN without both classes."""
    n_pos = positions.size
    n_neg = sorted_keys.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    twice_u = 2 * (int(positions.sum()) - n_pos * (n_pos - 1) // 2)
    # Remove half of each positive-negative tie: for every distinct positive score, its positives
    # times the negatives with the same score (whose key is the positive key minus 1).
    positive_keys = sorted_keys[positions]
    distinct = np.ones(n_pos, dtype=bool)
    distinct[1:] = positive_keys[1:] != positive_keys[:-1]
    starts = np.flatnonzero(distinct)
    positives_per_score = np.diff(np.append(starts, n_pos))
    negative_keys = positive_keys[starts] - _ONE
    tied_negatives = np.searchsorted(sorted_keys, negative_keys, side="right") - np.searchsorted(
        sorted_keys, negative_keys, side="left"
    )
    twice_u -= int(np.dot(positives_per_score, tied_negatives))
    return twice_u / (2 * n_pos * n_neg)


def auc_rows(sorted_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ROC-AUC of ``(R, L)`` keys, each row sorted ascending.

    Returns:
        ``(auc, usable)``: float64 ``(R,)``, NaN on rows without both classes, and the boolean
        ``(R,)`` of rows with both classes. Callers select or reject the NaN rows; they never report them.
    """
    aucs = np.array([auc_sorted(row, positive_positions(row)) for row in sorted_rows], dtype=np.float64)
    return aucs, ~np.isnan(aucs)


def threshold_counts(
    sorted_keys: np.ndarray, positions: np.ndarray, taus: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives of ``E >= tau`` for every threshold ``tau >= 0``.

    Args:
        sorted_keys: uint64 ``(L,)``, sorted ascending.
        positions: the positives' positions in ``sorted_keys`` (:func:`positive_positions`).
        taus: float64 ``(K,)``, finite and ``>= 0``.

    Returns:
        ``(tp, fp)``: int64 arrays of shape ``(K,)``.
    """
    tau_keys = np.left_shift(np.ascontiguousarray(taus + 0.0, dtype=np.float64).view(np.uint64), _ONE)
    selected = sorted_keys.size - np.searchsorted(sorted_keys, tau_keys, side="left")
    tp = positions.size - np.searchsorted(sorted_keys[positions], tau_keys, side="left")
    return tp.astype(np.int64), (selected - tp).astype(np.int64)
