"""Guided Backprop: equal to Captum's GuidedBackprop bit for bit, and it leaves the model as it found it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from captum.attr import GuidedBackprop
from torch import nn

from benchmark.explain.contract import load_submission
from benchmark.harness.metering import PassMeter

SUBMISSION = load_submission(Path(__file__).resolve().parents[2] / "submissions" / "guided_backprop")


def _ours(model: nn.Module, clips: torch.Tensor, baselines: torch.Tensor) -> torch.Tensor:
    return SUBMISSION.explain(model, clips, target=1, baselines=baselines, params={}, generator=torch.Generator())


def _captum(model: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Captum warns that it sets backward hooks on ReLUs
        return GuidedBackprop(model).attribute(clips.clone().requires_grad_(True), target=1).detach()


@pytest.mark.parametrize("batch", [1, 2])
def test_equals_captum_bit_for_bit(tiny_model, tiny_clips, batch):
    clips, baselines = tiny_clips
    ours = _ours(tiny_model, clips[:batch], baselines[:batch])
    reference = _captum(tiny_model, clips[:batch])
    inputs = clips[:batch].clone().requires_grad_(True)
    (plain,) = torch.autograd.grad(tiny_model(inputs)[:, 1].sum(), inputs)
    assert not torch.equal(reference, plain), "the guidance must change the gradient on this model"
    assert torch.equal(ours, reference)


def test_one_forward_and_one_backward_sample_per_clip_even_under_no_grad(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    counter = PassMeter(tiny_model.net)
    with torch.no_grad():
        ours = _ours(tiny_model, clips, baselines)
    assert counter.counts == (2, 2)
    assert torch.equal(ours, _captum(tiny_model, clips))


class _Failing(nn.Module):
    """Runs the model, then raises: the explainer's hooks must still be removed."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.model(x)
        raise RuntimeError("boom")


def test_hooks_are_removed_when_the_model_raises(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    with pytest.raises(RuntimeError, match="boom"):
        _ours(_Failing(tiny_model), clips, baselines)
    assert not [m for m in tiny_model.modules() if m._forward_hooks or m._backward_hooks]
    assert torch.equal(_ours(tiny_model, clips, baselines), _captum(tiny_model, clips))


def test_models_without_usable_relus_are_named(tiny_clips):
    clips, baselines = tiny_clips
    with pytest.raises(ValueError, match="no nn.ReLU"):
        _ours(nn.Sequential(nn.Flatten(), nn.LazyLinear(2)), clips, baselines)
    with pytest.raises(ValueError, match="inplace"):
        _ours(nn.Sequential(nn.Flatten(), nn.ReLU(inplace=True)), clips, baselines)
