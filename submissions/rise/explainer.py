"""RISE for video (Petsiuk et al. 2018, extended to space-time), blurred baseline.

``N`` random masks (:class:`benchmark.explain.rise.RiseMasks`: a binary grid of ``cells`` kept with
probability ``keep``, upsampled trilinearly and cropped at a random shift) weigh ``p(target)`` of the
clips they mask; the saliency is their weighted sum over each voxel's coverage ``sum_i M_i(v)``
(``normalization: coverage``), or over ``N keep`` (``keep``, the authors' normalisation): two estimates of
the same ``E[p | M(v) = 1]``, the first with far less seed noise (:mod:`benchmark.explain.rise`). The masks
come from ``generator`` alone; the model runs in channels-last batches of 16-32 on a CPU, none short, under
inference mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from benchmark.explain.batching import forward_batch_size, memory_budget_bytes, model_memory_format
from benchmark.explain.rise import RiseMasks, rise


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """RISE saliency ``(B, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    ``params``: ``n_masks`` (N), ``cells`` (the random grid, frames x H x W), ``keep`` (p),
    ``normalization`` (``coverage`` or ``keep``), ``memory_budget_gb``. The same masks for every clip of a call. Cost: ``N`` forward samples per clip.
    """
    n_masks = int(params["n_masks"])
    masks = RiseMasks(clips.shape[2:], params["cells"], float(params["keep"]), n_masks, generator)
    batch = forward_batch_size(
        clips.shape[1:], n_masks, budget_bytes=memory_budget_bytes(params), device=clips.device,
        channels_last=model_memory_format(clips) == torch.channels_last_3d,
    )
    return rise(model, clips.detach(), baselines.detach(), masks, target=target, batch_size=batch,
                normalization=str(params["normalization"]))
