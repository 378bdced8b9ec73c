"""Feature ablation over 3-D SLIC supervoxels (Captum's ``FeatureAblation``), the blurred baseline.

Each supervoxel in turn takes the baseline; every voxel of it gets ``p(x) - p(x_k)``. The supervoxels are
LIME's and KernelSHAP's (:func:`benchmark.explain.supervoxels.slic_supervoxels`, the same mask), so the
three perturbation methods over features differ only in how they combine the same kind of samples. The
drops come from :func:`benchmark.explain.ablation.feature_ablation`: on the project's I3D the ablated clips
are never built (the first convolution split by supervoxel), elsewhere they run in channels-last batches of
at least 16 on a CPU; both equal Captum's ``FeatureAblation`` to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from benchmark.explain.ablation import feature_ablation
from benchmark.explain.batching import forward_batch_size, memory_budget_bytes, model_memory_format
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
    """Ablation attributions ``(B, 3, T, H, W)``, constant over each supervoxel.

    ``params``: ``n_segments``, ``compactness`` (SLIC), ``engine`` (``auto`` or ``plain``: the same result),
    ``memory_budget_gb``. Deterministic; SLIC runs once per clip. Cost: ``K + 1`` forward samples per clip
    (``K`` supervoxels), no backward.
    """
    inputs, references = clips.detach(), baselines.detach()
    attributions = []
    for i in range(inputs.shape[0]):
        segments = slic_supervoxels(inputs[i], int(params["n_segments"]), float(params["compactness"]))
        segments = segments.to(inputs.device)
        batch = forward_batch_size(
            inputs.shape[1:], int(segments.max()) + 2, budget_bytes=memory_budget_bytes(params),
            device=inputs.device, channels_last=model_memory_format(inputs) == torch.channels_last_3d,
        )
        drops = feature_ablation(model, inputs[i : i + 1], references[i : i + 1], segments, target=target,
                                 batch_size=batch, engine=str(params["engine"]))
        # each voxel (all channels) takes its supervoxel's drop, as Captum's FeatureAblation spreads it
        attributions.append(drops[segments].expand_as(inputs[i]).unsqueeze(0))
    return torch.cat(attributions)
