"""Window sizes at another input size than the paper's.

Occlusion windows and strides are given at the paper's geometry: ``(frames, H, W)`` on a
``158 x 237`` grid. On a smaller grid (a fast profile) the spatial extents scale with it, so a
window covers the same part of the scene and the number of windows stays about the same:
``h' = max(1, round(h * H / 158))``, ``w' = max(1, round(w * W / 237))`` (round half up);
the number of frames is unchanged because clips always have 20 frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PAPER_HW: tuple[int, int] = (158, 237)


def scale_window(
    size: Sequence[int], input_hw: Sequence[int], paper_hw: Sequence[int] = PAPER_HW
) -> tuple[int, int, int]:
    """Scale a ``(frames, h, w)`` window or stride from ``paper_hw`` to ``input_hw``.

    Args:
        size: ``(frames, h, w)`` at the paper's geometry, positive integers.
        input_hw: ``(H, W)`` of the model input.
        paper_hw: ``(H, W)`` at which ``size`` is given (default ``(158, 237)``).

    Returns:
        ``(frames, round(h * H / H0), round(w * W / W0))``, each at least 1.

    Example:
        >>> scale_window((10, 52, 78), (48, 72))
        (10, 16, 24)
    """
    if len(size) != 3 or any(int(s) != s or s < 1 for s in size):
        raise ValueError(f"scale_window: size must be 3 positive integers (frames, h, w), got {tuple(size)}.")
    if any(len(hw) != 2 or any(v < 1 for v in hw) for hw in (input_hw, paper_hw)):
        raise ValueError(
            f"scale_window: input_hw and paper_hw must be (H, W) with positive sides, got {tuple(input_hw)}, "
            f"{tuple(paper_hw)}."
        )
    frames, h, w = (int(s) for s in size)
    return (
        frames,
        max(1, math.floor(h * input_hw[0] / paper_hw[0] + 0.5)),
        max(1, math.floor(w * input_hw[1] / paper_hw[1] + 0.5)),
    )


def count_windows(shape: Sequence[int], window: Sequence[int], stride: Sequence[int]) -> int:
    """Window positions of Captum's Occlusion: ``prod(ceil((D - w) / s) + 1)`` over the axes.

    Args:
        shape: the sample's shape, e.g. ``(3, T, H, W)``.
        window: the sliding window, same length (``w <= D``).
        stride: the strides, same length.

    Example:
        >>> count_windows((3, 20, 158, 237), (3, 10, 52, 78), (3, 10, 32, 32))
        60
    """
    if not len(shape) == len(window) == len(stride):
        raise ValueError(
            f"count_windows: shape {tuple(shape)}, window {tuple(window)} and stride {tuple(stride)} "
            "must have the same length."
        )
    if any(w > d or w < 1 or s < 1 for d, w, s in zip(shape, window, stride)):
        raise ValueError(
            f"count_windows: need 1 <= window <= shape and stride >= 1, got shape {tuple(shape)}, "
            f"window {tuple(window)}, stride {tuple(stride)}."
        )
    return math.prod(math.ceil((d - w) / s) + 1 for d, w, s in zip(shape, window, stride))
