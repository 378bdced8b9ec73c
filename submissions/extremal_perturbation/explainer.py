"""Spatio-temporal extremal perturbations (Fong, Patrick and Vedaldi 2019; for video, Li et al. 2021).

For each area ``a`` in ``params["areas"]``, a smooth mask keeping a fraction ``a`` of the clip is optimised
so that the clip shown through it (the rest from the blurred baseline) keeps the evidence for the target
(the preservation game), with the authors' rank-based area constraint and a temporal total-variation term;
all areas in one batch per step (:func:`benchmark.explain.extremal.extremal_masks`). The attribution is the
sum of the masks over the areas (the authors' attribution from several areas).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from benchmark.explain.extremal import extremal_masks


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """The summed masks ``(B, T, H, W)``, in ``[0, len(areas)]``, for ``clips`` ``(B, 3, T, H, W)``.

    ``params``: ``areas``, ``grid`` (mask parameters, frames x H x W), ``steps``, ``learning_rate``,
    ``momentum``, ``area_weight``, ``area_weight_growth``, ``temporal_tv``, ``score``. Deterministic (no
    jitter). Cost: ``steps * len(areas)`` forward and backward samples per clip, the areas of a clip in one
    batch per step.
    """
    areas = [float(a) for a in params["areas"]]
    maps = []
    for i in range(clips.shape[0]):
        masks = extremal_masks(
            model, clips[i : i + 1].detach(), baselines[i : i + 1].detach(), target=target, areas=areas,
            grid=params["grid"], steps=int(params["steps"]), learning_rate=float(params["learning_rate"]),
            momentum=float(params["momentum"]), area_weight=float(params["area_weight"]),
            area_weight_growth=float(params["area_weight_growth"]), temporal_tv=float(params["temporal_tv"]),
            score=str(params["score"]),
        )
        maps.append(masks.sum(dim=0, keepdim=True))
    return torch.cat(maps)
