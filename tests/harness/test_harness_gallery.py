"""The gallery shows clips from several videos, a missed clip when there is one, and raw arrays per tile."""

from __future__ import annotations

import json

import numpy as np

from benchmark.harness.gallery import gallery_clips, write_gallery


def _masks(areas):
    masks = np.zeros((len(areas), 2, 4, 4), bool)
    for i, a in enumerate(areas):
        masks[i, 0].flat[:a] = True
    return masks


def test_one_clip_per_video_the_largest_masks_in_evaluation_order():
    videos = ["a", "a", "b", "b", "c", "d"]
    masks = _masks([3, 5, 2, 2, 9, 1])
    assert gallery_clips(videos, masks, [0.9] * 6, 3) == [1, 2, 4]  # b: the earliest of a tie


def test_a_missed_clip_takes_the_last_place():
    videos = ["a", "b", "c", "d"]
    masks = _masks([8, 7, 6, 5])
    assert gallery_clips(videos, masks, [0.9, 0.9, 0.9, 0.2], 3) == [0, 1, 3]
    assert gallery_clips(videos, masks, [0.9, 0.1, 0.9, 0.2], 3) == [0, 1, 2]  # one chosen clip is missed already


def test_raw_arrays_are_the_shown_frame_on_the_clip_scale(tmp_path):
    frames = np.arange(2 * 2 * 4 * 4, dtype=np.uint8).reshape(2, 2, 4, 4)
    masks = _masks([3, 4])
    attributions = [np.full((2, 4, 4), 2.0, np.float32), np.zeros((2, 4, 4), np.float32)]
    attributions[0][1] = 4.0  # the clip's maximum is in another frame than the one shown
    write_gallery(tmp_path / "g", frames, masks, ["s/a/001", "s/b/001"], attributions, [0, 1])
    index = json.loads((tmp_path / "g" / "index.json").read_text())
    assert [e["raw"] for e in index] == ["s_a_001.npz", "s_b_001.npz"]
    raw = np.load(tmp_path / "g" / "s_a_001.npz", allow_pickle=False)
    assert raw["frame"].dtype == np.uint8 and raw["mask"].dtype == bool and raw["scored"].dtype == np.float32
    assert np.allclose(raw["scored"], 0.5)  # 2 / 4
    assert np.load(tmp_path / "g" / "s_b_001.npz")["scored"].max() == 0
