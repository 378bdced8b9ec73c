"""The first-convolution split: the same probabilities as full passes on feature-mixed clips."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmark.explain.engines.stem_split import StemSplit, stem_split


def test_probabilities_equal_full_passes_on_the_mixed_clips(feature_setting, mix):
    model, clip, baseline, mask = feature_setting
    model64, clip64, baseline64 = model.double(), clip.double(), baseline.double()
    try:
        k = int(mask.max()) + 1
        z = (torch.rand((9, k), generator=torch.Generator().manual_seed(0)) > 0.5).double()
        z[0], z[1] = 0, 1  # the baseline itself and the clip itself
        split = StemSplit(model64.net, clip64, baseline64, mask)
        with torch.inference_mode():
            reference = model64(mix(clip64, baseline64, mask, z))
        ours = split.probabilities(z)
        assert float(reference[:, 1].max() - reference[:, 1].min()) > 1e-3, "the features must move p"
        torch.testing.assert_close(ours, reference, rtol=0, atol=1e-12)
    finally:
        model.float()


def test_stem_split_names_what_it_cannot_take(feature_setting):
    model, clip, baseline, mask = feature_setting
    split, reason = stem_split(nn.Sequential(nn.Flatten()), clip, baseline, mask, budget_bytes=1e9)
    assert split is None and "Sequential" in reason
    split, reason = stem_split(model, clip, baseline, mask, budget_bytes=1024)
    assert split is None and "budget" in reason
    split, reason = stem_split(model, clip, baseline, mask, budget_bytes=1e9)
    assert isinstance(split, StemSplit) and reason == "" and split.num_features == int(mask.max()) + 1
    with pytest.raises(ValueError, match=r"samples must be \(n, "):
        split.probabilities(torch.zeros(2, split.num_features + 1))
