"""occlusion(): Captum's Occlusion on any model, the fastest exact engine chosen, and what it cost."""

from __future__ import annotations

import math

import pytest
import torch
from captum.attr import Occlusion
from torch import nn

from benchmark.explain.geometry import count_windows
from benchmark.explain.occlusion import OcclusionStats, occlusion
from benchmark.harness.metering import PassMeter
from benchmark.model.i3d import ProbabilityModel, build_model


def _captum(model, clip, baseline, window, stride):
    with torch.no_grad():
        return Occlusion(model).attribute(
            clip, sliding_window_shapes=(3, *window), strides=(3, *stride), baselines=baseline, target=1,
            perturbations_per_eval=16,
        )


def test_batched_engine_equals_captum_on_any_model(occlusion_setting):
    s = occlusion_setting
    torch.manual_seed(0)
    toy = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                        nn.Linear(4, 2), nn.Softmax(dim=1)).double().eval()
    x, b = s.clip.double(), s.baseline.double()
    stats = OcclusionStats()
    ours = occlusion(toy, x, b, window=s.window, stride=s.stride, target=1, batch_size=7, stats=stats)
    assert stats.engine == "batched" and "Sequential" in stats.reason
    torch.testing.assert_close(ours, _captum(toy, x, b, s.window, s.stride).double(), rtol=1e-6, atol=1e-12)


def test_incremental_engine_matches_captum_within_1e4_in_float32(occlusion_setting, calibrated_i3d):
    s = occlusion_setting
    model = calibrated_i3d(torch.cat([s.clip, s.baseline]))
    counter = PassMeter(model.net)
    stats = OcclusionStats()
    ours = occlusion(model, s.clip, s.baseline, window=s.window, stride=s.stride, target=1, batch_size=16,
                     stats=stats, min_incremental_gmacs=0)
    assert stats.engine == "incremental" and stats.reason == ""
    assert counter.counts.forward == 1 + 64 and counter.counts.backward == 0
    reference = _captum(model, s.clip, s.baseline, s.window, s.stride)
    assert float((ours - reference).abs().max() / reference.abs().max()) < 1e-4


def test_unsupported_models_are_named_and_refused_when_forced(occlusion_setting):
    s = occlusion_setting
    toy = nn.Sequential(nn.Flatten(), nn.LazyLinear(2))
    training = ProbabilityModel(build_model(width=0.0625, seed=0)).train()
    with pytest.raises(ValueError, match="incremental engine does not support.*training mode"):
        occlusion(training, s.clip, s.baseline, window=s.window, stride=s.stride, target=1, batch_size=4,
                  engine="incremental")
    with pytest.raises(ValueError, match="engine must be one of"):
        occlusion(toy, s.clip, s.baseline, window=s.window, stride=s.stride, target=1, batch_size=4, engine="fast")


def test_stats_report_fewer_macs_than_plain_occlusion(occlusion_setting):
    s = occlusion_setting
    stats = OcclusionStats()
    model = ProbabilityModel(build_model(width=0.0625, seed=0)).eval()
    occlusion(model, s.clip, s.baseline, window=(4, 6, 9), stride=(4, 6, 9), target=1, batch_size=64, stats=stats,
              min_incremental_gmacs=0)
    assert stats.forward_samples == 1 + count_windows(s.shape, (3, 4, 6, 9), (3, 4, 6, 9))
    assert stats.plain_macs > stats.macs > 0 and math.isfinite(stats.mac_ratio)
    batched = OcclusionStats()
    occlusion(model, s.clip, s.baseline, window=(10, 24, 36), stride=(10, 24, 36), target=1, batch_size=2,
              engine="batched", stats=batched)
    assert batched.engine == "batched" and batched.macs == batched.plain_macs


def test_auto_keeps_plain_batches_for_a_model_too_small_to_gain(occlusion_setting):
    s = occlusion_setting
    model = ProbabilityModel(build_model(width=0.0625, seed=0)).eval()
    stats = OcclusionStats()
    auto = occlusion(model, s.clip, s.baseline, window=(4, 6, 9), stride=(4, 6, 9), target=1, batch_size=8,
                     stats=stats)
    assert stats.engine == "batched" and "GMAC" in stats.reason and stats.macs == stats.plain_macs
    forced = occlusion(model, s.clip, s.baseline, window=(4, 6, 9), stride=(4, 6, 9), target=1, batch_size=8,
                       engine="incremental")
    torch.testing.assert_close(auto, forced, rtol=1e-5, atol=1e-7)
