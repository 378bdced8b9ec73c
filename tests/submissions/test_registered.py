"""Every registered submission, on a tiny model and two tiny clips (a new entry is tested for free).

Test-only parameter overrides: :data:`TEST_OVERRIDES` maps a submission name to keys that shrink
its work (fewer steps or samples, coarser windows) so each run takes about a second. They are merged
over ``submission.yaml: params`` with :func:`merge_params`, exactly as the harness merges
``params.yaml: profiles.<p>.submission_params``; unknown keys are an error, and the yamls are never
edited. A submission without an entry runs with its own params.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from captum.attr import KernelShap

from benchmark.explain.contract import (
    METHOD_FAMILIES,
    check_output,
    discover,
    load_submission,
    merge_params,
)
from benchmark.explain.seeding import clip_generator, seeded
from benchmark.explain.supervoxels import slic_supervoxels
from benchmark.harness.metering import PassMeter

ROOT = Path(__file__).resolve().parents[2] / "submissions"
SUBMISSIONS = discover(ROOT)

TEST_OVERRIDES: dict[str, dict] = {
    "integrated_gradients": {"n_steps": 4},
    "ig_smoothgrad": {"n_steps": 2, "nt_samples": 2},
    "gradient_shap": {"n_samples": 2},
    "kernel_shap": {"n_samples": 8},
    "lime": {"n_samples": 8},
    "occlusion_large": {"window": [10, 79, 118], "stride": [10, 79, 118]},  # 8 windows
    "occlusion_small": {"window": [4, 79, 118], "stride": [4, 79, 118]},  # 20 windows
    "rise": {"n_masks": 16},
    "extremal_perturbation": {"steps": 3},
}

MAY_RETURN_ZEROS: dict[str, str] = {
    "lime": "the Lasso zeroes every supervoxel when p barely moves, as on an untrained I3D",
}
"""Submissions for which an all-zero map on the untrained test model is legitimate (and why)."""


def _run(
    name: str, model: torch.nn.Module, clips: torch.Tensor, baselines: torch.Tensor, clip_id: str = "c0"
) -> torch.Tensor:
    submission = load_submission(SUBMISSIONS[name])
    params = merge_params(submission.params, TEST_OVERRIDES.get(name), source="TEST_OVERRIDES", name=name)
    return submission.explain(
        model,
        clips,
        target=1,
        baselines=baselines,
        params=params,
        generator=clip_generator(0, name, clip_id),
    )


def test_the_baselines_are_registered():
    expected = {
        "integrated_gradients", "ig_smoothgrad", "guided_backprop", "gradient_shap", "kernel_shap",
        "lime", "occlusion_large", "occlusion_small", "random",
    }
    assert expected <= set(SUBMISSIONS)
    assert set(TEST_OVERRIDES) <= set(SUBMISSIONS) and set(MAY_RETURN_ZEROS) <= set(SUBMISSIONS)


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_metadata_is_valid(name):
    submission = load_submission(SUBMISSIONS[name])
    assert submission.name == name
    assert submission.meta.family in METHOD_FAMILIES
    assert submission.meta.display_name and submission.meta.authors
    assert (SUBMISSIONS[name] / "dvc.yaml").read_text().count(f"benchmark evaluate {name}\n") == 1


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_explains_deterministically_without_side_effects(name, tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    clips_before, baselines_before = clips.clone(), baselines.clone()
    weights_before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    counter = PassMeter(tiny_model.net)

    first = check_output(_run(name, tiny_model, clips, baselines), clips, name=name)
    second = check_output(_run(name, tiny_model, clips, baselines), clips, name=name)
    assert counter.tampering() == "", f"{name} bypassed the pass meter"
    counter.detach()

    assert first.shape in (clips.shape, clips.shape[:1] + clips.shape[2:])
    assert torch.isfinite(first).all()
    assert torch.equal(first, second), "same generator seed must give bitwise identical attributions"
    assert torch.equal(clips, clips_before) and torch.equal(baselines, baselines_before)
    assert not clips.requires_grad and not baselines.requires_grad
    for key, value in tiny_model.state_dict().items():
        assert torch.equal(value, weights_before[key]), f"{name} changed the model's {key}"
    assert not tiny_model.training
    hooked = [m for m in tiny_model.modules() if m._forward_hooks or m._backward_hooks]
    assert not hooked, f"{name} left hooks on {hooked}"
    if load_submission(SUBMISSIONS[name]).meta.family != "other":
        assert counter.counts.forward > 0, f"{name} never ran the model"
        if name not in MAY_RETURN_ZEROS:
            assert first.abs().sum() > 0, f"{name} returned an all-zero map on the tiny model"


def test_random_control_depends_on_the_seed(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    assert not torch.equal(
        _run("random", tiny_model, clips, baselines, "a"), _run("random", tiny_model, clips, baselines, "b")
    )


def test_seeded_methods_depend_on_the_seed(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    first = _run("kernel_shap", tiny_model, clips[:1], baselines[:1], "a")
    assert not torch.equal(first, _run("kernel_shap", tiny_model, clips[:1], baselines[:1], "b"))


def test_batched_call_equals_per_clip_calls(tiny_model, tiny_clips):
    clips, baselines = tiny_clips
    batched = _run("integrated_gradients", tiny_model, clips, baselines)
    alone = _run("integrated_gradients", tiny_model, clips[1:], baselines[1:])
    assert torch.allclose(batched[1:], alone, rtol=1e-4, atol=1e-9)


def test_supervoxel_methods_match_captums_own_output_shape(tiny_model, tiny_clips):
    """LIME/KernelSHAP spread the supervoxel weights themselves; the result must equal Captum's.

    To rounding: the submission runs the model channels-last (bit-for-bit equality in Captum's
    layout is tested in tests/explain/test_explain_surrogates.py)."""
    clips, baselines = tiny_clips
    name = "kernel_shap"
    params = merge_params(load_submission(SUBMISSIONS[name]).params, TEST_OVERRIDES[name])
    ours = _run(name, tiny_model, clips[:1], baselines[:1])
    with seeded(clip_generator(0, name, "c0")), torch.no_grad():
        segments = slic_supervoxels(clips[0], params["n_segments"], params["compactness"])
        captums = KernelShap(tiny_model).attribute(
            clips[:1],
            baselines=baselines[:1],
            target=1,
            feature_mask=segments.expand_as(clips[0]).unsqueeze(0),
            n_samples=params["n_samples"],
            perturbations_per_eval=params["n_samples"],
        )
    assert ours.shape == captums.shape and captums.abs().max() > 0
    assert torch.allclose(ours, captums, rtol=1e-5, atol=1e-7 * float(captums.abs().max()))
