"""The scored map ``E`` and its thresholds (protocol: "The map that is scored", "Thresholds")."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmark.metrics._arrays import as_float64, check_finite, check_n_thresholds


def scored_map(attribution: Any) -> np.ndarray:
    """The map every metric scores: ``E = clip(sum over channels of the attribution, 0, inf)``.

    Args:
        attribution: float array or tensor of shape ``(C, T, H, W)`` (4-D is always channels-first;
            the channels are summed, in float64, *before* negatives are clipped), ``(T, H, W)`` or a
            single frame ``(H, W)``. A 3-D input is never read as ``(C, H, W)``: sum the channels of a
            single-frame map yourself. Tensors are detached and copied to the CPU.

    Returns:
        float64 array of shape ``(T, H, W)`` (or ``(H, W)``), finite and ``>= 0`` (no ``-0.0``).

    Raises:
        ValueError: NaN or inf in the attribution, an empty or non-numeric array, or another rank.
    """
    values = as_float64(attribution, "attribution")
    if values.ndim == 4:
        with np.errstate(over="ignore"):  # an overflow becomes inf, reported just below
            values = values.sum(axis=0)
        check_finite(values, "attribution summed over channels")
    elif values.ndim not in (2, 3):
        raise ValueError(
            f"attribution: expected shape (C, T, H, W), (T, H, W) or (H, W), got {tuple(values.shape)}."
        )
    # `+ 0.0` turns -0.0 into +0.0, so that the bit patterns of E are ordered like its values.
    E = np.maximum(values, 0.0)
    E += 0.0
    return E


def thresholds(E: Any, n_thresholds: int = 50) -> np.ndarray:
    """The ``N + 1`` thresholds ``tau_i = i / N * max(E)``, ``i = 0..N``, ascending.

    Args:
        E: a scored map (any shape), finite and non-negative; see :func:`scored_map`.
        n_thresholds: ``N`` (the paper's 50 gives 51 thresholds).

    Returns:
        float64 array of shape ``(N + 1,)``; ``tau_0 = 0`` selects every voxel and ``tau_N = max(E)``
        exactly. All zeros when ``E`` is all zero (the degenerate map).
    """
    n = check_n_thresholds(n_thresholds)
    values = as_float64(E, "E")
    if (values < 0).any():
        raise ValueError("E: holds negative values; pass the scored map, scored_map(attribution).")
    return (np.arange(n + 1, dtype=np.float64) / n) * float(values.max())
