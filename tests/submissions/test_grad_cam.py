"""Grad-CAM: Captum's LayerGradCam + interpolate, equal to a plain hook-and-gradient computation, the same map
as Grad-CAM of p up to a positive factor per clip, and a block that exists on truncated networks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmark.explain.contract import load_submission
from benchmark.harness.metering import PassMeter
from benchmark.model.i3d import I3D, ProbabilityModel

SUBMISSION = load_submission(Path(__file__).resolve().parents[2] / "submissions" / "grad_cam")
PARAMS = SUBMISSION.params


def _ours(model, clips, baselines, **overrides):
    return SUBMISSION.explain(model, clips, target=1, baselines=baselines, params={**PARAMS, **overrides},
                              generator=torch.Generator())


def _plain_grad_cam(net: nn.Module, block: str, clips: torch.Tensor, score: str) -> torch.Tensor:
    """Grad-CAM written out: the block's output A from a forward hook, the gradient of the score with respect
    to it, weights = the gradient's mean over (t, h, w), ReLU(sum_k w_k A_k), trilinear upsampling."""
    saved = {}
    handle = getattr(net, block).register_forward_hook(lambda m, i, o: saved.__setitem__("a", o))
    try:
        logits = net(clips.clone())
    finally:
        handle.remove()
    out = logits[:, 1] - logits[:, 0] if score == "log_odds" else torch.softmax(logits, dim=1)[:, 1]
    (grad,) = torch.autograd.grad(out.sum(), saved["a"])
    weights = grad.mean(dim=(2, 3, 4), keepdim=True)
    cam = F.relu((weights * saved["a"]).sum(dim=1, keepdim=True))
    return F.interpolate(cam, size=tuple(clips.shape[2:]), mode="trilinear", align_corners=False)[:, 0].detach()


def test_the_layer_default_and_its_resolution():
    assert PARAMS["layer"] == "Mixed_4f" and PARAMS["relu"] is True and PARAMS["score"] == "log_odds"


@pytest.mark.parametrize("score", ["log_odds", "probability"])
def test_equals_a_plain_grad_cam(tiny_model, tiny_clips, score):
    clips, baselines = tiny_clips
    ours = _ours(tiny_model, clips, baselines, score=score)
    reference = _plain_grad_cam(tiny_model.net, "Mixed_4f", clips, score)
    assert ours.shape == (2, *clips.shape[2:]) and reference.abs().max() > 0
    for i in range(2):  # each clip to its own scale
        torch.testing.assert_close(ours[i], reference[i], rtol=1e-5, atol=1e-6 * float(reference[i].abs().max()))


def test_log_odds_give_the_map_of_p_up_to_a_positive_factor_per_clip(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    log_odds = _ours(tiny_model, clips, baselines)
    probability = _ours(tiny_model, clips, baselines, score="probability")
    with torch.no_grad():
        p = tiny_model(clips)[:, 1]
    factor = (p * (1 - p)).view(-1, 1, 1, 1)
    torch.testing.assert_close(log_odds * factor, probability, rtol=1e-4,
                               atol=1e-6 * float(probability.abs().max()))


def test_one_forward_and_one_backward_sample_per_clip(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    meter = PassMeter(tiny_model.net)
    with torch.no_grad():  # the harness may call it so; the gradient must still flow
        ours = _ours(tiny_model, clips, baselines)
    assert meter.counts == (2, 2) and ours.abs().max() > 0
    meter.detach()


def _truncated(last: str) -> nn.Module:
    """The I3D ending at ``last`` with its 2-class head, as a truncated profile runs it (``final_endpoint``)."""
    torch.manual_seed(0)
    return ProbabilityModel(I3D(num_classes=2, width=0.0625, final_endpoint=last)).eval()


@pytest.mark.parametrize("last", ["Mixed_4f", "Mixed_3c"])
def test_a_truncated_network_is_explained_at_its_deepest_block(tiny_clips, last):
    clips, baselines = tiny_clips
    model = _truncated(last)
    ours = _ours(model, clips, baselines)
    reference = _plain_grad_cam(model.net, last, clips, "log_odds")
    assert ours.shape == (2, *clips.shape[2:])
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6 * float(reference.abs().max()))
