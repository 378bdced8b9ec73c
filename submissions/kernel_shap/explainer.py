"""KernelSHAP (Captum) over 3-D SLIC supervoxels, blurred baseline."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from captum.attr import KernelShap
from torch import nn

from benchmark.explain.batching import FORWARD_ACTIVATION_FACTOR, batch_size_for, memory_budget_bytes
from benchmark.explain.seeding import seeded
from benchmark.explain.supervoxels import slic_supervoxels


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """KernelSHAP attributions ``(B, 3, T, H, W)``, constant over each supervoxel.

    ``params``: ``n_segments``, ``compactness`` (SLIC), ``n_samples``, ``memory_budget_gb``.
    Coalitions come from torch's global RNG, seeded from ``generator`` by :func:`seeded`; the model
    runs without building graphs. Cost: ``n_samples`` forward samples per clip, no backward.
    """
    n_samples = int(params["n_samples"])
    batch = batch_size_for(
        clips.shape[1:],
        budget_bytes=memory_budget_bytes(params),
        activation_factor=FORWARD_ACTIVATION_FACTOR,
        maximum=n_samples,
    )
    shap = KernelShap(model)
    inputs = clips.detach().clone()
    references = baselines.detach().clone()
    attributions = []
    with seeded(generator), torch.no_grad():
        for i in range(inputs.shape[0]):
            segments = slic_supervoxels(inputs[i], int(params["n_segments"]), float(params["compactness"]))
            segments = segments.to(inputs.device)
            weights = shap.attribute(
                inputs[i : i + 1],
                baselines=references[i : i + 1],
                target=target,
                feature_mask=segments.expand_as(inputs[i]).unsqueeze(0),
                n_samples=n_samples,
                perturbations_per_eval=batch,
                return_input_shape=False,  # (1, K) weights; Captum's own spreading is O(K * voxels)
            )
            # each voxel (all channels) takes its supervoxel's weight, as return_input_shape=True would
            spread = weights.detach().flatten().float()[segments]
            attributions.append(spread.expand_as(inputs[i]).unsqueeze(0))
    return torch.cat(attributions)
