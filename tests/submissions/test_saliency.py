"""Saliency: Captum's Saliency, equal to the plain absolute gradient, its maximum over channels."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from captum.attr import Saliency

from benchmark.explain.contract import load_submission
from benchmark.explain.scores import LogOdds
from benchmark.harness.metering import PassMeter

SUBMISSION = load_submission(Path(__file__).resolve().parents[2] / "submissions" / "saliency")
PARAMS = SUBMISSION.params


def _ours(model, clips, baselines, **overrides):
    return SUBMISSION.explain(model, clips, target=1, baselines=baselines, params={**PARAMS, **overrides},
                              generator=torch.Generator())


def test_the_papers_settings():
    assert PARAMS == {"abs": True, "channels": "max", "score": "log_odds"}


@pytest.mark.parametrize("score", ["log_odds", "probability"])
def test_equals_the_plain_absolute_gradient_and_captum(tiny_model, tiny_clips, score):
    clips, baselines = tiny_clips
    ours = _ours(tiny_model, clips, baselines, score=score)
    inputs = clips.clone().requires_grad_(True)
    if score == "log_odds":
        logits = tiny_model.net(inputs)
        out = logits[:, 1] - logits[:, 0]
    else:
        out = tiny_model(inputs)[:, 1]
    (grad,) = torch.autograd.grad(out.sum(), inputs)
    assert ours.shape == (2, *clips.shape[2:])
    assert torch.equal(ours, grad.abs().amax(dim=1))
    forward = LogOdds(tiny_model) if score == "log_odds" else tiny_model
    captum = Saliency(forward).attribute(clips.clone().requires_grad_(True), target=1, abs=True)
    assert torch.equal(ours, captum.amax(dim=1))
    summed = _ours(tiny_model, clips, baselines, score=score, channels="sum")
    assert torch.equal(summed, captum)


def test_one_forward_and_one_backward_sample_per_clip(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    meter = PassMeter(tiny_model.net)
    _ours(tiny_model, clips, baselines)
    assert meter.counts == (2, 2)
    meter.detach()


def test_bad_channels_are_named(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    with pytest.raises(ValueError, match="saliency: params channels"):
        _ours(tiny_model, clips, baselines, channels="mean")
