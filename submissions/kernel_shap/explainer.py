"""KernelSHAP (Captum's estimator) over 3-D SLIC supervoxels, blurred baseline.

The estimator is Captum's own ``KernelShap`` object (coalition sampler, Shapley kernel weights, linear
surrogate), run by :func:`benchmark.explain.surrogates.surrogate_weights` without Captum's per-sample
bookkeeping. On the project's I3D the perturbed clips are never built: the first convolution is split
by supervoxel (:mod:`benchmark.explain.stem_split`), so a batch of samples costs one matrix product
instead of its first convolutions. Other models see channels-last batches of at least 16 on a CPU. The
weights equal ``KernelShap.attribute(..., return_input_shape=False)`` to rounding, and bit for bit on
the plain path in Captum's (contiguous) layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import KernelShap
from torch import nn

from benchmark.explain.batching import forward_batch_size, memory_budget_bytes, model_memory_format
from benchmark.explain.seeding import seeded
from benchmark.explain.supervoxels import slic_supervoxels
from benchmark.explain.surrogates import kernel_shap_kwargs, surrogate_weights


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
    runs without building graphs. SLIC runs once per clip. Cost: ``n_samples`` forward samples per
    clip, no backward.
    """
    n_samples = int(params["n_samples"])
    batch = forward_batch_size(
        clips.shape[1:],
        n_samples,
        budget_bytes=memory_budget_bytes(params),
        device=clips.device,
        channels_last=model_memory_format(clips) == torch.channels_last_3d,
    )
    shap = KernelShap(model)
    inputs = clips.detach().clone()
    references = baselines.detach().clone()
    attributions = []
    with seeded(generator):
        for i in range(inputs.shape[0]):
            segments = slic_supervoxels(inputs[i], int(params["n_segments"]), float(params["compactness"]))
            segments = segments.to(inputs.device)
            weights = surrogate_weights(
                shap, model, inputs[i : i + 1], references[i : i + 1], segments,
                target=target, n_samples=n_samples, batch_size=batch,
                extra_kwargs=kernel_shap_kwargs(int(segments.max()) + 1),
            )
            # each voxel (all channels) takes its supervoxel's weight, as return_input_shape=True would
            spread = weights.float()[segments]
            attributions.append(spread.expand_as(inputs[i]).unsqueeze(0))
    return torch.cat(attributions)
