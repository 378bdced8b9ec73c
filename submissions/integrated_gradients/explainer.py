"""Integrated Gradients (Captum) from the blurred baseline, the paper's 30 steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import IntegratedGradients
from torch import nn

from benchmark.explain.batching import memory_budget_bytes, model_memory_format, step_batch_size


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """IG attributions ``(B, 3, T, H, W)`` of ``p(target)`` for ``clips`` ``(B, 3, T, H, W)``.

    ``params``: ``n_steps``, ``method`` (Captum's quadrature), ``memory_budget_gb``.
    Deterministic: ``generator`` is not used. Cost: ``n_steps`` forward + backward samples per clip.
    """
    n_steps = int(params["n_steps"])
    layout = model_memory_format(clips)  # channels-last on a CPU: about 1.3x faster in batches of 16 or more
    batch = step_batch_size(
        clips.shape[1:], n_steps, 1 * clips.shape[0], budget_bytes=memory_budget_bytes(params),
        device=clips.device, channels_last=layout == torch.channels_last_3d,
    )
    attributions = IntegratedGradients(lambda x: model(x.contiguous(memory_format=layout))).attribute(
        clips.detach().clone(),
        baselines=baselines.detach().clone(),
        target=target,
        n_steps=n_steps,
        method=str(params["method"]),
        internal_batch_size=batch,
    )
    return attributions.detach()
