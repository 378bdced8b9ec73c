"""The random control: seeded N(0, 1) noise of the clips' shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
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
    """Noise ``(B, 3, T, H, W)`` drawn from ``generator`` (on its device); never runs the model."""
    noise = torch.randn(clips.shape, generator=generator, device=generator.device, dtype=torch.float32)
    return noise.to(clips.device)
