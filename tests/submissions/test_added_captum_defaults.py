"""The performance table's Captum-default runs of the added Captum methods compute what the submissions compute."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from benchmark.explain.contract import load_submission
from benchmark.perf.captum_defaults import CAPTUM_DEFAULTS

ROOT = Path(__file__).resolve().parents[2] / "submissions"


@pytest.mark.parametrize("name", ["grad_cam", "saliency", "supervoxel_ablation"])
def test_captum_default_equals_the_submission(name, calibrated_tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    model = copy.deepcopy(calibrated_tiny_model).double()  # float64: equal to rounding, whatever the batching
    x, b = clips[:1].double(), baselines[:1].double()
    submission = load_submission(ROOT / name)
    ours = submission.explain(model, x, target=1, baselines=b, params=dict(submission.params),
                              generator=torch.Generator())
    captum = CAPTUM_DEFAULTS[name](model, x, b, submission.params, torch.Generator(), 1).detach()
    if name == "grad_cam":
        captum = captum[:, 0]
    elif name == "saliency":
        captum = captum.amax(dim=1)
    assert captum.abs().max() > 0
    torch.testing.assert_close(ours, captum, rtol=1e-9, atol=1e-12 * float(captum.abs().max()))
