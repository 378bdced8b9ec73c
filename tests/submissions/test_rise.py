"""RISE: equal to a plain loop that draws its masks from the generator as documented, N samples per clip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from benchmark.explain.contract import load_submission
from benchmark.explain.seeding import clip_generator
from benchmark.harness.metering import PassMeter

SUBMISSION = load_submission(Path(__file__).resolve().parents[2] / "submissions" / "rise")
PARAMS = {**SUBMISSION.params, "n_masks": 24}


def _ours(model, clips, baselines, clip_id="c0", **overrides):
    return SUBMISSION.explain(model, clips, target=1, baselines=baselines, params={**PARAMS, **overrides},
                              generator=clip_generator(0, "rise", clip_id))


def _plain_rise(model, clip, baseline, generator, n_masks, cells, keep, normalization):
    """Petsiuk et al.'s loop in space-time: grids, then shifts, from the generator; one masked clip at a time."""
    volume = tuple(clip.shape[2:])
    cell = [math.ceil(n / g) for n, g in zip(volume, cells)]
    grids = torch.rand((n_masks, *cells), generator=generator) < keep
    shifts = [torch.randint(0, c, (n_masks,), generator=generator) for c in cell]
    saliency = torch.zeros(volume, dtype=torch.float64)
    coverage = torch.zeros(volume, dtype=torch.float64)
    for i in range(n_masks):
        up = F.interpolate(grids[i].float()[None, None], size=[(g + 1) * c for g, c in zip(cells, cell)],
                           mode="trilinear", align_corners=False)[0, 0]
        t, h, w = (int(s[i]) for s in shifts)
        mask = up[t : t + volume[0], h : h + volume[1], w : w + volume[2]]
        with torch.no_grad():
            p = float(model(mask * clip + (1 - mask) * baseline)[0, 1])
        saliency += p * mask.double()
        coverage += mask.double()
    return saliency / (coverage if normalization == "coverage" else n_masks * keep)


def test_the_authors_settings():
    assert SUBMISSION.meta.stochastic and SUBMISSION.params["keep"] == 0.5


@pytest.mark.parametrize("normalization", ["coverage", "keep"])
def test_equals_a_plain_loop_over_the_same_masks(calibrated_tiny_model, tiny_clips, normalization):
    clips, baselines = tiny_clips
    model = calibrated_tiny_model
    meter = PassMeter(model.net)
    ours = _ours(model, clips[:1], baselines[:1], normalization=normalization)
    assert meter.counts == (24, 0)
    meter.detach()
    reference = _plain_rise(model, clips[:1], baselines[:1], clip_generator(0, "rise", "c0"), 24,
                            PARAMS["cells"], PARAMS["keep"], normalization)
    assert ours.shape == (1, *clips.shape[2:]) and float(reference.max() - reference.min()) > 0
    # to the model's own rounding (batch size and layout move p by about 1e-6)
    torch.testing.assert_close(ours[0].double(), reference, rtol=0, atol=1e-5 * float(reference.max()))


def test_depends_on_the_seed_and_a_batch_uses_the_same_masks_for_every_clip(calibrated_tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    model = calibrated_tiny_model  # the untrained model's p barely moves: its coverage-normalised map is flat
    first = _ours(model, clips[:1], baselines[:1], "a")
    assert not torch.equal(first, _ours(model, clips[:1], baselines[:1], "b"))
    both = _ours(model, clips, baselines, "a")
    second = _ours(model, clips[1:], baselines[1:], "a")
    torch.testing.assert_close(both[:1], first, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(both[1:], second, rtol=1e-5, atol=1e-7)
