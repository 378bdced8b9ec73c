"""GradientSHAP: the batched implementation equals Captum's GradientShap bit for bit for the same seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from captum.attr import GradientShap

from benchmark.explain.contract import load_submission
from benchmark.explain.seeding import clip_generator, seeded
from benchmark.harness.metering import PassMeter

SUBMISSION = load_submission(Path(__file__).resolve().parents[2] / "submissions" / "gradient_shap")


def _ours(model, clips, baselines, params, clip_id="c0"):
    return SUBMISSION.explain(model, clips, target=1, baselines=baselines, params=params,
                              generator=clip_generator(0, "gradient_shap", clip_id))


def _captum(model, clips, baselines, params, clip_id="c0"):
    """What the submission did before: Captum per clip, each against its own baseline, in one seeded block."""
    with seeded(clip_generator(0, "gradient_shap", clip_id)):
        return torch.cat([
            GradientShap(model).attribute(clips[i : i + 1].clone(), baselines=baselines[i : i + 1].clone(),
                                          n_samples=params["n_samples"], stdevs=params["stdevs"], target=1).detach()
            for i in range(clips.shape[0])
        ])


@pytest.mark.parametrize("params", [{"n_samples": 3, "stdevs": 0.0}, {"n_samples": 2, "stdevs": 0.2}])
def test_equals_captum_bit_for_bit(tiny_model, tiny_clips, params):
    clips, baselines = tiny_clips  # two clips: the second one's draws follow the first one's
    reference = _captum(tiny_model, clips, baselines, params)
    assert reference.abs().max() > 0
    assert torch.equal(_ours(tiny_model, clips, baselines, params), reference)


def test_depends_on_the_seed_and_counts_one_batch(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    params = {"n_samples": 3, "stdevs": 0.0}
    counter = PassMeter(tiny_model.net)
    first = _ours(tiny_model, clips[:1], baselines[:1], params, "a")
    assert counter.counts == (3, 3)
    assert not torch.equal(first, _ours(tiny_model, clips[:1], baselines[:1], params, "b"))


@pytest.mark.parametrize("params", [{"n_samples": 0, "stdevs": 0.0}, {"n_samples": 2, "stdevs": -1.0}])
def test_bad_params_are_named(tiny_model, tiny_clips, params):
    clips, baselines = tiny_clips
    with pytest.raises(ValueError, match="gradient_shap: params"):
        _ours(tiny_model, clips, baselines, params)
