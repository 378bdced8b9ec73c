"""LIME and KernelSHAP through surrogate_weights equal Captum's own attribute() for the same seed."""

from __future__ import annotations

import pytest
import torch
from captum._utils.models.linear_model import SkLearnLasso
from captum.attr import KernelShap, Lime
from captum.attr._core.lime import get_exp_kernel_similarity_function
from torch import nn

from benchmark.explain.seeding import seeded
from benchmark.explain.surrogates import kernel_shap_kwargs, surrogate_weights


class _Scorer(nn.Module):
    """(B, 3, T, H, W) -> (B, 2) probabilities from a fixed weighting of the voxels."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn((3, 4, 6, 8), generator=torch.Generator().manual_seed(0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = (x * self.weight).sum(dim=(1, 2, 3, 4)) / 20
        return torch.softmax(torch.stack([-score, score], dim=1), dim=1)


@pytest.fixture
def setting():
    generator = torch.Generator().manual_seed(1)
    clip = torch.rand((1, 3, 4, 6, 8), generator=generator) * 2 - 1
    baseline = clip * 0.2
    mask = (torch.arange(4 * 6 * 8).reshape(4, 6, 8) // 12).long()  # 16 contiguous features
    return _Scorer().eval(), clip, baseline, mask


def _lime(model):
    return Lime(model, interpretable_model=SkLearnLasso(alpha=1e-4),
                similarity_func=get_exp_kernel_similarity_function("euclidean", kernel_width=2.0))


@pytest.mark.parametrize("method", ["lime", "kernel_shap"])
@pytest.mark.parametrize("batch", [1, 7])
def test_equals_captum_bit_for_bit(setting, method, batch):
    model, clip, baseline, mask = setting
    make = _lime if method == "lime" else KernelShap
    extra = kernel_shap_kwargs(16) if method == "kernel_shap" else {}
    with seeded(torch.Generator().manual_seed(5)), torch.no_grad():
        reference = make(model).attribute(
            clip, baselines=baseline, target=1, feature_mask=mask.expand_as(clip[0]).unsqueeze(0), n_samples=30,
            perturbations_per_eval=batch, return_input_shape=False,
        )
    with seeded(torch.Generator().manual_seed(5)):
        ours = surrogate_weights(make(model), model, clip, baseline, mask, target=1, n_samples=30, batch_size=batch,
                                 extra_kwargs=extra)
    assert reference.abs().max() > 0
    assert torch.equal(ours, reference.flatten())


def test_a_different_seed_gives_different_weights(setting):
    model, clip, baseline, mask = setting
    runs = []
    for seed in (5, 6):
        with seeded(torch.Generator().manual_seed(seed)):
            runs.append(surrogate_weights(KernelShap(model), model, clip, baseline, mask, target=1, n_samples=30,
                                          batch_size=8, extra_kwargs=kernel_shap_kwargs(16)))
    assert not torch.equal(*runs)


def test_bad_shapes_are_named(setting):
    model, clip, baseline, mask = setting
    with pytest.raises(ValueError, match="feature_mask"):
        surrogate_weights(KernelShap(model), model, clip, baseline, mask[:2], target=1, n_samples=4, batch_size=2)
    with pytest.raises(ValueError, match=r"\(1, C, T, H, W\)"):
        surrogate_weights(KernelShap(model), model, clip[0], baseline, mask, target=1, n_samples=4, batch_size=2)
