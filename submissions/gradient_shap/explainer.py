"""GradientSHAP (Captum defaults) with the blurred clip as the only reference."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from captum.attr import GradientShap
from torch import nn

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
    """GradientSHAP attributions ``(B, 3, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    Each clip is explained against its own blurred baseline (Captum would otherwise draw references
    from the whole batch). Captum draws from torch's and NumPy's global RNGs, seeded from
    ``generator`` by :func:`seeded`. Cost: ``n_samples`` forward + backward samples per clip.
    """
    shap = GradientShap(model)
    inputs = clips.detach().clone()
    references = baselines.detach().clone()
    with seeded(generator):
        attributions = [
            shap.attribute(
                inputs[i : i + 1],
                baselines=references[i : i + 1],
                n_samples=int(params["n_samples"]),
                stdevs=float(params["stdevs"]),
                target=target,
            ).detach()
            for i in range(inputs.shape[0])
        ]
    return torch.cat(attributions)
