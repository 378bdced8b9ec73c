"""The first-convolution split: the same probabilities as full passes on feature-mixed clips, and LIME /
KernelSHAP weights equal to the plain path's."""

from __future__ import annotations

import pytest
import torch
from captum._utils.models.linear_model import SkLearnLasso
from captum.attr import KernelShap, Lime
from captum.attr._core.lime import get_exp_kernel_similarity_function
from torch import nn

from benchmark.explain.contract.counting import PassCounter
from benchmark.explain.seeding import seeded
from benchmark.explain.stem_split import StemSplit, stem_split
from benchmark.explain.supervoxels import slic_supervoxels
from benchmark.explain.surrogates import FeatureExpKernel, kernel_shap_kwargs, surrogate_weights

SHAPE = (3, 12, 26, 38)  # odd sizes: asymmetric SAME padding on H and W


@pytest.fixture(scope="module")
def setting(calibrated_i3d):
    generator = torch.Generator().manual_seed(4)
    clip = torch.rand((1, *SHAPE), generator=generator) * 2 - 1
    baseline = nn.functional.avg_pool3d(clip, (1, 5, 5), stride=1, padding=(0, 2, 2))
    model = calibrated_i3d(torch.cat([clip, baseline]))
    mask = slic_supervoxels(clip[0], 24, 10.0)
    return model, clip, baseline, mask


def _mixed(clip, baseline, mask, z):
    keep = z.index_select(1, mask.flatten()).bool().view(len(z), 1, *mask.shape)
    return torch.where(keep, clip, baseline)


def test_probabilities_equal_full_passes_on_the_mixed_clips(setting):
    model, clip, baseline, mask = setting
    model64, clip64, baseline64 = model.double(), clip.double(), baseline.double()
    try:
        k = int(mask.max()) + 1
        z = (torch.rand((9, k), generator=torch.Generator().manual_seed(0)) > 0.5).double()
        z[0], z[1] = 0, 1  # the baseline itself and the clip itself
        split = StemSplit(model64.net, clip64, baseline64, mask)
        with torch.inference_mode():
            reference = model64(_mixed(clip64, baseline64, mask, z))
        ours = split.probabilities(z)
        assert float(reference[:, 1].max() - reference[:, 1].min()) > 1e-3, "the features must move p"
        torch.testing.assert_close(ours, reference, rtol=0, atol=1e-12)
    finally:
        model.float()


def test_stem_split_names_what_it_cannot_take(setting):
    model, clip, baseline, mask = setting
    split, reason = stem_split(nn.Sequential(nn.Flatten()), clip, baseline, mask, budget_bytes=1e9)
    assert split is None and "Sequential" in reason
    split, reason = stem_split(model, clip, baseline, mask, budget_bytes=1024)
    assert split is None and "budget" in reason
    split, reason = stem_split(PassCounter(model), clip, baseline, mask, budget_bytes=1e9)
    assert isinstance(split, StemSplit) and reason == "" and split.num_features == int(mask.max()) + 1
    with pytest.raises(ValueError, match=r"samples must be \(n, "):
        split.probabilities(torch.zeros(2, split.num_features + 1))


@pytest.mark.parametrize(("distance", "width"), [("euclidean", 50.0), ("cosine", 0.1)])
def test_feature_kernel_equals_captums_kernel_with_and_without_the_clips(setting, distance, width):
    _, clip, baseline, mask = setting
    k = int(mask.max()) + 1
    z = (torch.rand((6, k), generator=torch.Generator().manual_seed(1)) > 0.5).float()
    mixed = _mixed(clip, baseline, mask, z)
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
    counter = PassCounter(model)
    with seeded(torch.Generator().manual_seed(7)):
        weights = surrogate_weights(explainer, counter, clip, baseline, mask, target=1, n_samples=40, batch_size=16,
                                    extra_kwargs=extra, engine=engine)
    return weights, counter.counts


@pytest.mark.parametrize("method", ["lime", "kernel_shap"])
def test_split_weights_equal_the_plain_path(setting, method):
    model, clip, baseline, mask = setting
    plain, plain_counts = _weights(method, model, clip, baseline, mask, "plain")
    split, split_counts = _weights(method, model, clip, baseline, mask, "auto")
    assert plain.abs().max() > 0
    assert split_counts.forward == plain_counts.forward == 40 and split_counts.backward == 0
    torch.testing.assert_close(split, plain, rtol=1e-3, atol=1e-4 * float(plain.abs().max()))


def test_an_unknown_similarity_takes_the_plain_path(setting):
    model, clip, baseline, mask = setting
    seen = []

    def similarity(original, perturbed, sample, **kwargs):
        seen.append(perturbed.shape)
        return 1.0

    explainer = Lime(model, interpretable_model=SkLearnLasso(alpha=1e-5), similarity_func=similarity)
    with seeded(torch.Generator().manual_seed(7)):
        surrogate_weights(explainer, model, clip, baseline, mask, target=1, n_samples=5, batch_size=5)
    assert seen == [torch.Size((1, *SHAPE))] * 5, "the function must see each perturbed clip"
    with pytest.raises(ValueError, match="engine"):
        surrogate_weights(explainer, model, clip, baseline, mask, target=1, n_samples=5, batch_size=5, engine="fast")
