"""Occlusion with the blurred baseline; windows given at the paper's geometry, scaled.

Computes exactly Captum's ``Occlusion`` (windows spanning all channels; the mean drop of
``p(target)`` over the windows covering each voxel) with :func:`benchmark.explain.occlusion.occlusion`:
the exact incremental engine for the project's I3D where a full pass costs at least 1 GMAC (only the
sub-volumes a window reaches are recomputed in the early layers), plain batches of the clean clip and the
occluded clips otherwise (a smaller I3D, any other model).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from benchmark.explain.batching import forward_batch_size, memory_budget_bytes, model_memory_format
from benchmark.explain.geometry import count_windows, scale_window
from benchmark.explain.occlusion import occlusion


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """Occlusion attributions ``(B, 3, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    ``params``: ``window`` and ``stride`` as ``(frames, H, W)`` at the paper's 158x237 grid (scaled
    to the clips' ``H x W`` by :func:`scale_window`; the window spans all channels), ``engine``
    (``auto``, ``incremental`` or ``batched``: the same result) and ``memory_budget_gb``.
    Deterministic; the model runs under inference mode. Cost: 1 + (number of window positions)
    forward samples per clip (full or incremental), no backward.
    """
    channels, _, height, width = clips.shape[1:]
    window = scale_window(params["window"], (height, width))
    stride = scale_window(params["stride"], (height, width))
    # the clean clip and every window: batches of at least 16 channels-last on a CPU, none left short
    batch = forward_batch_size(
        clips.shape[1:],
        1 + count_windows(clips.shape[1:], (channels, *window), (channels, *stride)),
        budget_bytes=memory_budget_bytes(params),
        device=clips.device,
        channels_last=model_memory_format(clips) == torch.channels_last_3d,
    )
    return occlusion(
        model,
        clips.detach(),
        baselines.detach(),
        window=window,
        stride=stride,
        target=target,
        batch_size=batch,
        engine=str(params["engine"]),
    )
