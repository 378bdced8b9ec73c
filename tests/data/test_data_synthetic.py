"""The synthetic generator: layout, determinism, masks vs labels, the anomalies' motion."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from benchmark.data import load_frames, load_masks, read_layout, write_synthetic
from benchmark.data.labels import parse_gt_file


def _digest(top: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(top.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(top).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_official_layout_and_labels_match_masks(tiny_raw_session: Path) -> None:
    scene = tiny_raw_session / "UCSDped2"
    assert sorted(p.name for p in (scene / "Train").iterdir()) == ["Train001", "Train002"]
    assert sorted(p.name for p in (scene / "Test").iterdir()) == [
        "Test001",
        "Test001_gt",
        "Test002",
        "Test002_gt",
        "Test003",
        "Test003_gt",
        "UCSDped2.m",
    ]
    assert (scene / "Test" / "Test001" / "001.tif").is_file() and (
        scene / "Test" / "Test001_gt" / "040.bmp"
    ).is_file()
    labels = parse_gt_file(scene / "Test" / "UCSDped2.m")
    assert len(labels) == 3
    layout = read_layout(tiny_raw_session)
    any_normal = any_anomalous = False
    for k, v in enumerate(v for v in layout.videos if v.split == "Test"):
        masks = load_masks(v)
        assert {t + 1 for t in range(v.n_frames) if masks[t].any()} == set(labels[k])
        any_normal |= len(labels[k]) < v.n_frames
        any_anomalous |= len(labels[k]) > 0
    assert any_normal and any_anomalous


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path, tiny_params: dict) -> None:
    params = dict(tiny_params, train_videos=1, test_videos=1, frames_per_video=20)
    a = write_synthetic(tmp_path / "a", **params)
    b = write_synthetic(tmp_path / "b", **params)
    c = write_synthetic(tmp_path / "c", **dict(params, seed=params["seed"] + 1))
    assert _digest(a) == _digest(b) != _digest(c)


def test_rewrite_replaces_atomically(tmp_path: Path, tiny_params: dict) -> None:
    params = dict(tiny_params, train_videos=1, test_videos=1, frames_per_video=20)
    top = write_synthetic(tmp_path, **params)
    (top / "stale.txt").write_text("old")
    assert write_synthetic(tmp_path, **params) == top
    assert not (top / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [top.name]  # no temporary folders left


def test_bad_arguments(tmp_path: Path, tiny_params: dict) -> None:
    with pytest.raises(ValueError, match="at least 20"):
        write_synthetic(tmp_path, **dict(tiny_params, frames_per_video=10))
    with pytest.raises(ValueError, match="48 x 64"):
        write_synthetic(tmp_path, **dict(tiny_params, height=32))
    assert list(tmp_path.iterdir()) == []


def _centroid_speed(masks: np.ndarray) -> float:
    """Median centroid displacement (px/frame) between consecutive frames that show one whole object."""

    def whole_object(m: np.ndarray) -> bool:
        inner = not (m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any())
        return inner and ndimage.label(m, structure=np.ones((3, 3)))[1] == 1

    speeds = []
    for t in range(1, len(masks)):
        if whole_object(masks[t]) and whole_object(masks[t - 1]):
            a = np.argwhere(masks[t - 1]).mean(axis=0)
            b = np.argwhere(masks[t]).mean(axis=0)
            speeds.append(np.hypot(*(b - a)))
    return float(np.median(speeds)) if speeds else float("nan")


def test_anomalies_move_faster_than_the_scene_changes(tmp_path: Path) -> None:
    """Where an anomaly is visible it moves ~1-3 px/frame at 120x180; the background stays put."""
    top = write_synthetic(
        tmp_path, seed=5, height=120, width=180, train_videos=1, test_videos=2, frames_per_video=40
    )
    layout = read_layout(top)
    speeds = [_centroid_speed(load_masks(v)) for v in layout.videos if v.split == "Test"]
    speeds = [s for s in speeds if s == s]
    assert speeds and all(0.7 < s < 4.0 for s in speeds)
    train = load_frames(layout.video("UCSDped2/Train001")).astype(float)
    median = np.median(train, axis=0)
    # Pedestrians cover a small part of each frame: most pixels sit within the noise of the median.
    assert np.mean(np.abs(train - median) < 12) > 0.9
