"""The batched occlusion engine: full forward passes of the occluded clips, for any model.

The occluded clips are built in place in a reused batch and run through the model under
``torch.inference_mode``; the clean clip shares the first batch. The result is Captum's
:class:`~captum.attr.Occlusion` (see :mod:`~benchmark.explain.engines.windows`) up to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from benchmark.explain.batching import ONEDNN_MIN_BATCH, batch_memory_format
from benchmark.explain.engines.layerwise import unwrap_i3d
from benchmark.explain.engines.stats import OcclusionStats
from benchmark.explain.engines.windows import attribution_from_drops, check_clip_pair, occlusion_windows
from benchmark.model.graph import pass_macs


def fast_layout(x: torch.Tensor) -> torch.Tensor:
    """``x`` in ``torch.channels_last_3d`` for a CPU batch of at least :data:`ONEDNN_MIN_BATCH` samples
    (the I3D's pooling runs about twice as fast there), else unchanged; the values are the same."""
    return x.contiguous(memory_format=batch_memory_format(x)) if x.shape[0] >= ONEDNN_MIN_BATCH else x


def fast_clone(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` already in the layout :func:`fast_layout` would give it (saves a second copy)."""
    return x.clone(memory_format=batch_memory_format(x))


def target_probability(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """``model(x)[:, target]`` for a batch ``x`` in :func:`fast_layout`; a model of another shape raises."""
    out = model(fast_layout(x))
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or not 0 <= target < out.shape[1]:
        raise ValueError(
            f"occlusion: the model must map (B, C, T, H, W) to (B, classes) with target {target} < classes, "
            f"got {tuple(getattr(out, 'shape', ()))}."
        )
    return out[:, target]


def occluded_probabilities(
    model: nn.Module,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    boxes: np.ndarray,
    *,
    target: int,
    batch_size: int,
) -> tuple[float, np.ndarray]:
    """``p(x)[target]`` and ``p(x_k)[target]`` for every box ``k``, by full batched forward passes.

    Args:
        model: ``(N, C, T, H, W) -> (N, classes)``.
        clip: ``x``, ``(C, T, H, W)``.
        baseline: ``b``, the same shape.
        boxes: int ``(K, 3, 2)`` ``[lo, hi)`` boxes over ``(T, H, W)`` (see :func:`occlusion_windows`).
        target: the output column.
        batch_size: clips per model call; the clean clip is the first sample of the first call.

    Returns:
        ``(p0, p)`` with ``p`` float64 ``(K,)``.
    """
    if batch_size < 1:
        raise ValueError(f"occlusion: batch_size must be >= 1, got {batch_size}.")
    # item 0 is the clean clip, item j > 0 is box j - 1: the clean pass shares the first batch, so that
    # 1 + K samples run in full batches (no separate batch-1 call, which costs ~3 samples on a CPU)
    total = 1 + len(boxes)
    q = np.empty(total)
    with torch.inference_mode():
        buffer = fast_clone(clip.unsqueeze(0).expand(min(batch_size, total), *clip.shape))
        for start in range(0, total, batch_size):
            stop = min(start + batch_size, total)
            batch = buffer[: stop - start]
            occluded = [(slot, boxes[j - 1]) for slot, j in zip(batch, range(start, stop)) if j > 0]
            for slot, ((t0, t1), (h0, h1), (w0, w1)) in occluded:
                slot[:, t0:t1, h0:h1, w0:w1] = baseline[:, t0:t1, h0:h1, w0:w1]
            q[start:stop] = target_probability(model, batch, target).double().cpu().numpy()
            for slot, ((t0, t1), (h0, h1), (w0, w1)) in occluded:  # undo, for the next chunk
                slot[:, t0:t1, h0:h1, w0:w1] = clip[:, t0:t1, h0:h1, w0:w1]
    p0, p = float(q[0]), q[1:]
    return p0, p


def batched_occlusion(
    model: nn.Module,
    clips: torch.Tensor,
    baselines: torch.Tensor,
    *,
    window: Sequence[int],
    stride: Sequence[int],
    target: int,
    batch_size: int,
    stats: OcclusionStats | None = None,
) -> torch.Tensor:
    """Occlusion with windows spanning all channels, batched, for any model.

    Args:
        model: ``(N, C, T, H, W) -> (N, classes)``.
        clips: ``(B, C, T, H, W)``.
        baselines: the same shape; window contents are replaced by it.
        window: ``(wT, wH, wW)`` voxels.
        stride: ``(sT, sH, sW)`` voxels.
        target: the output column explained.
        batch_size: occluded clips per model call.
        stats: filled in when given.

    Returns:
        ``(B, C, T, H, W)`` attributions of the clips' dtype, equal to Captum's ``Occlusion`` with
        ``sliding_window_shapes=(C, *window)``, ``strides=(C, *stride)`` up to float rounding.
    """
    check_clip_pair(clips, baselines)
    channels, *volume = clips.shape[1:]
    shape = tuple(int(v) for v in volume)
    boxes = occlusion_windows(shape, window, stride)
    out = []
    for x, b in zip(clips, baselines):
        p0, p = occluded_probabilities(model, x, b, boxes, target=target, batch_size=batch_size)
        out.append(attribution_from_drops(boxes, p0 - p, channels, shape, clips.dtype))
    if stats is not None:
        stats.engine = stats.engine or "batched"
        stats.windows = len(boxes)
        stats.forward_samples += clips.shape[0] * (1 + len(boxes))
        net = unwrap_i3d(model)[0]
        if net is not None:
            full = pass_macs(net, tuple(clips.shape[1:]))
            stats.macs += clips.shape[0] * (1 + len(boxes)) * full
            stats.plain_macs += clips.shape[0] * (1 + len(boxes)) * full
    return torch.stack(out).to(clips.device)
