"""The incremental engine equals Captum's Occlusion in float64 and recomputes far fewer multiply-adds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Occlusion

from benchmark.explain.engines.batched import occluded_probabilities
from benchmark.explain.engines.incremental import IncrementalOcclusion, incremental_support
from benchmark.explain.engines.windows import occlusion_windows
from benchmark.model.i3d import ProbabilityModel, build_model


@pytest.fixture(scope="module")
def reference64(i3d64, occlusion_setting) -> torch.Tensor:
    s = occlusion_setting
    with torch.no_grad():
        return Occlusion(i3d64).attribute(
            s.clip.double(), sliding_window_shapes=(3, *s.window), strides=(3, *s.stride),
            baselines=s.baseline.double(), target=1, perturbations_per_eval=16,
        ).double()


@pytest.mark.parametrize("stop", [None, "Conv3d_1a_7x7", "MaxPool3d_3a_3x3", "Mixed_4b"])
def test_incremental_engine_is_exact_in_float64(i3d64, occlusion_setting, reference64, stop):
    s = occlusion_setting
    reference = reference64
    assert reference.abs().max() > 1e-3, "the test model must react to occlusion"
    engine = IncrementalOcclusion(i3d64, stop=stop)
    ours = engine.attribute(s.clip.double(), s.baseline.double(), window=s.window, stride=s.stride, target=1,
                            batch_size=16)
    # Captum accumulates in float32: its rounding is the only difference
    torch.testing.assert_close(ours, reference, rtol=1e-6, atol=1e-7 * float(reference.abs().max()))
    assert engine.stats.stop == (stop or engine.stats.stop) and engine.stats.windows == 64


def test_incremental_probabilities_equal_full_passes_on_a_subset(i3d64, occlusion_setting):
    s = occlusion_setting
    clip, baseline = s.clip[0].double(), s.baseline[0].double()
    boxes = occlusion_windows(s.shape[1:], (4, 3, 3), (2, 2, 2))
    idx = np.array([0, 5, len(boxes) // 2, len(boxes) - 1])
    p0, plain = occluded_probabilities(i3d64, clip, baseline, boxes[idx], target=1, batch_size=3)
    engine = IncrementalOcclusion(i3d64)
    q0, incremental = engine.probabilities(clip, baseline, boxes, target=1, batch_size=3, indices=idx)
    assert p0 == pytest.approx(q0, abs=1e-12)
    np.testing.assert_allclose(incremental, plain, rtol=0, atol=1e-10)
    assert engine.stats.mac_ratio > 2, "a 4x3x3 window must save most multiply-adds (clean pass included)"


def test_unsupported_models_and_stops_are_named():
    assert "Sequential" in incremental_support(torch.nn.Sequential(torch.nn.Flatten()))
    training = ProbabilityModel(build_model(width=0.0625, seed=0)).train()
    assert "training mode" in incremental_support(training)
    with pytest.raises(ValueError, match="unsupported model"):
        IncrementalOcclusion(training)
    with pytest.raises(ValueError, match="stop must be one of"):
        IncrementalOcclusion(ProbabilityModel(build_model(width=0.0625, seed=0)).eval(), stop="conv1")
