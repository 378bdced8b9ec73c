"""Captum's occlusion windows, and the attribution that the drops of ``p`` over them give.

For one clip ``x`` ``(C, T, H, W)``, a baseline ``b``, a window spanning all channels and a stride,
Captum's :class:`~captum.attr.Occlusion` places windows at ``start_i = i * s`` for
``i = 0 .. ceil((D - w) / s)`` on each axis, each ``[start_i, min(start_i + w, D))`` (the last one is
cropped when ``s`` does not divide ``D - w``), and attributes to each voxel the mean of
``d_k = p(x) - p(x_k)`` over the windows ``k`` that contain it, the same for every channel.
:func:`occlusion_windows` gives the windows; :func:`attribution_from_drops` turns the drops into that
mean with a 3-D difference array in float64 (8 corner updates per window and three cumulative sums,
instead of one full-size masked add per window as in Captum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from benchmark.explain.geometry import count_windows


def occlusion_windows(
    shape: Sequence[int], window: Sequence[int], stride: Sequence[int]
) -> np.ndarray:
    """Captum's window positions over a ``(T, H, W)`` volume, as boxes.

    Args:
        shape: ``(T, H, W)``.
        window: ``(wT, wH, wW)``, each ``1 <= w <= D``.
        stride: ``(sT, sH, sW)``, each ``1 <= s <= w`` (Captum's rule, unless ``w == D``).

    Returns:
        int64 ``(K, 3, 2)``: ``[lo, hi)`` per axis for each of the ``K`` windows, in Captum's order
        (the first axis varies fastest); the last window per axis is cropped at ``D``.
    """
    shape, window, stride = (tuple(int(v) for v in a) for a in (shape, window, stride))
    if not len(shape) == len(window) == len(stride) == 3:
        raise ValueError(
            f"occlusion_windows: shape, window and stride must be (T, H, W) triples, got {shape}, {window}, {stride}."
        )
    count_windows(shape, window, stride)  # validates 1 <= w <= D, s >= 1
    if any(s > w and d != w for d, w, s in zip(shape, window, stride)):
        raise ValueError(
            f"occlusion_windows: stride {stride} may not exceed the window {window} (Captum's rule); "
            "choose a stride no larger than the window."
        )
    axes = []
    for d, w, s in zip(shape, window, stride):
        starts = np.arange(math.ceil((d - w) / s) + 1, dtype=np.int64) * s
        axes.append(np.stack([starts, np.minimum(starts + w, d)], axis=1))  # (n, 2)
    # Captum's feature number k decomposes with the first axis fastest.
    grids = np.meshgrid(*(np.arange(len(a)) for a in axes), indexing="ij")
    order = [g.transpose(2, 1, 0).reshape(-1) for g in grids]  # axis 0 varies fastest
    return np.stack([axes[a][order[a]] for a in range(3)], axis=1)


def box_sum(boxes: np.ndarray, values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """``sum_k values[k] * 1[box_k]`` over a ``(T, H, W)`` grid in float64, by a 3-D difference array."""
    diff = np.zeros(tuple(d + 1 for d in shape), dtype=np.float64)
    for corner in range(8):
        bits = [(corner >> a) & 1 for a in range(3)]
        idx = tuple(boxes[:, a, bits[a]] for a in range(3))
        np.add.at(diff, idx, values * (-1.0) ** sum(bits))
    return diff.cumsum(0).cumsum(1).cumsum(2)[: shape[0], : shape[1], : shape[2]]


def attribution_from_drops(
    boxes: np.ndarray, drops: np.ndarray, channels: int, shape: tuple[int, int, int], dtype: torch.dtype
) -> torch.Tensor:
    """The mean drop over the windows containing each voxel, ``(channels, T, H, W)`` of ``dtype``."""
    total = box_sum(boxes, drops, shape)
    count = box_sum(boxes, np.ones(len(boxes)), shape)
    mean = torch.from_numpy(total / count).to(dtype)
    return mean.unsqueeze(0).expand(channels, *shape).contiguous()


def check_clip_pair(clips: torch.Tensor, baselines: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``clips`` is ``(B, C, T, H, W)`` and ``baselines`` has its shape."""
    if not isinstance(clips, torch.Tensor) or clips.dim() != 5:
        raise ValueError(f"occlusion: clips must be a (B, C, T, H, W) tensor, got {getattr(clips, 'shape', clips)}.")
    if not isinstance(baselines, torch.Tensor) or baselines.shape != clips.shape:
        raise ValueError(
            f"occlusion: baselines must have the clips' shape {tuple(clips.shape)}, "
            f"got {tuple(getattr(baselines, 'shape', ()))}."
        )
