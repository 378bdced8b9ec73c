"""Integrated Gradients (Captum) from the blurred baseline, the paper's 30 steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import IntegratedGradients
from torch import nn

from benchmark.explain.batching import (
    BACKWARD_ACTIVATION_FACTOR,
    batch_size_for,
    max_batch_for,
    memory_budget_bytes,
)


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
    batch = batch_size_for(
        clips.shape[1:],
        budget_bytes=memory_budget_bytes(params),
        activation_factor=BACKWARD_ACTIVATION_FACTOR,
        maximum=n_steps * clips.shape[0],
        cap=max_batch_for(clips.device),
    )
    attributions = IntegratedGradients(model).attribute(
        clips.detach().clone(),
        baselines=baselines.detach().clone(),
        target=target,
        n_steps=n_steps,
        method=str(params["method"]),
        internal_batch_size=batch,
    )
    return attributions.detach()
