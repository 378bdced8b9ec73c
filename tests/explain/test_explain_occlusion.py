"""The occlusion engines equal Captum's Occlusion; the incremental one recomputes less and says so."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from captum.attr import Occlusion
from torch import nn

from benchmark.explain.contract.counting import PassCounter
from benchmark.explain.geometry import count_windows
from benchmark.explain.occlusion import (
    IncrementalOcclusion,
    OcclusionStats,
    conv_macs,
    incremental_support,
    occluded_probabilities,
    occlusion,
    occlusion_windows,
)
from benchmark.model.i3d import ProbabilityModel, build_model

SHAPE = (3, 20, 24, 36)
WINDOW, STRIDE = (6, 8, 10), (5, 7, 9)  # 4 x 4 x 4 = 64 overlapping windows; the last one per axis is cropped


@pytest.fixture(scope="module")
def clip_pair() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    clip = torch.rand((1, *SHAPE), generator=generator) * 2 - 1
    baseline = nn.functional.avg_pool3d(clip, (1, 3, 3), stride=1, padding=(0, 1, 1))
    return clip, baseline


@pytest.fixture(scope="module")
def i3d64(clip_pair, calibrated_i3d) -> nn.Module:
    clip, baseline = clip_pair
    return calibrated_i3d(torch.cat([clip, baseline])).double()


@pytest.fixture(scope="module")
def reference64(i3d64, clip_pair) -> torch.Tensor:
    clip, baseline = (t.double() for t in clip_pair)
    return _captum(i3d64, clip, baseline).double()


def _captum(model, clip, baseline, window=WINDOW, stride=STRIDE):
    with torch.no_grad():
        return Occlusion(model).attribute(
            clip, sliding_window_shapes=(3, *window), strides=(3, *stride), baselines=baseline, target=1,
            perturbations_per_eval=16,
        )


def test_windows_follow_captums_positions_and_order():
    boxes = occlusion_windows(SHAPE[1:], WINDOW, STRIDE)
    assert len(boxes) == count_windows(SHAPE, (3, *WINDOW), (3, *STRIDE)) == 64
    assert boxes[0].tolist() == [[0, 6], [0, 8], [0, 10]]
    assert boxes[1].tolist() == [[5, 11], [0, 8], [0, 10]]  # the first axis varies fastest, as in Captum
    assert boxes[-1].tolist() == [[15, 20], [21, 24], [27, 36]]  # the last windows are cropped at the border
    with pytest.raises(ValueError, match="stride"):
        occlusion_windows(SHAPE[1:], (4, 5, 7), (5, 5, 7))


def test_batched_engine_equals_captum_on_any_model(clip_pair):
    clip, baseline = clip_pair
    torch.manual_seed(0)
    toy = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                        nn.Linear(4, 2), nn.Softmax(dim=1)).double().eval()
    x, b = clip.double(), baseline.double()
    stats = OcclusionStats()
    ours = occlusion(toy, x, b, window=WINDOW, stride=STRIDE, target=1, batch_size=7, stats=stats)
    assert stats.engine == "batched" and "Sequential" in stats.reason
    torch.testing.assert_close(ours, _captum(toy, x, b).double(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("stop", [None, "Conv3d_1a_7x7", "MaxPool3d_3a_3x3", "Mixed_4b"])
def test_incremental_engine_is_exact_in_float64(i3d64, clip_pair, reference64, stop):
    clip, baseline = (t.double() for t in clip_pair)
    reference = reference64
    assert reference.abs().max() > 1e-3, "the test model must react to occlusion"
    engine = IncrementalOcclusion(i3d64, stop=stop)
    ours = engine.attribute(clip, baseline, window=WINDOW, stride=STRIDE, target=1, batch_size=16)
    # Captum accumulates in float32: its rounding is the only difference
    torch.testing.assert_close(ours, reference, rtol=1e-6, atol=1e-7 * float(reference.abs().max()))
    assert engine.stats.stop == (stop or engine.stats.stop) and engine.stats.windows == 64


def test_incremental_engine_matches_captum_within_1e4_in_float32(clip_pair, calibrated_i3d):
    clip, baseline = clip_pair
    model = calibrated_i3d(torch.cat([clip, baseline]))
    counter = PassCounter(model)
    stats = OcclusionStats()
    ours = occlusion(counter, clip, baseline, window=WINDOW, stride=STRIDE, target=1, batch_size=16, stats=stats,
                     min_incremental_gmacs=0)
    assert stats.engine == "incremental" and stats.reason == ""
    assert counter.counts.forward == 1 + 64 and counter.counts.backward == 0
    reference = _captum(model, clip, baseline)
    assert float((ours - reference).abs().max() / reference.abs().max()) < 1e-4


def test_incremental_probabilities_equal_full_passes_on_a_subset(i3d64, clip_pair):
    clip, baseline = (t[0].double() for t in clip_pair)
    boxes = occlusion_windows(SHAPE[1:], (4, 3, 3), (2, 2, 2))
    idx = np.array([0, 5, len(boxes) // 2, len(boxes) - 1])
    p0, plain = occluded_probabilities(i3d64, clip, baseline, boxes[idx], target=1, batch_size=3)
    engine = IncrementalOcclusion(i3d64)
    q0, incremental = engine.probabilities(clip, baseline, boxes, target=1, batch_size=3, indices=idx)
    assert p0 == pytest.approx(q0, abs=1e-12)
    np.testing.assert_allclose(incremental, plain, rtol=0, atol=1e-10)
    assert engine.stats.mac_ratio > 2, "a 4x3x3 window must save most multiply-adds (clean pass included)"


def test_unsupported_models_are_named_and_refused_when_forced(clip_pair):
    clip, baseline = clip_pair
    toy = nn.Sequential(nn.Flatten(), nn.LazyLinear(2))
    assert "Sequential" in incremental_support(toy)
    training = ProbabilityModel(build_model(width=0.0625, seed=0)).train()
    assert "training mode" in incremental_support(training)
    with pytest.raises(ValueError, match="incremental engine does not support"):
        occlusion(training, clip, baseline, window=WINDOW, stride=STRIDE, target=1, batch_size=4, engine="incremental")
    with pytest.raises(ValueError, match="engine must be one of"):
        occlusion(toy, clip, baseline, window=WINDOW, stride=STRIDE, target=1, batch_size=4, engine="fast")
    with pytest.raises(ValueError, match="stop must be one of"):
        IncrementalOcclusion(ProbabilityModel(build_model(width=0.0625, seed=0)).eval(), stop="conv1")


def test_mac_counter_matches_a_hand_count_of_the_first_layers():
    net = build_model(width=1.0, seed=0)
    macs = conv_macs(net, (3, 20, 158, 237))
    assert macs["Conv3d_1a_7x7"] == 10 * 79 * 119 * 64 * 3 * 7**3
    assert macs["Conv3d_2c_3x3"] == 10 * 40 * 60 * 192 * 64 * 27
    assert macs["Mixed_3b.b1b"] == 10 * 20 * 30 * 128 * 96 * 27
    assert 24e9 < sum(macs.values()) < 28e9  # ~53 GFLOP per clip (pitfalls.md)


def test_stats_report_fewer_macs_than_plain_occlusion(clip_pair):
    clip, baseline = clip_pair
    stats = OcclusionStats()
    model = ProbabilityModel(build_model(width=0.0625, seed=0)).eval()
    occlusion(model, clip, baseline, window=(4, 6, 9), stride=(4, 6, 9), target=1, batch_size=64, stats=stats,
              min_incremental_gmacs=0)
    assert stats.forward_samples == 1 + count_windows(SHAPE, (3, 4, 6, 9), (3, 4, 6, 9))
    assert stats.plain_macs > stats.macs > 0 and math.isfinite(stats.mac_ratio)
    batched = OcclusionStats()
    occlusion(model, clip, baseline, window=(10, 24, 36), stride=(10, 24, 36), target=1, batch_size=2,
              engine="batched", stats=batched)
    assert batched.engine == "batched" and batched.macs == batched.plain_macs


def test_auto_keeps_plain_batches_for_a_model_too_small_to_gain(clip_pair):
    clip, baseline = clip_pair
    model = ProbabilityModel(build_model(width=0.0625, seed=0)).eval()
    stats = OcclusionStats()
    auto = occlusion(model, clip, baseline, window=(4, 6, 9), stride=(4, 6, 9), target=1, batch_size=8, stats=stats)
    assert stats.engine == "batched" and "GMAC" in stats.reason and stats.macs == stats.plain_macs
    forced = occlusion(model, clip, baseline, window=(4, 6, 9), stride=(4, 6, 9), target=1, batch_size=8,
                       engine="incremental")
    torch.testing.assert_close(auto, forced, rtol=1e-5, atol=1e-7)


def test_the_clean_pass_shares_the_first_batch(i3d64, clip_pair):
    clip, baseline = (t[0].double() for t in clip_pair)
    boxes = occlusion_windows(SHAPE[1:], (4, 6, 9), (4, 6, 9))
    calls: list[int] = []
    handle = i3d64.register_forward_pre_hook(lambda module, args: calls.append(args[0].shape[0]))
    try:
        p0, p = occluded_probabilities(i3d64, clip, baseline, boxes, target=1, batch_size=len(boxes) + 1)
    finally:
        handle.remove()
    assert calls == [1 + len(boxes)]
    with torch.inference_mode():
        alone = float(i3d64(clip.unsqueeze(0))[0, 1])
    assert p0 == pytest.approx(alone, abs=1e-12) and p.shape == (len(boxes),)
