"""Extremal perturbations: the area targets are the authors' sorted reference vector, and the batched
optimisation equals a plain per-area loop written the straightforward way."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from benchmark.explain.extremal import TIE_ULPS, TV_EPS, area_targets, extremal_masks
from benchmark.harness.metering import PassMeter

AREAS = (0.05, 0.2)


def _sorted_reference(values: torch.Tensor, area: float) -> torch.Tensor:
    """TorchRay's sorted reference vector (``int(n (1 - a))`` zeros then ones) in the values' own order, the
    values tied with the threshold (within ``TIE_ULPS`` epsilons) sharing the ones left: a sort, then counts."""
    n = len(values)
    zeros = int(n * (1 - area))
    r = torch.cat([torch.zeros(zeros, dtype=torch.float64), torch.ones(n - zeros, dtype=torch.float64)])
    ordered, order = values.sort()
    threshold = ordered[zeros]
    tolerance = TIE_ULPS * torch.finfo(values.dtype).eps
    tied = (ordered - threshold).abs() <= tolerance
    above = ordered > threshold + tolerance
    r[tied] = (n - zeros - int(above.sum())) / int(tied.sum())
    targets = torch.empty(n, dtype=torch.float64)
    targets[order] = r
    return targets


def test_without_ties_the_targets_are_the_sorted_reference_and_the_loss_is_the_authors():
    values = torch.rand((2, 5000), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    targets = area_targets(values, AREAS)
    for i, a in enumerate(AREAS):
        assert torch.equal(targets[i], _sorted_reference(values[i], a))
        n = values.shape[1]
        r = torch.cat([torch.zeros(int(n * (1 - a)), dtype=torch.float64), torch.ones(n - int(n * (1 - a)),
                                                                                          dtype=torch.float64)])
        torch.testing.assert_close(((values[i] - targets[i]) ** 2).mean(), ((values[i].sort().values - r) ** 2).mean(),
                                   rtol=1e-12, atol=0)


def test_tied_values_share_the_ones_left():
    values = torch.rand((2, 5000), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    values = ((values - 0.3) * 2).clamp(0, 1)  # many exact 0s and 1s, as clamped mask parameters give
    targets = area_targets(values, AREAS)
    for i, a in enumerate(AREAS):
        torch.testing.assert_close(targets[i], _sorted_reference(values[i], a), rtol=1e-12, atol=1e-12)
        assert abs(float(targets[i].sum()) - (5000 - int(5000 * (1 - a)))) < 1e-9
    ones = torch.ones((1, 100))
    assert torch.allclose(area_targets(ones, (0.25,)), torch.full((1, 100), 0.25))


def _plain_loop(model, clip, baseline, area, *, grid, steps, lr, weight, growth, tv_weight):
    """One area at a time, TorchRay's loop written out (a copy of the model; loss.backward())."""
    model = copy.deepcopy(model)
    net = model.net
    params = torch.ones((1, 1, *grid), dtype=clip.dtype, requires_grad=True)
    optimizer = torch.optim.SGD([params], lr=lr, momentum=0.9, dampening=0.9)
    step_growth = growth ** (1 / (steps - 1))
    for _ in range(steps):
        mask = F.interpolate(params, size=tuple(clip.shape[2:]), mode="trilinear", align_corners=False)
        logits = net(mask * clip + (1 - mask) * baseline)
        reward = logits[0, 1] - logits[0, 0]
        values = mask.flatten()
        area_loss = ((values - _sorted_reference(values.detach(), area).to(values.dtype)) ** 2).mean()
        d = mask[:, :, 1:] - mask[:, :, :-1]
        tv = ((d**2 + TV_EPS**2).sqrt() - TV_EPS).sum() / values.numel()
        optimizer.zero_grad()
        (-(reward - weight * area_loss - tv_weight * tv)).backward()
        optimizer.step()
        params.data.clamp_(0, 1)
        weight *= step_growth
    return F.interpolate(params.detach(), size=tuple(clip.shape[2:]), mode="trilinear", align_corners=False)[0, 0]


def test_the_batched_optimisation_equals_a_plain_loop_per_area(occlusion_setting, calibrated_i3d):
    """In float64: in float32 a batch and a single clip round differently, which over many steps can move mask
    values across an area's threshold, where the rank loss is discontinuous."""
    clip, baseline = occlusion_setting.clip.double(), occlusion_setting.baseline.double()
    model = calibrated_i3d(torch.cat([occlusion_setting.clip, occlusion_setting.baseline])).double()
    settings = dict(grid=(5, 6, 9), steps=6, lr=0.2, weight=30.0, growth=4.0, tv_weight=3.0)
    meter = PassMeter(model.net)
    history: list[torch.Tensor] = []
    ours = extremal_masks(model, clip, baseline, target=1, areas=AREAS, grid=settings["grid"],
                          steps=settings["steps"], learning_rate=settings["lr"], area_weight=settings["weight"],
                          area_weight_growth=settings["growth"], temporal_tv=settings["tv_weight"], history=history)
    assert meter.counts == (6 * len(AREAS), 6 * len(AREAS))
    meter.detach()
    assert all(p.grad is None for p in model.parameters()), "the model's weights must get no gradient"
    assert len(history) == 6 and history[0].shape == (3, len(AREAS))
    assert float((ours[0] - ours[1]).abs().max()) > 1e-3, "the two areas must give different masks"
    for i, area in enumerate(AREAS):
        reference = _plain_loop(model, clip, baseline, area, **settings)
        assert float((reference - 1).abs().max()) > 0.05, "the mask must have moved from its start"
        torch.testing.assert_close(ours[i], reference, rtol=0, atol=1e-9)


@pytest.mark.parametrize("bad", [dict(areas=(0.0,)), dict(grid=(5, 6)), dict(grid=(21, 6, 9)), dict(steps=0),
                                 dict(learning_rate=0.0), dict(temporal_tv=-1.0)])
def test_bad_settings_are_named(occlusion_setting, bad):
    clip, baseline = occlusion_setting.clip, occlusion_setting.baseline
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(2), torch.nn.Softmax(dim=1))
    settings = dict(target=1, areas=(0.1,), grid=(5, 6, 9), steps=2, learning_rate=0.1) | bad
    with pytest.raises(ValueError):
        extremal_masks(model, clip, baseline, **settings)
