"""Grad-CAM for a 3-D network (Selvaraju et al. 2017; Stergiou et al. 2019, Saliency Tubes), with Captum.

``LayerGradCam`` on an Inception block: the gradient of the score with respect to the block's output,
averaged over its ``(t, h, w)`` cells, weighs each channel of the block's activations; the weighted sum over
channels, through a ReLU, is upsampled to the clip by ``LayerAttribution.interpolate`` (trilinear). The block
is ``params["layer"]`` when the network has it, else the deepest Inception block before it
(:func:`benchmark.explain.layers.resolve_block`: a network truncated after ``Mixed_3c`` is explained at
``Mixed_3c``). The score is the log-odds of ``p(target)`` (:mod:`benchmark.explain.scores`): its gradient is
the gradient of ``p`` times ``1 / (p (1 - p))``, the same map up to a positive factor, without the softmax's
float32 underflow near ``p = 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import LayerAttribution, LayerGradCam
from torch import nn

from benchmark.explain.layers import resolve_block, unwrap_network
from benchmark.explain.scores import score_model


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """Grad-CAM maps ``(B, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    ``params``: ``layer`` (an I3D Inception block), ``relu`` (the paper's ReLU), ``score`` (``log_odds`` or
    ``probability``), ``interpolation`` (``trilinear`` or ``nearest``). No baseline, deterministic.
    Cost: 1 forward + 1 backward sample per clip, all clips in one pass.
    """
    net = unwrap_network(model)
    block = getattr(net, resolve_block(model, str(params["layer"])))
    cam = LayerGradCam(score_model(model, str(params["score"])), block).attribute(
        clips.detach().clone(), target=target, relu_attributions=bool(params["relu"])
    )  # (B, 1, t, h, w)
    upsampled = LayerAttribution.interpolate(cam.detach(), tuple(clips.shape[2:]),
                                             interpolate_mode=str(params["interpolation"]))
    return upsampled[:, 0].contiguous()
