"""Guided Backpropagation (Captum): needs the model's ReLUs as separate, non-inplace nn.ReLU modules."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from captum.attr import GuidedBackprop
from torch import nn


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """Guided Backprop attributions ``(B, 3, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    Captum overrides the backward of every ``nn.ReLU`` module (functional ReLUs are not seen).
    No baseline, no parameters, deterministic. Cost: 1 forward + 1 backward sample per clip.
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError(
            "guided_backprop: the model has no nn.ReLU modules, so Guided Backprop would be a plain "
            "gradient; "
            "build the model with one nn.ReLU module per activation."
        )
    if any(m.inplace for m in relus):
        raise ValueError("guided_backprop: the model uses nn.ReLU(inplace=True); use non-inplace ReLUs.")
    inputs = clips.detach().clone().requires_grad_(True)  # a copy: the caller's clips stay untouched
    return GuidedBackprop(model).attribute(inputs, target=target).detach()
