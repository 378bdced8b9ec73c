"""The stage entry points on a tiny synthetic configuration, and the real archive (real_data)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from benchmark.data import load_masks, load_split, read_layout
from benchmark.data.stages import obtain, prepare_stage, split_stage
from benchmark.layout import RepoLayout
from benchmark.settings import ConfigError, Settings, load_params

REPO_ROOT = Path(__file__).resolve().parents[2]
PED2_TEST_FRAMES = [180, 180, 150, 180, 150, 180, 180, 180, 120, 150, 180, 180]


@pytest.fixture
def tiny_params_yaml(tiny_params: dict) -> dict:
    params = copy.deepcopy(load_params(REPO_ROOT / "params.yaml"))
    params["data"]["synthetic"] = {k: v for k, v in tiny_params.items()}
    params["profiles"][params["profile"]]["input"] = [16, 24]
    params["split"].update(eval_clips=2, train_fraction=0.34)
    return params


def test_stages_on_tiny_synthetic(
    tiny_params_yaml: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    settings, layout = Settings.from_params(tiny_params_yaml), RepoLayout(tmp_path)
    top = obtain(settings, layout)
    assert top == tmp_path / "data" / "raw" / "UCSD_Anomaly_Dataset.v1p2"
    out = prepare_stage(settings, layout)
    assert (out / "clips.csv").is_file()
    split = split_stage(settings, layout)
    assert load_split(tmp_path / "splits" / "synthetic.json") == split
    assert split_stage(settings, layout) == split  # read back, not re-drawn
    printed = capsys.readouterr().out
    assert "drew" in printed and "checked" in printed and "16x24" in printed


def test_unknown_source(tiny_params_yaml: dict) -> None:
    tiny_params_yaml["data"]["source"] = "kinetics"
    with pytest.raises(ConfigError, match="data.source = 'kinetics'"):
        Settings.from_params(tiny_params_yaml)


@pytest.mark.real_data
def test_real_archive_ped2_counts_and_labels(real_top: Path) -> None:
    layout = read_layout(real_top, ["UCSDped1", "UCSDped2"])
    assert layout.notes == ("UCSDped1: labels for 36 test videos and masks for 10, but no frames: skipped",)
    tests = [v for v in layout.videos if v.scene == "UCSDped2" and v.split == "Test"]
    assert [v.n_frames for v in tests] == PED2_TEST_FRAMES
    assert [len(v.mask_paths or ()) for v in tests] == PED2_TEST_FRAMES
    assert sum(v.split == "Train" for v in layout.videos) == 16
    assert [v.frame_paths[0].suffix for v in tests[:1]] == [".jpg"]
    # Test006 masks are named frameNNN.bmp; its label entry is [1:159].
    t6 = layout.video("UCSDped2/Test006")
    assert t6.mask_paths is not None and t6.mask_paths[0].name == "frame001.bmp"
    assert t6.anomalous_frames == frozenset(range(1, 160))
    # The masks of one video mark exactly its labelled frames.
    t2 = layout.video("UCSDped2/Test002")
    masks = load_masks(t2, (48, 72))
    assert {t + 1 for t in range(t2.n_frames) if masks[t].any()} == set(t2.anomalous_frames)


@pytest.mark.real_data
def test_committed_ucsd_split_fits_the_real_layout(real_top: Path) -> None:
    layout = read_layout(real_top, ["UCSDped1", "UCSDped2"])
    split = load_split(REPO_ROOT / "splits" / "ucsd.json")
    assert sorted(split.train_videos + split.test_videos) == sorted(v.key for v in layout.videos)
    for c in split.eval_clips:
        video = layout.video(f"{c.scene}/{c.video}")
        assert video.has_masks and video.anomalous_frames is not None
        assert c.start + 19 <= video.n_frames
        assert set(range(c.start, c.start + 20)) & video.anomalous_frames
