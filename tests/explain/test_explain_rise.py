"""RISE: the masks are the authors' construction in space-time, and the saliency equals a plain loop over them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from benchmark.explain.rise import RiseMasks, rise
from benchmark.harness.metering import PassMeter


def _linear_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)``: linear interpolation with half-pixel centres (``align_corners=False``), edges clamped."""
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        src = min(max((o + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1)
        lo = int(math.floor(src))
        hi = min(lo + 1, n_in - 1)
        weights[o, lo] += 1 - (src - lo)
        weights[o, hi] += src - lo
    return weights


def _reference_mask(masks: RiseMasks, i: int) -> np.ndarray:
    """Mask ``i`` the straightforward way: the grid upsampled axis by axis with explicit weights, then cropped."""
    grid = masks.grids[i].numpy().astype(np.float64)
    for axis, (g, up) in enumerate(zip(masks.cells, masks.upsampled)):
        grid = np.moveaxis(np.tensordot(_linear_weights(g, up), np.moveaxis(grid, axis, 0), axes=1), 0, axis)
    (st, sh, sw), (t, h, w) = masks.shifts[i].tolist(), masks.volume
    return grid[st : st + t, sh : sh + h, sw : sw + w]


def test_masks_are_upsampled_random_grids_cropped_at_random_shifts():
    masks = RiseMasks((20, 24, 36), (4, 6, 9), 0.5, 12, torch.Generator().manual_seed(0))
    assert masks.cell == (5, 4, 4) and masks.upsampled == (25, 28, 40)
    assert masks.grids.shape == (12, 4, 6, 9) and masks.grids.dtype == torch.bool
    assert ((masks.shifts >= 0) & (masks.shifts < torch.tensor(masks.cell))).all()
    ours = masks.masks(0, 12)
    assert ours.shape == (12, 20, 24, 36) and float(ours.min()) >= 0 and float(ours.max()) <= 1
    for i in range(12):
        np.testing.assert_allclose(ours[i].numpy(), _reference_mask(masks, i), rtol=0, atol=1e-6)
    torch.testing.assert_close(masks.masks(5, 9), ours[5:9])


def test_masks_come_from_the_generator_alone():
    first = RiseMasks((20, 24, 36), (4, 6, 9), 0.5, 8, torch.Generator().manual_seed(3))
    again = RiseMasks((20, 24, 36), (4, 6, 9), 0.5, 8, torch.Generator().manual_seed(3))
    other = RiseMasks((20, 24, 36), (4, 6, 9), 0.5, 8, torch.Generator().manual_seed(4))
    assert torch.equal(first.masks(0, 8), again.masks(0, 8))
    assert not torch.equal(first.masks(0, 8), other.masks(0, 8))
    many = RiseMasks((20, 24, 36), (4, 6, 9), 0.3, 400, torch.Generator().manual_seed(0))
    assert abs(float(many.grids.float().mean()) - 0.3) < 0.01


def test_an_unknown_normalization_is_named(occlusion_setting):
    masks = RiseMasks((20, 24, 36), (4, 6, 9), 0.5, 2, torch.Generator())
    clip, baseline = occlusion_setting.clip, occlusion_setting.baseline
    with pytest.raises(ValueError, match="normalization"):
        rise(torch.nn.Identity(), clip, baseline, masks, target=1, batch_size=2, normalization="mean")


@pytest.mark.parametrize("bad", [dict(cells=(0, 6, 9)), dict(cells=(21, 6, 9)), dict(keep=0.0), dict(n_masks=0)])
def test_bad_settings_are_named(bad):
    settings = dict(volume=(20, 24, 36), cells=(4, 6, 9), keep=0.5, n_masks=4) | bad
    with pytest.raises(ValueError, match="RiseMasks"):
        RiseMasks(generator=torch.Generator(), **settings)


@pytest.mark.parametrize("normalization", ["coverage", "keep"])
def test_saliency_equals_a_plain_loop_over_the_masks(occlusion_setting, calibrated_i3d, normalization):
    clip, baseline = occlusion_setting.clip, occlusion_setting.baseline
    model = calibrated_i3d(torch.cat([clip, baseline]))
    masks = RiseMasks(clip.shape[2:], (4, 6, 9), 0.5, 40, torch.Generator().manual_seed(0))
    meter = PassMeter(model.net)
    ours = rise(model, torch.cat([clip, clip]), torch.cat([baseline, baseline]), masks, target=1, batch_size=16,
                normalization=normalization)
    assert meter.counts == (80, 0)
    meter.detach()
    reference = torch.zeros(clip.shape[2:], dtype=torch.float64)
    coverage = torch.zeros(clip.shape[2:], dtype=torch.float64)
    with torch.no_grad():
        for i in range(len(masks)):
            m = masks.masks(i, i + 1)[0]
            p = float(model(baseline + m * (clip - baseline))[0, 1])
            reference += p * m.double()
            coverage += m.double()
    assert float(coverage.min()) > 0, "every voxel is kept by some mask here"
    reference /= coverage if normalization == "coverage" else len(masks) * 0.5
    assert ours.shape == (2, *clip.shape[2:]) and torch.equal(ours[0], ours[1])
    # to the model's own rounding: the same clip gives p differing by up to 4e-6 between a batch of 16
    # (channels-last or not) and a batch of 1 on this model
    torch.testing.assert_close(ours[0].double(), reference, rtol=0, atol=1e-5 * float(reference.max()))
