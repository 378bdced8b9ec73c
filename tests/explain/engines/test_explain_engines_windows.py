"""Captum's occlusion windows, and the mean drop over the windows covering each voxel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.explain.engines.windows import attribution_from_drops, check_clip_pair, occlusion_windows
from benchmark.explain.geometry import count_windows


def test_windows_follow_captums_positions_and_order(occlusion_setting):
    s = occlusion_setting
    boxes = occlusion_windows(s.shape[1:], s.window, s.stride)
    assert len(boxes) == count_windows(s.shape, (3, *s.window), (3, *s.stride)) == 64
    assert boxes[0].tolist() == [[0, 6], [0, 8], [0, 10]]
    assert boxes[1].tolist() == [[5, 11], [0, 8], [0, 10]]  # the first axis varies fastest, as in Captum
    assert boxes[-1].tolist() == [[15, 20], [21, 24], [27, 36]]  # the last windows are cropped at the border
    with pytest.raises(ValueError, match="stride"):
        occlusion_windows(s.shape[1:], (4, 5, 7), (5, 5, 7))


def test_attribution_is_the_mean_drop_over_the_covering_windows():
    shape = (5, 4, 6)
    boxes = occlusion_windows(shape, (3, 2, 4), (2, 1, 3))
    drops = np.random.default_rng(0).normal(size=len(boxes))
    total, count = np.zeros(shape), np.zeros(shape)
    for ((t0, t1), (h0, h1), (w0, w1)), d in zip(boxes, drops):
        total[t0:t1, h0:h1, w0:w1] += d
        count[t0:t1, h0:h1, w0:w1] += 1
    ours = attribution_from_drops(boxes, drops, 3, shape, torch.float64)
    assert ours.shape == (3, *shape) and count.min() >= 1
    for channel in ours:
        np.testing.assert_allclose(channel.numpy(), total / count, rtol=0, atol=1e-12)


def test_clip_pairs_are_checked():
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        check_clip_pair(torch.zeros(3, 4, 5, 6), torch.zeros(3, 4, 5, 6))
    with pytest.raises(ValueError, match="baselines must have the clips' shape"):
        check_clip_pair(torch.zeros(1, 3, 4, 5, 6), torch.zeros(1, 3, 4, 5, 7))
