"""Feature ablation: both engines equal Captum's FeatureAblation over the same feature mask."""

from __future__ import annotations

import copy

import pytest
import torch
from captum.attr import FeatureAblation
from torch import nn

from benchmark.explain.ablation import ablation_samples, feature_ablation
from benchmark.harness.metering import PassMeter


def _captum(model, clip, baseline, mask):
    """Captum's FeatureAblation, its default settings: one ablated clip per call, every voxel its feature's drop."""
    with torch.no_grad():
        return FeatureAblation(model).attribute(
            clip.clone(), baselines=baseline.clone(), target=1, feature_mask=mask.expand_as(clip[0]).unsqueeze(0)
        )


def test_ablation_samples():
    z = ablation_samples(3)
    assert torch.equal(z, torch.tensor([[1.0, 1, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0]]))
    with pytest.raises(ValueError):
        ablation_samples(0)


@pytest.mark.parametrize(("engine", "memory_format"), [
    ("auto", None), ("plain", None), ("plain", torch.contiguous_format),
])
def test_equals_captums_feature_ablation(feature_setting, engine, memory_format):
    model, clip, baseline, mask = feature_setting
    k = int(mask.max()) + 1
    model64, clip64, baseline64 = copy.deepcopy(model).double(), clip.double(), baseline.double()
    # in float64 the engines equal Captum to its rounding
    meter = PassMeter(model64.net)
    drops = feature_ablation(model64, clip64, baseline64, mask, target=1, batch_size=16, engine=engine,
                             memory_format=memory_format)
    assert meter.counts == (k + 1, 0)
    meter.detach()
    reference = _captum(model64, clip64, baseline64, mask)
    scale = float(reference.abs().max())
    assert scale > 1e-4, "ablating a supervoxel must move p on this model"
    torch.testing.assert_close(drops[mask].expand_as(clip64[0]).unsqueeze(0), reference, rtol=0, atol=1e-10 * scale)
    # in float32 both differ from float64 by float32's rounding of this model, which is coarse: its logits are
    # large (p up to 1 - 2e-7), and one float32 pass moves p by up to 6e-5 against float64
    drops32 = feature_ablation(model, clip, baseline, mask, target=1, batch_size=16, engine=engine,
                               memory_format=memory_format)
    reference32 = _captum(model, clip, baseline, mask)
    exact = reference.float()
    assert float((reference32 - exact).abs().max()) > 1e-6, "float32 rounding must show on this model"
    ours_error = float((drops32[mask].expand_as(clip[0]).unsqueeze(0) - exact).abs().max())
    assert ours_error <= 2 * float((reference32 - exact).abs().max()) + 1e-6 * scale


def test_other_models_take_the_plain_path():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 6 * 8, 2), nn.Softmax(dim=1)).eval()
    clip = torch.rand((1, 3, 4, 6, 8), generator=torch.Generator().manual_seed(0))
    baseline = torch.zeros_like(clip)
    mask = torch.arange(4 * 6 * 8).view(4, 6, 8) // 24  # 8 features
    drops = feature_ablation(model, clip, baseline, mask, target=1, batch_size=3)
    torch.testing.assert_close(drops[mask].expand_as(clip[0]).unsqueeze(0), _captum(model, clip, baseline, mask),
                               rtol=1e-5, atol=1e-7)


def test_bad_arguments_are_named(feature_setting):
    model, clip, baseline, mask = feature_setting
    with pytest.raises(ValueError, match="engine"):
        feature_ablation(model, clip, baseline, mask, target=1, batch_size=4, engine="fast")
    with pytest.raises(ValueError, match="feature_mask"):
        feature_ablation(model, clip, baseline, mask.int(), target=1, batch_size=4)
    with pytest.raises(ValueError, match="clip and baseline"):
        feature_ablation(model, clip[0], baseline[0], mask, target=1, batch_size=4)
