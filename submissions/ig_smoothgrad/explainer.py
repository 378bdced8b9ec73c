"""SmoothGrad over Integrated Gradients (Captum NoiseTunnel), the paper's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import IntegratedGradients, NoiseTunnel
from torch import nn

from benchmark.explain.batching import memory_budget_bytes, model_memory_format, step_batch_size
from benchmark.explain.seeding import seeded


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """IG+SmoothGrad attributions ``(B, 3, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    ``params``: ``n_steps``, ``method``, ``nt_type``, ``nt_samples``, ``stdevs``, ``memory_budget_gb``.
    The noise comes from torch's global RNG, seeded from ``generator`` by :func:`seeded`.
    Cost: ``nt_samples * n_steps`` forward + backward samples per clip.
    """
    n_steps = int(params["n_steps"])
    nt_samples = int(params["nt_samples"])
    layout = model_memory_format(clips)  # channels-last on a CPU: about 1.3x faster in batches of 16 or more
    batch = step_batch_size(
        clips.shape[1:], n_steps, nt_samples * clips.shape[0], budget_bytes=memory_budget_bytes(params),
        device=clips.device, channels_last=layout == torch.channels_last_3d,
    )
    tunnel = NoiseTunnel(IntegratedGradients(lambda x: model(x.contiguous(memory_format=layout))))
    with seeded(generator):
        attributions = tunnel.attribute(
            clips.detach().clone(),
            nt_type=str(params["nt_type"]),
            nt_samples=nt_samples,
            stdevs=float(params["stdevs"]),
            baselines=baselines.detach().clone(),
            target=target,
            n_steps=n_steps,
            method=str(params["method"]),
            internal_batch_size=batch,
        )
    return attributions.detach()
