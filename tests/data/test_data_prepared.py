"""prepare / PreparedData and the model-input transforms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.data import BLACK, DataError, PreparedData, prepare, to_model_input
from benchmark.data.prepared import CLIP_COLUMNS, clip_starts, parse_clip_id


def test_prepared_folder_content(tiny_prepared: PreparedData, tiny_grid: tuple[int, int]) -> None:
    root = tiny_prepared.root
    names = sorted(p.name for p in root.iterdir())
    assert "UCSDped2_Test001.frames.npy" in names and "UCSDped2_Test001.masks.npy" in names
    assert "UCSDped2_Train001.frames.npy" in names and "UCSDped2_Train001.masks.npy" not in names
    assert {"videos.csv", "clips.csv", "frames.csv", "meta.json"} <= set(names)
    meta = json.loads((root / "meta.json").read_text())
    assert meta["input_size"] == list(tiny_grid) and meta["clip_length"] == 10 and meta["stride"] == 5
    assert len(meta["source_digest"]) == 64
    assert tiny_prepared.input_size == tiny_grid and tiny_prepared.clip_length == 10
    assert tuple(tiny_prepared.clips.columns) == CLIP_COLUMNS
    assert len(tiny_prepared.clips) == 5 * len(clip_starts(40, 10, 5)) == 35


def test_clip_table_is_consistent_with_frames(
    tiny_prepared: PreparedData, tiny_grid: tuple[int, int]
) -> None:
    clips = tiny_prepared.clips
    assert clip_starts(40, 10, 5) == [1, 6, 11, 16, 21, 26, 31]
    assert (clips.loc[clips.split == "Train", "label"] == 0).all()
    assert not clips.loc[clips.split == "Train", "has_mask"].any()
    assert clips.loc[clips.split == "Test", "label"].nunique() == 2  # normal and anomalous test clips
    for row in clips.itertuples():
        clip = tiny_prepared.load_clip(row.clip_id)
        assert clip.frames.shape == (10, *tiny_grid) and clip.frames.dtype == np.uint8
        assert clip.label == row.label
        if row.has_mask:
            assert clip.mask is not None and clip.mask.dtype == bool and clip.mask.shape == clip.frames.shape
            assert int(clip.mask.reshape(10, -1).any(axis=1).sum()) == row.n_mask_frames_grid
            assert row.n_mask_frames_grid <= row.n_mask_frames
            assert (row.n_mask_frames > 0) <= bool(row.label)
        else:
            assert clip.mask is None


def test_load_clip_any_start_and_errors(tiny_prepared: PreparedData) -> None:
    clip = tiny_prepared.load_clip("UCSDped2/Test002/3")
    assert clip.clip_id == "UCSDped2/Test002/003"
    frames = np.load(tiny_prepared.root / "UCSDped2_Test002.frames.npy")
    assert np.array_equal(clip.frames, frames[2:12])
    with pytest.raises(KeyError, match="do not fit"):
        tiny_prepared.load_clip("UCSDped2/Test002/032")
    with pytest.raises(KeyError, match="no video"):
        tiny_prepared.load_clip("UCSDped2/Test009/001")
    with pytest.raises(ValueError, match="not of the form"):
        parse_clip_id("Test001-001")


def test_load_clips_batch(tiny_prepared: PreparedData, tiny_grid: tuple[int, int]) -> None:
    ids = tiny_prepared.clips.clip_id.tolist()[:6]
    frames, labels = tiny_prepared.load_clips(ids)
    assert frames.shape == (6, 10, *tiny_grid) and frames.dtype == np.uint8
    assert labels.dtype == np.int64
    assert labels.tolist() == tiny_prepared.clips.label.tolist()[:6]
    assert np.array_equal(frames[3], tiny_prepared.load_clip(ids[3]).frames)


def test_failed_prepare_leaves_previous_output(
    tiny_raw: Path, tmp_path: Path, tiny_grid: tuple[int, int], tiny_clip: dict
) -> None:
    out = tmp_path / "prepared"
    prepare(tiny_raw, out, size=tiny_grid, **tiny_clip)
    before = (out / "meta.json").read_text()
    frame = tiny_raw / "UCSDped2" / "Train" / "Train002" / "009.tif"
    frame.write_bytes(frame.read_bytes()[:200])
    with pytest.raises(DataError, match=r"Train002/009\.tif"):
        prepare(tiny_raw, out, size=(8, 12), **tiny_clip)
    assert (out / "meta.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared", "raw"]  # no temporary folder left


def test_mask_of_another_size_than_frames(
    tiny_raw: Path, tmp_path: Path, tiny_grid: tuple[int, int], tiny_clip: dict
) -> None:
    from PIL import Image

    gt = tiny_raw / "UCSDped2" / "Test" / "Test001_gt"
    for p in gt.iterdir():
        Image.new("L", (32, 24)).save(p)
    with pytest.raises(DataError, match=r"Test001_gt/001\.bmp: mask is 24x32 \(HxW\) but frame 001\.tif"):
        prepare(tiny_raw, tmp_path / "prepared", size=tiny_grid, **tiny_clip)
    assert not (tmp_path / "prepared").exists()


def test_missing_prepared_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="meta.json: not found. Run the prepare stage"):
        PreparedData(tmp_path)


# ----------------------------------------------------------------------------------- transforms


def test_to_model_input_shapes_and_range() -> None:
    clip = np.array([[[0, 255], [128, 51]]] * 4, dtype=np.uint8)  # (T=4, H=2, W=2)
    x = to_model_input(clip)
    assert x.shape == (3, 4, 2, 2) and x.dtype == torch.float32
    assert x.min().item() == BLACK == -1.0 and x.max().item() == 1.0
    assert torch.equal(x[0], x[2])
    assert x[0, 0, 1, 0].item() == pytest.approx(128 / 127.5 - 1, abs=1e-6)
    batch = to_model_input(np.stack([clip, clip[::-1]]))
    assert batch.shape == (2, 3, 4, 2, 2)
    assert torch.equal(batch[1], to_model_input(clip[::-1].copy()))


def test_to_model_input_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="uint8"):
        to_model_input(np.zeros((4, 2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        to_model_input(np.zeros((2, 2), dtype=np.uint8))
