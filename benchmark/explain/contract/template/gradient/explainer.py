"""Input x Gradient (Captum): the attribution of a voxel is its value times the gradient of p(target).

A working starting point: replace the body of ``explain`` with your method and keep its signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import InputXGradient
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
    """Attribute ``model(clips)[:, target]`` to the input voxels.

    Args:
        model: maps ``(B, 3, T, H, W)`` clips to class probabilities ``(B, 2)``; in eval mode.
        clips: ``(B, 3, T, H, W)`` float32 in model-input space ``[-1, 1]``; never modified.
        target: the class to explain (1, "anomalous").
        baselines: ``(B, 3, T, H, W)`` reference clips (the blurred clips); unused here.
        params: this submission's ``params`` (unused here).
        generator: the only allowed source of randomness (unused: the method is deterministic).

    Returns:
        Attributions ``(B, 3, T, H, W)``.
    """
    inputs = clips.detach().clone().requires_grad_(True)  # a copy: the caller's clips stay untouched
    return InputXGradient(model).attribute(inputs, target=target).detach()
