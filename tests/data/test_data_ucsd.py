"""The official-layout reader and the .m label parser, on tiny trees."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from benchmark.data import DataError, format_gt_file, load_frames, load_masks, parse_gt_file, read_layout

SCENE = "UCSDped2"


# ----------------------------------------------------------------------------------- labels


def test_parse_official_syntax_with_several_ranges(tmp_path: Path) -> None:
    m = tmp_path / "UCSDped1.m"
    m.write_text(
        "TestVideoFile = {};\r\n"
        "% a comment\n"
        "TestVideoFile{end+1}.gt_frame = [60:152];\n"
        "TestVideoFile{end+1}.gt_frame = [5:90, 140:200];  % trailing comment\n"
        "TestVideoFile{end+1}.gt_frame = [1:3 7];\n"
        "TestVideoFile{end+1}.gt_frame = [];\n"
    )
    labels = parse_gt_file(m)
    assert labels[0] == frozenset(range(60, 153))
    assert labels[1] == frozenset(range(5, 91)) | frozenset(range(140, 201))
    assert labels[2] == frozenset({1, 2, 3, 7})
    assert labels[3] == frozenset()


@pytest.mark.parametrize(
    "line, match",
    [
        ("TestVideoFile{end+1}.gt_frame = [10:5];", "invalid range"),
        ("TestVideoFile{end+1}.gt_frame = [a:5];", "cannot read"),
        ("gt = 5;", "not a frame-label entry"),
    ],
)
def test_parse_errors_name_file_and_line(tmp_path: Path, line: str, match: str) -> None:
    m = tmp_path / "UCSDped2.m"
    m.write_text("TestVideoFile = {};\n" + line + "\n")
    with pytest.raises(DataError, match=match) as err:
        parse_gt_file(m)
    assert "UCSDped2.m:2" in str(err.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.integers(1, 300), max_size=40), min_size=1, max_size=6))
def test_format_then_parse_round_trips(
    tmp_path_factory: pytest.TempPathFactory, videos: list[set[int]]
) -> None:
    m = tmp_path_factory.mktemp("m") / "UCSDped2.m"
    m.write_text(format_gt_file(videos))
    assert parse_gt_file(m) == [frozenset(v) for v in videos]


# ----------------------------------------------------------------------------------- layout


def test_reads_the_tiny_synthetic_tree(tiny_raw_session: Path) -> None:
    layout = read_layout(tiny_raw_session.parent)  # the folder holding the top folder works too
    assert layout.root == tiny_raw_session
    keys = [v.key for v in layout.videos]
    assert keys == [f"{SCENE}/Test00{i}" for i in (1, 2, 3)] + [f"{SCENE}/Train00{i}" for i in (1, 2)]
    assert layout.notes == ()
    for v in layout.videos:
        assert v.n_frames == 40
        if v.split == "Train":
            assert v.mask_paths is None and v.anomalous_frames == frozenset()
        else:
            assert v.mask_paths is not None and len(v.mask_paths) == 40 and v.anomalous_frames is not None


def test_frames_and_masks_load_and_agree_with_labels(tiny_raw_session: Path) -> None:
    layout = read_layout(tiny_raw_session)
    video = layout.video(f"{SCENE}/Test001")
    frames = load_frames(video)
    assert frames.shape == (40, 48, 64) and frames.dtype == np.uint8
    masks = load_masks(video)
    assert masks.shape == (40, 48, 64) and masks.dtype == bool
    nonempty = {t + 1 for t in range(40) if masks[t].any()}
    assert nonempty == set(video.anomalous_frames)
    small = load_frames(video, (16, 24))
    assert small.shape == (40, 16, 24)
    # Area averaging: a box-reduced frame matches the block mean where the factor is exact (48/16 = 3).
    exact = load_frames(video, (16, 32))[0].astype(float)
    blocks = frames[0].reshape(16, 3, 32, 2).mean(axis=(1, 3))
    assert np.abs(exact - blocks).max() <= 1.0
    small_masks = load_masks(video, (16, 24))
    assert small_masks.shape == (40, 16, 24) and small_masks.dtype == bool
    # Nearest neighbour samples pixel centres: at factors 3 x 2, rows 1, 4, ... and columns 1, 3, ...
    assert np.array_equal(load_masks(video, (16, 32)), masks[:, 1::3, 1::2])
    with pytest.raises(DataError, match="no pixel masks"):
        load_masks(layout.video(f"{SCENE}/Train001"))


def test_rgb_jpeg_copies_read_as_gray(tmp_path: Path) -> None:
    video_dir = tmp_path / "UCSD_Anomaly_Dataset.v1p2" / SCENE / "Train" / "Train001"
    video_dir.mkdir(parents=True)
    gray = np.random.default_rng(0).integers(0, 256, (3, 12, 18), dtype=np.uint8)
    for t, g in enumerate(gray, start=1):
        Image.fromarray(np.stack([g] * 3, axis=-1)).save(video_dir / f"{t:03d}.png")
    (video,) = read_layout(tmp_path).videos
    assert np.array_equal(load_frames(video), gray)


def test_scene_without_frames_is_noted_and_skipped(tiny_raw: Path) -> None:
    ped1 = tiny_raw / "UCSDped1" / "Test"
    ped1.mkdir(parents=True)
    (ped1 / "UCSDped1.m").write_text(format_gt_file([{1, 2}, {3}, {4}]))
    shutil.copytree(tiny_raw / SCENE / "Test" / "Test001_gt", ped1 / "Test003_gt")
    layout = read_layout(tiny_raw, ["UCSDped1", SCENE])
    assert layout.notes == ("UCSDped1: labels for 3 test videos and masks for 1, but no frames: skipped",)
    assert {v.scene for v in layout.videos} == {SCENE}
    with pytest.raises(DataError, match="no video with frames"):
        read_layout(tiny_raw, ["UCSDped1"])


def test_mask_count_disagreeing_with_frames_names_the_folder(tiny_raw: Path) -> None:
    (tiny_raw / SCENE / "Test" / "Test002_gt" / "040.bmp").unlink()
    with pytest.raises(DataError, match=r"Test002_gt: 39 masks for 40 frames"):
        read_layout(tiny_raw)


def test_empty_mask_folder_is_an_error(tiny_raw: Path) -> None:
    gt = tiny_raw / SCENE / "Test" / "Test002_gt"
    shutil.rmtree(gt)
    gt.mkdir()
    with pytest.raises(DataError, match="Test002_gt: mask folder holds no"):
        read_layout(tiny_raw)


def test_missing_mask_folder_means_no_masks(tiny_raw: Path) -> None:
    shutil.rmtree(tiny_raw / SCENE / "Test" / "Test002_gt")
    video = read_layout(tiny_raw).video(f"{SCENE}/Test002")
    assert video.mask_paths is None and video.anomalous_frames is not None
    with pytest.raises(DataError, match=r"UCSDped2/Test002: no pixel masks \(no folder Test002_gt"):
        load_masks(video)


def test_label_file_naming_a_missing_video(tiny_raw: Path) -> None:
    m = tiny_raw / SCENE / "Test" / f"{SCENE}.m"
    m.write_text(m.read_text() + "TestVideoFile{end+1}.gt_frame = [1:5];\n")
    with pytest.raises(
        DataError, match=r"UCSDped2\.m: entry 4 names UCSDped2/Test/Test004, which has no frames"
    ):
        read_layout(tiny_raw)


def test_label_file_naming_missing_frames(tiny_raw: Path) -> None:
    m = tiny_raw / SCENE / "Test" / f"{SCENE}.m"
    m.write_text(format_gt_file([{1}, {41}, {2}]))
    with pytest.raises(
        DataError, match=r"UCSDped2\.m: entry 2 names frame 41 of Test002, which has 40 frames"
    ):
        read_layout(tiny_raw)


def test_missing_label_file_is_a_note(tiny_raw: Path) -> None:
    (tiny_raw / SCENE / "Test" / f"{SCENE}.m").unlink()
    layout = read_layout(tiny_raw)
    assert any("no UCSDped2.m" in n for n in layout.notes)
    assert layout.video(f"{SCENE}/Test001").anomalous_frames is None


def test_gap_in_frame_numbers(tiny_raw: Path) -> None:
    (tiny_raw / SCENE / "Train" / "Train001" / "007.tif").unlink()
    with pytest.raises(DataError, match=r"Train001: frames must be numbered 1\.\.T.*missing \[7\]"):
        read_layout(tiny_raw)


def test_truncated_frame_names_the_file(tiny_raw: Path) -> None:
    frame = tiny_raw / SCENE / "Test" / "Test001" / "005.tif"
    frame.write_bytes(frame.read_bytes()[:300])
    video = read_layout(tiny_raw).video(f"{SCENE}/Test001")
    with pytest.raises(DataError, match=r"Test001/005\.tif: unreadable or truncated frame"):
        load_frames(video, (16, 24))


def test_masks_of_different_sizes(tiny_raw: Path) -> None:
    mask = tiny_raw / SCENE / "Test" / "Test003_gt" / "010.bmp"
    Image.new("L", (32, 24)).save(mask)
    video = read_layout(tiny_raw).video(f"{SCENE}/Test003")
    with pytest.raises(DataError, match=r"Test003_gt/010\.bmp: mask is 24x32 \(HxW\) but 001\.bmp is 48x64"):
        load_masks(video)


def test_frame_mask_named_with_frame_prefix(tiny_raw: Path) -> None:
    gt = tiny_raw / SCENE / "Test" / "Test001_gt"
    for p in gt.iterdir():
        p.rename(gt / f"frame{p.name}")
    video = read_layout(tiny_raw).video(f"{SCENE}/Test001")
    assert video.mask_paths is not None and video.mask_paths[0].name == "frame001.bmp"
    assert load_masks(video).shape == (40, 48, 64)
