"""Feature ablation over a feature mask (Captum's ``FeatureAblation``), exact and fast.

Captum's :class:`~captum.attr.FeatureAblation` with a feature mask of ``K`` features (supervoxels shared by
all channels) and a baseline ``b`` evaluates the clip ``x`` once and each ``x_k`` once, ``x_k`` being ``x``
with feature ``k`` taken from ``b``; every voxel of feature ``k`` gets ``p(x) - p(x_k)``: ``K + 1`` forward
samples, the cheapest perturbation method over the same features as LIME and KernelSHAP.
:func:`feature_ablation` returns the ``K`` drops:

* ``auto`` on the project's eval-mode I3D: the ablated clips are never built. The first convolution is split
  by feature (:mod:`benchmark.explain.engines.stem_split`): ``x_k`` is the mixed clip whose sample ``z`` keeps
  every feature but ``k``, so a batch costs one ``(n, K) @ (K, activations)`` product in place of ``n`` first
  convolutions; the rest of the network runs as usual and every sample is counted at its ``logits`` layer.
* ``plain`` (and ``auto`` on any other model, or when the per-feature responses would exceed
  :data:`STEM_BUDGET_BYTES`): the clean clip and the ablated clips, built in place batch by batch
  (``where(mask == k, b, x)``, the values Captum's ``x (1 - m) + b m`` gives), run in channels-last batches on
  a CPU.

Both equal Captum's ``FeatureAblation.attribute`` to float rounding (the sum in the split runs in another
order; the tests check both against Captum). The clean clip is the first sample of the first batch rather
than a call of its own.
"""

from __future__ import annotations

import torch
from torch import nn

from benchmark.explain.batching import model_memory_format
from benchmark.explain.engines.stem_split import stem_split

__all__ = ["ENGINES", "STEM_BUDGET_BYTES", "ablation_samples", "feature_ablation"]

ENGINES: tuple[str, ...] = ("auto", "plain")
"""``auto``: split the I3D's first convolution by feature where possible; ``plain``: build every clip."""

STEM_BUDGET_BYTES = 1024**3
"""The most memory the per-feature first-layer responses may take (the budget LIME and KernelSHAP use:
70 supervoxels take 39 MB at the default profile, 1.7 GB at 158x237 with the full-width I3D, which then
takes the plain path)."""


def ablation_samples(num_features: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``(K + 1, K)`` interpretable samples of feature ablation: row 0 keeps every feature (the clip),
    row ``k + 1`` every feature but ``k``."""
    if num_features < 1:
        raise ValueError(f"ablation_samples: num_features must be >= 1, got {num_features}.")
    keep = torch.ones((num_features + 1, num_features), dtype=dtype)
    keep[1:].fill_diagonal_(0)
    return keep


def feature_ablation(
    model: nn.Module,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    feature_mask: torch.Tensor,
    *,
    target: int,
    batch_size: int,
    engine: str = "auto",
    memory_format: torch.memory_format | None = None,
) -> torch.Tensor:
    """``p(x) - p(x_k)`` for every feature ``k`` (``(K,)``, float32), ``x_k``: feature ``k`` from ``b``.

    Args:
        model: maps ``(n, C, T, H, W)`` to class probabilities ``(n, classes)``.
        clip: ``x``, ``(1, C, T, H, W)``; baseline: ``b``, the same shape.
        feature_mask: ``(T, H, W)`` long, ids ``0..K-1`` (every id present), shared by every channel.
        target: the class whose probability drops.
        batch_size: samples per model call (the clean clip and the ``K`` ablated clips).
        engine: ``"auto"`` or ``"plain"`` (see the module docstring).
        memory_format: the plain path's batch layout (default :func:`model_memory_format`).

    Cost: ``K + 1`` forward samples, no backward.
    """
    if clip.dim() != 5 or clip.shape[0] != 1 or baseline.shape != clip.shape:
        raise ValueError(
            f"feature_ablation: clip and baseline must both be (1, C, T, H, W), got {tuple(clip.shape)} and "
            f"{tuple(baseline.shape)}."
        )
    if tuple(feature_mask.shape) != tuple(clip.shape[2:]) or feature_mask.dtype != torch.long:
        raise ValueError(
            f"feature_ablation: feature_mask must be a LongTensor {tuple(clip.shape[2:])}, got "
            f"{tuple(feature_mask.shape)} {feature_mask.dtype}."
        )
    if batch_size < 1:
        raise ValueError(f"feature_ablation: batch_size must be >= 1, got {batch_size}.")
    if engine not in ENGINES:
        raise ValueError(f"feature_ablation: engine must be one of {ENGINES}, got {engine!r}.")
    num_features = int(feature_mask.max()) + 1
    samples = ablation_samples(num_features)
    split = None
    if engine == "auto":
        split, _ = stem_split(model, clip, baseline, feature_mask, budget_bytes=STEM_BUDGET_BYTES)
    outputs = []
    with torch.inference_mode():
        if split is not None:
            for start in range(0, len(samples), batch_size):
                outputs.append(split.probabilities(samples[start : start + batch_size])[:, target])
        else:
            outputs = _plain_probabilities(model, clip, baseline, feature_mask, num_features, target=target,
                                           batch_size=batch_size, memory_format=memory_format)
        p = torch.cat(outputs).to(clip.dtype)
        return (p[0] - p[1:]).clone()


def _plain_probabilities(model, clip, baseline, feature_mask, num_features, *, target, batch_size, memory_format):
    """``p`` of the clean clip and of each ablated clip, in batches built in place."""
    layout = model_memory_format(clip) if memory_format is None else memory_format
    mask = feature_mask.to(clip.device)
    total = num_features + 1
    buffer = clip.new_empty((min(batch_size, total), *clip.shape[1:]))
    outputs = []
    for start in range(0, total, batch_size):
        ids = torch.arange(start, min(start + batch_size, total), device=clip.device) - 1  # -1: the clean clip
        batch = buffer[: len(ids)]
        ablate = (mask.unsqueeze(0) == ids.view(-1, 1, 1, 1)).unsqueeze(1)  # (n, 1, T, H, W)
        torch.where(ablate, baseline, clip, out=batch)
        outputs.append(model(batch.contiguous(memory_format=layout))[:, target])
    return outputs
