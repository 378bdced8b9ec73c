"""LIME and KernelSHAP through surrogate_weights equal Captum's own attribute() for the same seed."""

from __future__ import annotations

import pytest
import torch
from captum._utils.models.linear_model import SkLearnLasso
from captum.attr import KernelShap, Lime
from captum.attr._core.lime import get_exp_kernel_similarity_function
from torch import nn

from benchmark.explain.batching import model_memory_format
from benchmark.explain.seeding import seeded
from benchmark.explain.surrogates import FeatureExpKernel, kernel_shap_kwargs, surrogate_weights
from benchmark.harness.metering import PassMeter


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


def _captum(method, model, clip, baseline, mask, batch):
    make = _lime if method == "lime" else KernelShap
    with seeded(torch.Generator().manual_seed(5)), torch.no_grad():
        return make(model).attribute(
            clip, baselines=baseline, target=1, feature_mask=mask.expand_as(clip[0]).unsqueeze(0), n_samples=30,
            perturbations_per_eval=batch, return_input_shape=False,
        ).flatten()


def _ours(method, model, clip, baseline, mask, batch, **kwargs):
    make = _lime if method == "lime" else KernelShap
    extra = kernel_shap_kwargs(16) if method == "kernel_shap" else {}
    with seeded(torch.Generator().manual_seed(5)):
        return surrogate_weights(make(model), model, clip, baseline, mask, target=1, n_samples=30, batch_size=batch,
                                 extra_kwargs=extra, **kwargs)


@pytest.mark.parametrize("method", ["lime", "kernel_shap"])
@pytest.mark.parametrize("batch", [1, 7])
def test_equals_captum_bit_for_bit_in_captums_memory_format(setting, method, batch):
    model, clip, baseline, mask = setting
    reference = _captum(method, model, clip, baseline, mask, batch)
    ours = _ours(method, model, clip, baseline, mask, batch, memory_format=torch.contiguous_format)
    assert reference.abs().max() > 0
    assert torch.equal(ours, reference)


@pytest.mark.parametrize("method", ["lime", "kernel_shap"])
def test_channels_last_default_equals_captum_to_rounding(setting, method):
    """The default layout reorders the toy model's sum, so the bits may differ, not the values."""
    model, clip, baseline, mask = setting
    reference = _captum(method, model, clip, baseline, mask, 7)
    ours = _ours(method, model, clip, baseline, mask, 7)
    assert torch.allclose(ours, reference, rtol=1e-4, atol=1e-6 * float(reference.abs().max()))


class _LayoutRecorder(nn.Module):
    """Records whether each batch it sees is channels-last, then scores like :class:`_Scorer`."""

    def __init__(self) -> None:
        super().__init__()
        self.scorer = _Scorer()
        self.channels_last: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.channels_last.append(x.is_contiguous(memory_format=torch.channels_last_3d) and not x.is_contiguous())
        return self.scorer(x)


def test_the_model_sees_channels_last_batches_on_a_cpu(setting):
    _, clip, baseline, mask = setting
    recorder = _LayoutRecorder().eval()
    _ours("kernel_shap", recorder, clip, baseline, mask, 7)
    assert recorder.channels_last == [True] * 5  # 30 samples in batches of 7
    recorder.channels_last.clear()
    _ours("kernel_shap", recorder, clip, baseline, mask, 7, memory_format=torch.contiguous_format)
    assert recorder.channels_last == [False] * 5


def test_model_memory_format():
    assert model_memory_format(torch.zeros(1, 3, 2, 4, 4)) == torch.channels_last_3d
    assert model_memory_format(torch.zeros(1, 3, 4, 4)) == torch.contiguous_format
    assert model_memory_format(torch.zeros(1, 3, 2, 4, 4, device="meta")) == torch.contiguous_format


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


# ---- on the I3D: the first-convolution split and the similarity from the samples alone ----


@pytest.mark.parametrize(("distance", "width"), [("euclidean", 50.0), ("cosine", 0.1)])
def test_feature_kernel_equals_captums_kernel_with_and_without_the_clips(feature_setting, mix, distance, width):
    _, clip, baseline, mask = feature_setting
    k = int(mask.max()) + 1
    z = (torch.rand((6, k), generator=torch.Generator().manual_seed(1)) > 0.5).float()
    mixed = mix(clip, baseline, mask, z)
    captum = get_exp_kernel_similarity_function(distance, kernel_width=width)
    ours = FeatureExpKernel(distance, kernel_width=width)
    direct = torch.tensor([captum(clip, mixed[i : i + 1], z[i : i + 1]) for i in range(len(z))], dtype=torch.float64)
    called = torch.tensor([ours(clip, mixed[i : i + 1], z[i : i + 1]) for i in range(len(z))], dtype=torch.float64)
    from_samples = ours.for_features(clip, baseline, mask)(z)
    assert float(direct.max() - direct.min()) > 1e-3, "the samples must differ in similarity"
    torch.testing.assert_close(called, direct, rtol=0, atol=0)
    torch.testing.assert_close(from_samples, direct, rtol=1e-5, atol=1e-7)


def test_feature_kernel_checks_its_settings():
    with pytest.raises(ValueError, match="distance"):
        FeatureExpKernel("manhattan")
    with pytest.raises(ValueError, match="kernel_width"):
        FeatureExpKernel("euclidean", kernel_width=0)


def _weights(method, model, clip, baseline, mask, engine):
    k = int(mask.max()) + 1
    if method == "lime":
        explainer = Lime(model, interpretable_model=SkLearnLasso(alpha=1e-5),
                         similarity_func=FeatureExpKernel("euclidean", kernel_width=50.0))
        extra = {}
    else:
        explainer, extra = KernelShap(model), kernel_shap_kwargs(k)
    counter = PassMeter(model.net)
    with seeded(torch.Generator().manual_seed(7)):
        weights = surrogate_weights(explainer, model, clip, baseline, mask, target=1, n_samples=40, batch_size=16,
                                    extra_kwargs=extra, engine=engine)
    counter.detach()
    return weights, counter.counts


@pytest.mark.parametrize("method", ["lime", "kernel_shap"])
def test_split_weights_equal_the_plain_path(feature_setting, method):
    model, clip, baseline, mask = feature_setting
    plain, plain_counts = _weights(method, model, clip, baseline, mask, "plain")
    split, split_counts = _weights(method, model, clip, baseline, mask, "auto")
    assert plain.abs().max() > 0
    assert split_counts.forward == plain_counts.forward == 40 and split_counts.backward == 0
    torch.testing.assert_close(split, plain, rtol=1e-3, atol=1e-4 * float(plain.abs().max()))


def test_an_unknown_similarity_takes_the_plain_path(feature_setting):
    model, clip, baseline, mask = feature_setting
    seen = []

    def similarity(original, perturbed, sample, **kwargs):
        seen.append(perturbed.shape)
        return 1.0

    explainer = Lime(model, interpretable_model=SkLearnLasso(alpha=1e-5), similarity_func=similarity)
    with seeded(torch.Generator().manual_seed(7)):
        surrogate_weights(explainer, model, clip, baseline, mask, target=1, n_samples=5, batch_size=5)
    assert seen == [clip.shape] * 5, "the function must see each perturbed clip"
    with pytest.raises(ValueError, match="engine"):
        surrogate_weights(explainer, model, clip, baseline, mask, target=1, n_samples=5, batch_size=5, engine="fast")
