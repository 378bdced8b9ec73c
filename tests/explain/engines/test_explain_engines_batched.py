"""The batched engine: full passes of the occluded clips, the clean clip in the first batch."""

from __future__ import annotations

import pytest
import torch

from benchmark.explain.engines.batched import occluded_probabilities
from benchmark.explain.engines.windows import occlusion_windows


def test_the_clean_pass_shares_the_first_batch(i3d64, occlusion_setting):
    s = occlusion_setting
    clip, baseline = s.clip[0].double(), s.baseline[0].double()
    boxes = occlusion_windows(s.shape[1:], (4, 6, 9), (4, 6, 9))
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


def test_every_window_is_one_occluded_clip(i3d64, occlusion_setting):
    s = occlusion_setting
    clip, baseline = s.clip[0].double(), s.baseline[0].double()
    boxes = occlusion_windows(s.shape[1:], (10, 12, 18), (10, 12, 18))
    _, p = occluded_probabilities(i3d64, clip, baseline, boxes, target=1, batch_size=3)
    (t0, t1), (h0, h1), (w0, w1) = boxes[5]
    occluded = clip.clone()
    occluded[:, t0:t1, h0:h1, w0:w1] = baseline[:, t0:t1, h0:h1, w0:w1]
    with torch.inference_mode():
        assert p[5] == pytest.approx(float(i3d64(occluded.unsqueeze(0))[0, 1]), abs=1e-12)
    with pytest.raises(ValueError, match="batch_size"):
        occluded_probabilities(i3d64, clip, baseline, boxes, target=1, batch_size=0)
