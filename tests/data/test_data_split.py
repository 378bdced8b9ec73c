"""make_split / load_split: determinism, write-once, validation; the committed split files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.data import DataError, PreparedData, load_split, make_split
from benchmark.data.split import eval_candidates

REPO_ROOT = Path(__file__).resolve().parents[2]
ARGS = dict(source="synthetic", seed=0, train_fraction=0.34, eval_seed=1, n_eval=3)


def test_split_is_deterministic_and_well_formed(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    a = make_split(tiny_prepared, tmp_path / "a.json", **ARGS)
    b = make_split(tiny_prepared, tmp_path / "b.json", **ARGS)
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert a == b and len(a.split_id) == 16
    assert set(tiny_prepared.video_keys("Train")) <= set(a.train_videos)
    tests = set(tiny_prepared.video_keys("Test"))
    assert len(set(a.train_videos) & tests) == 1 and len(a.test_videos) == 2
    assert not set(a.train_videos) & set(a.test_videos)
    # Evaluation clips: held out, anomalous (a non-empty mask), non-overlapping windows.
    assert len(a.eval_clips) == 3
    for c in a.eval_clips:
        assert f"{c.scene}/{c.video}" in a.test_videos and (c.start - 1) % tiny_prepared.clip_length == 0
        clip = tiny_prepared.load_clip(c.clip_id)
        assert clip.label == 1 and clip.mask is not None
    # Clip ids of training and held-out videos partition the clip table.
    train_ids, test_ids = a.train_clip_ids(tiny_prepared), a.test_clip_ids(tiny_prepared)
    assert not set(train_ids) & set(test_ids)
    assert sorted(train_ids + test_ids) == sorted(tiny_prepared.clips.clip_id)


def test_other_seeds_give_other_draws(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    draws = {
        make_split(tiny_prepared, tmp_path / f"{s}.json", **dict(ARGS, eval_seed=s)).split_id
        for s in range(4)
    }
    assert len(draws) > 1


def test_existing_file_is_read_never_redrawn(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    path = tmp_path / "split.json"
    first = make_split(tiny_prepared, path, **ARGS)
    mtime = path.stat().st_mtime_ns
    assert make_split(tiny_prepared, path, **ARGS) == first
    assert path.stat().st_mtime_ns == mtime
    assert load_split(path) == first
    with pytest.raises(DataError, match=r"eval_seed: file 1 vs params 2.*delete .*split\.json deliberately"):
        make_split(tiny_prepared, path, **dict(ARGS, eval_seed=2))
    assert load_split(path) == first


def test_edited_file_is_rejected(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    path = tmp_path / "split.json"
    make_split(tiny_prepared, path, **ARGS)
    doc = json.loads(path.read_text())
    doc["eval_clips"][0]["start"] += 1
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="does not match its content"):
        load_split(path)


def test_file_not_matching_prepared_data(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    from benchmark.data.split import _split_id

    path = tmp_path / "split.json"
    split = make_split(tiny_prepared, path, **ARGS)
    doc = split.to_dict()
    train_test = next(v for v in split.train_videos if "/Test" in v)
    scene, video = train_test.split("/")
    doc["eval_clips"][0] = {"clip_id": f"{train_test}/001", "scene": scene, "video": video, "start": 1}
    body = {k: v for k, v in doc.items() if k != "split_id"}
    doc["split_id"] = _split_id(body)
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"not in a held-out video.*delete .* deliberately"):
        make_split(tiny_prepared, path, **ARGS)


def test_too_few_candidates_says_how_many(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    split = make_split(tiny_prepared, tmp_path / "ok.json", **ARGS)
    n = len(eval_candidates(tiny_prepared, split.test_videos))
    with pytest.raises(
        DataError, match=rf"only {n} non-overlapping anomalous 10-frame clips .* 50 are needed"
    ):
        make_split(tiny_prepared, tmp_path / "x.json", **dict(ARGS, n_eval=50))
    assert not (tmp_path / "x.json").exists()


def test_bad_arguments(tiny_prepared: PreparedData, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="train_fraction"):
        make_split(tiny_prepared, tmp_path / "s.json", **dict(ARGS, train_fraction=1.0))
    with pytest.raises(DataError, match="split file not found"):
        load_split(tmp_path / "missing.json")


@pytest.mark.parametrize("name", ["synthetic", "ucsd"])
def test_committed_split_files(name: str) -> None:
    path = REPO_ROOT / "splits" / f"{name}.json"
    split = load_split(path)  # checks the content hash
    assert split.source == name and len(split.eval_clips) == 40 and split.clip_length == 20
    assert all(f"{c.scene}/{c.video}" in split.test_videos for c in split.eval_clips)
    windows = {(c.scene, c.video, c.start) for c in split.eval_clips}
    assert len(windows) == 40 and all((c.start - 1) % 20 == 0 for c in split.eval_clips)
    assert not set(split.train_videos) & set(split.test_videos)
