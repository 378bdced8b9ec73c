"""Spatio-temporal extremal perturbations (Fong, Patrick and Vedaldi, ICCV 2019; for video, Li et al. 2021).

The preservation game: find a smooth mask ``m`` ``(T, H, W)`` in ``[0, 1]`` of a fixed area ``a`` that keeps
the model's evidence for the target when only the kept part of the clip is shown and the rest comes from the
baseline, ``x_m = b + m (x - b)``. Following the authors' reference implementation (TorchRay's
``extremal_perturbation``), each area's mask maximises

    reward(x_m) - lambda_t * mean((sort(m) - r_a)^2) - mu * mean_t |m[t + 1] - m[t]|

* ``reward``: the log-odds of ``p(target)`` (:class:`benchmark.explain.scores.LogOdds`; with two classes
  ``z_1 - z_0``, TorchRay's ``contrastive_reward`` on the logits): monotone in ``p``, and not flat where ``p``
  saturates, as ``p`` itself would be;
* the **area constraint** is the authors' rank loss: the mask's values sorted, against the vector ``r_a`` of
  ``(1 - a) n`` zeros then ``a n`` ones (computed by selection, tied values sharing: :func:`area_targets`); its
  weight ``lambda_t`` grows geometrically from
  ``area_weight`` by a total factor ``area_weight_growth`` over the run (TorchRay: 300, times 1.0035 per
  step for 800 steps, 16.4 in all);
* the **temporal smoothness** term (video; Li et al. 2021 regularise the mask's smoothness over time) is the
  total variation of the mask along ``t``, per voxel, with weight ``mu``; each ``|d|`` is smoothed to
  ``sqrt(d^2 + eps^2) - eps`` with ``eps =`` :data:`TV_EPS` (:func:`temporal_variation`: its gradient is
  ``sign(d)`` to 0.5 % wherever ``|d| >= 0.01``, and 0 at ``d = 0``), because the mask is exactly constant
  over time wherever its parameters sit at 0 or 1, and there the subgradient of ``|d|`` would follow the
  sign of rounding noise (a batch and a single clip would then take different steps);
* **smooth masks**: the mask is a low-resolution parameter grid ``(g_t, g_h, g_w)`` in ``[0, 1]``,
  upsampled trilinearly to the clip (the authors' alternative to their smooth max-convolution generator);
  it starts at 1 (everything kept), as in TorchRay;
* the optimiser is TorchRay's: SGD with momentum 0.9 and dampening 0.9, the parameters clamped to
  ``[0, 1]`` after every step; no jitter (TorchRay flips images left-right every other step; a clip's
  direction of motion is part of what the model sees).

All areas are optimised together: one batch of ``len(areas)`` masked clips per step, one forward and one
backward pass, so the cost is ``steps * len(areas)`` forward and backward samples. The attribution is the
sum of the final masks over the areas (the authors' "attribution from several areas"): a voxel kept at the
smallest area scores highest. Gradients are taken with respect to the mask parameters only
(``torch.autograd.grad``), so the model's weights get no ``.grad`` and are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.explain.batching import batch_memory_format
from benchmark.explain.scores import score_model

__all__ = ["TIE_ULPS", "TV_EPS", "area_targets", "extremal_masks", "temporal_variation", "upsample_masks"]

TV_EPS = 1e-3
"""The smoothing of ``|d|`` in the temporal total variation (see :func:`temporal_variation`)."""

TIE_ULPS = 4
"""Mask values within ``TIE_ULPS`` machine epsilons (absolute: masks lie in ``[0, 1]``) of an area's threshold
count as tied with it (see :func:`area_targets`)."""


def area_targets(masks: torch.Tensor, areas: Sequence[float]) -> torch.Tensor:
    """The rank-loss targets of flattened masks ``(A, n)``: what ``sort(m) - r_a`` compares each value with.

    The authors' area loss is ``mean((sort(m) - r_a)^2)`` with ``r_a`` the sorted vector of
    ``int(n (1 - a))`` zeros then ones (TorchRay's rounding): the ``a n`` largest values are pulled to 1, the
    rest to 0. Here each value gets its target directly: 1 above the ``(int(n (1 - a)) + 1)``-th smallest
    value, 0 below it, and the values tied with it share the ones left, ``(ones left) / (values tied)`` each.
    Without ties this is exactly ``r_a`` in the mask's own order, so the loss and its gradient equal the
    sorted form; with ties (the first step, where every value is 1, and wherever the parameters sit at a
    bound of ``[0, 1]``) a sort hands out the zeros and ones among the tied values in whatever order it
    leaves them, and sharing is the symmetric choice. Values within :data:`TIE_ULPS` epsilons of the threshold
    count as tied: values equal in exact arithmetic (symmetric parts of a mask) can come out an ulp apart,
    and a batch and a single clip round differently, which would otherwise send such a value to 0 in one
    run and to 1 in the other. A selection (``kthvalue``) in place of a sort: 6 ms instead of 33 ms for four
    20x48x72 masks on one CPU thread.

    Args:
        masks: ``(A, n)`` mask values (not differentiated through: the targets are constants of a step).
        areas: one area in ``(0, 1)`` per row.

    Returns:
        ``(A, n)`` targets in ``[0, 1]``.
    """
    if masks.dim() != 2 or masks.shape[0] != len(areas):
        raise ValueError(f"area_targets: expected ({len(areas)}, n) masks, got {tuple(masks.shape)}.")
    if any(not 0.0 < float(a) < 1.0 for a in areas):
        raise ValueError(f"extremal perturbation: areas must be in (0, 1), got {list(areas)}.")
    n = masks.shape[1]
    values = masks.detach()
    tolerance = TIE_ULPS * torch.finfo(values.dtype).eps
    targets = torch.zeros_like(values)
    for i, a in enumerate(areas):
        zeros = int(n * (1 - float(a)))
        ones = n - zeros
        if ones == 0:
            continue
        threshold = values[i].kthvalue(zeros + 1).values
        above = values[i] > threshold + tolerance
        tied = (values[i] - threshold).abs() <= tolerance
        share = (ones - int(above.sum())) / int(tied.sum())
        targets[i] = above.to(values.dtype) + tied.to(values.dtype) * share
    return targets


def temporal_variation(masks: torch.Tensor) -> torch.Tensor:
    """Per mask, ``sum over voxels of (sqrt(d^2 + eps^2) - eps) / voxels`` with ``d = m[t + 1] - m[t]``.

    ``masks``: ``(A, 1, T, H, W)``; returns ``(A,)``. The total variation along ``t`` per voxel, smoothed at 0
    by ``eps =`` :data:`TV_EPS`: differentiable everywhere, within ``eps`` of ``|d|`` for every ``d``.
    """
    d = masks[:, :, 1:] - masks[:, :, :-1]
    return ((d * d + TV_EPS**2).sqrt() - TV_EPS).flatten(1).sum(dim=1) / masks[0, 0].numel()


def upsample_masks(parameters: torch.Tensor, volume: Sequence[int]) -> torch.Tensor:
    """``(A, 1, g_t, g_h, g_w)`` mask parameters to ``(A, 1, T, H, W)`` masks (trilinear, ``align_corners=False``)."""
    return F.interpolate(parameters, size=tuple(int(v) for v in volume), mode="trilinear", align_corners=False)


def extremal_masks(
    model: nn.Module,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    *,
    target: int,
    areas: Sequence[float],
    grid: Sequence[int],
    steps: int,
    learning_rate: float,
    momentum: float = 0.9,
    area_weight: float = 300.0,
    area_weight_growth: float = 1.0035**800,
    temporal_tv: float = 0.0,
    score: str = "log_odds",
    history: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """The optimised masks ``(len(areas), T, H, W)`` of one clip (see the module docstring).

    Args:
        model: maps ``(n, C, T, H, W)`` to class probabilities; not modified.
        clip: ``x``, ``(1, C, T, H, W)``; baseline: ``b``, the same shape.
        target: the class whose evidence is preserved.
        areas: the fractions of the clip each mask keeps, each in ``(0, 1)``.
        grid: ``(g_t, g_h, g_w)``, the mask parameters per axis (each at most the clip's size).
        steps: optimisation steps (>= 1).
        learning_rate, momentum: SGD's (dampening = momentum, as in TorchRay).
        area_weight: the area term's weight at the first step.
        area_weight_growth: its total growth over the run (geometric).
        temporal_tv: ``mu``, the weight of the temporal total variation.
        score: ``log_odds`` or ``probability`` (:func:`benchmark.explain.scores.score_model`).
        history: when given, receives per step a ``(3, A)`` tensor: reward, area loss (unweighted), temporal TV.

    Cost: ``steps * len(areas)`` forward and backward samples.
    """
    if clip.dim() != 5 or clip.shape[0] != 1 or baseline.shape != clip.shape:
        raise ValueError(
            f"extremal_masks: clip and baseline must both be (1, C, T, H, W), got {tuple(clip.shape)} and "
            f"{tuple(baseline.shape)}."
        )
    volume = tuple(int(v) for v in clip.shape[2:])
    grid = tuple(int(g) for g in grid)
    if len(grid) != 3 or any(g < 1 or g > n for g, n in zip(grid, volume)):
        raise ValueError(f"extremal_masks: grid {grid} must be (g_t, g_h, g_w), each between 1 and {volume}.")
    if int(steps) < 1 or not learning_rate > 0 or not 0 <= momentum < 1:
        raise ValueError(
            f"extremal_masks: steps >= 1, learning_rate > 0 and momentum in [0, 1) needed, got {steps}, "
            f"{learning_rate}, {momentum}."
        )
    if not area_weight > 0 or not area_weight_growth > 0 or not temporal_tv >= 0:
        raise ValueError(
            f"extremal_masks: area_weight and area_weight_growth must be > 0 and temporal_tv >= 0, got "
            f"{area_weight}, {area_weight_growth}, {temporal_tv}."
        )
    n_areas, voxels = len(areas), clip[0, 0].numel()
    forward = score_model(model, score)
    x, b = clip.detach(), baseline.detach()
    delta = x - b
    parameters = torch.ones((n_areas, 1, *grid), dtype=clip.dtype, device=clip.device, requires_grad=True)
    optimizer = torch.optim.SGD([parameters], lr=float(learning_rate), momentum=float(momentum),
                                dampening=float(momentum))
    growth = float(area_weight_growth) ** (1.0 / max(int(steps) - 1, 1))
    weight = float(area_weight)
    with torch.enable_grad():
        for _ in range(int(steps)):
            masks = upsample_masks(parameters, volume)  # (A, 1, T, H, W)
            batch = torch.addcmul(b, masks, delta)  # b + m (x - b), (A, C, T, H, W)
            reward = forward(batch.contiguous(memory_format=batch_memory_format(batch)))[:, target]
            flat = masks.view(n_areas, voxels)
            area = ((flat - area_targets(flat, areas)) ** 2).mean(dim=1)
            tv = temporal_variation(masks)
            energy = reward - weight * area - float(temporal_tv) * tv
            (gradient,) = torch.autograd.grad(-energy.sum(), parameters)
            parameters.grad = gradient
            optimizer.step()
            with torch.no_grad():
                parameters.clamp_(0, 1)
            if history is not None:
                history.append(torch.stack([reward, area, tv]).detach())
            weight *= growth
    with torch.no_grad():
        return upsample_masks(parameters.detach(), volume)[:, 0]
