"""Private plumbing: turning tensors and arrays into checked NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(value: Any, name: str) -> np.ndarray:
    """A NumPy view/copy of an array-like or tensor (detached, on the CPU); no dtype change.

    Tensors are recognised by their ``detach`` method, so that this module imports no torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a bad argument
        raise ValueError(f"{name}: expected a NumPy array or torch tensor, got {type(value).__name__}.") from exc


def as_float64(value: Any, name: str) -> np.ndarray:
    """``value`` as a finite float64 array; NaN/inf, complex, empty or non-numeric input raises ValueError."""
    array = to_numpy(value, name)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"{name}: expected real numbers (float or int), got dtype {array.dtype}.")
    if array.size == 0:
        raise ValueError(f"{name}: is empty (shape {array.shape}); pass a non-empty map.")
    array = np.asarray(array, dtype=np.float64)
    check_finite(array, name)
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise ValueError stating how many NaN / inf values ``array`` holds."""
    finite = np.isfinite(array)
    if not finite.all():
        n_nan = int(np.isnan(array).sum())
        n_inf = int((~finite).sum()) - n_nan
        raise ValueError(
            f"{name}: holds {n_nan} NaN and {n_inf} infinite value(s) out of {array.size}; "
            "a submission must return finite attributions (replace them, e.g. with torch.nan_to_num)."
        )


def as_mask(value: Any, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """``value`` as a boolean array of ``shape``.

    Booleans pass; integer or float arrays are accepted when they hold only 0 and 1.
    """
    array = to_numpy(value, name)
    if array.dtype != np.bool_:
        if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
            raise ValueError(f"{name}: expected a boolean mask, got dtype {array.dtype}.")
        if not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name}: expected a boolean mask; a {array.dtype} mask must hold only 0 and 1.")
        array = array.astype(bool)
    if array.shape != tuple(shape):
        raise ValueError(
            f"{name}: shape {tuple(array.shape)} does not match the scored map's {tuple(shape)}; "
            "resize the mask to the model grid (nearest neighbour) and pass (T, H, W) for (3, T, H, W) maps."
        )
    return array


def check_labels(mask: np.ndarray, what: str) -> None:
    """Raise ValueError when ``mask`` is empty or full: the ROC-AUC is undefined then."""
    n_pos = int(np.count_nonzero(mask))
    if n_pos == 0:
        raise ValueError(f"{what}: the mask is empty (no anomalous voxel); the AUC is undefined.")
    if n_pos == mask.size:
        raise ValueError(f"{what}: the mask is full (every voxel anomalous); the AUC is undefined.")


def check_n_thresholds(n_thresholds: Any) -> int:
    """``n_thresholds`` as a positive int, or ValueError."""
    if isinstance(n_thresholds, bool) or not isinstance(n_thresholds, (int, np.integer)) or n_thresholds < 1:
        raise ValueError(f"n_thresholds: expected a positive integer (the paper's is 50), got {n_thresholds!r}.")
    return int(n_thresholds)
