"""Occlusion (Captum) with the blurred baseline; windows given at the paper's geometry, scaled."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from captum.attr import Occlusion
from torch import nn

from benchmark.explain.batching import FORWARD_ACTIVATION_FACTOR, batch_size_for, memory_budget_bytes
from benchmark.explain.geometry import count_windows, scale_window


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
    to the clips' ``H x W`` by :func:`scale_window`; the window spans all channels), and
    ``memory_budget_gb``. Deterministic; the model runs without building graphs.
    Cost: 1 + (number of window positions) forward samples per clip, no backward.
    """
    channels, _, height, width = clips.shape[1:]
    window = scale_window(params["window"], (height, width))
    stride = scale_window(params["stride"], (height, width))
    sliding, strides = (channels, *window), (channels, *stride)
    batch = batch_size_for(  # Captum runs B clips per perturbation: B * batch samples per model call
        clips.shape[1:],
        budget_bytes=memory_budget_bytes(params) / clips.shape[0],
        activation_factor=FORWARD_ACTIVATION_FACTOR,
        maximum=count_windows(clips.shape[1:], sliding, strides),
    )
    with torch.no_grad():
        attributions = Occlusion(model).attribute(
            clips.detach().clone(),
            sliding_window_shapes=sliding,
            strides=strides,
            baselines=baselines.detach().clone(),
            target=target,
            perturbations_per_eval=batch,
        )
    return attributions.detach()
