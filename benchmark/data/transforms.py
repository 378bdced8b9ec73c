"""Pixels to model input.

The model sees gray frames replicated to 3 channels and scaled to ``[-1, 1]`` as
``x / 127.5 - 1`` (the convention of the Kinetics-trained I3D), laid out ``(3, T, H, W)``.
"""

from __future__ import annotations

import numpy as np
import torch

BLACK: float = -1.0
"""Pixel value 0 in model space (the "black" baseline)."""


def to_model_input(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Gray ``uint8`` frames to the model's input.

    Args:
        frames: ``uint8`` ``(T, H, W)`` (one clip) or ``(N, T, H, W)`` (a batch).

    Returns:
        ``float32`` ``(3, T, H, W)`` or ``(N, 3, T, H, W)`` in ``[-1, 1]``, on the CPU.

    Raises:
        ValueError: a dtype other than ``uint8`` or a rank other than 3 or 4.
    """
    x = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
    if x.dtype != torch.uint8:
        raise ValueError(f"frames: expected uint8 pixels, got {x.dtype}; pass the prepared clip's frames.")
    if x.dim() not in (3, 4):
        raise ValueError(f"frames: expected (T, H, W) or (N, T, H, W), got shape {tuple(x.shape)}.")
    x = x.to(torch.float32).div_(127.5).sub_(1.0)
    channel_dim = 0 if x.dim() == 3 else 1
    return x.unsqueeze(channel_dim).expand(*x.shape[:channel_dim], 3, *x.shape[channel_dim:]).contiguous()

