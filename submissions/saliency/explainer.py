"""Vanilla gradient saliency (Simonyan et al. 2014) with Captum's ``Saliency``.

The map is ``|d score / d x|`` (Captum's ``abs=True``, the paper's choice), reduced over the colour channels
by their maximum as in the paper (``channels: max``; ``sum`` leaves it to the harness's channel sum). The
score is the log-odds of ``p(target)`` (:mod:`benchmark.explain.scores`): the gradient of ``p`` times
``1 / (p (1 - p))``, the same map up to a positive factor per clip, without the softmax's float32 underflow
near ``p = 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import Saliency
from torch import nn

from benchmark.explain.scores import score_model

CHANNEL_REDUCTIONS = ("max", "sum")


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """Saliency maps ``(B, T, H, W)`` (``channels: max``) or ``(B, 3, T, H, W)`` (``sum``).

    ``params``: ``abs``, ``channels`` and ``score`` (``log_odds`` or ``probability``). No baseline,
    deterministic. Cost: 1 forward + 1 backward sample per clip, all clips in one pass.
    """
    channels = str(params["channels"])
    if channels not in CHANNEL_REDUCTIONS:
        raise ValueError(f"saliency: params channels must be one of {list(CHANNEL_REDUCTIONS)}, got {channels!r}.")
    gradients = Saliency(score_model(model, str(params["score"]))).attribute(
        clips.detach().clone().requires_grad_(True), target=target, abs=bool(params["abs"])
    ).detach()
    return gradients.amax(dim=1) if channels == "max" else gradients
