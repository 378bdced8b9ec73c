"""End to end on tiny data: stages -> tiny model -> evaluate -> results -> leaderboard.

The same code path as `dvc repro`, at a size that runs in seconds: a tiny synthetic scene, a
width-1/16 I3D, three evaluation clips, and three submissions (a deterministic gradient method, a
stochastic one scored over two seeds, and one that fails).
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from benchmark.config import load_params
from benchmark.data.stages import obtain, prepare_stage, split_stage
from benchmark.evaluate import Paths, evaluate_submission, load_eval_set
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D
from benchmark.results import PER_CLIP_COLUMNS, SCORE_COLUMNS, load_results

REPO = Path(__file__).resolve().parents[1]


def tiny_params() -> dict:
    params = copy.deepcopy(load_params(REPO / "params.yaml"))
    params["data"]["source"] = "synthetic"
    params["data"]["synthetic"].update(height=48, width=72, train_videos=1, test_videos=6, frames_per_video=60)
    params["profiles"]["default"]["input"] = [24, 36]
    params["profile"] = "default"
    params["split"]["eval_clips"] = 3
    params["evaluate"].update(seeds=2, batch_size=8, threads=1, gallery_clips=1, clip_time_budget_s=120)
    params["evaluate"]["bootstrap"]["resamples"] = 200
    return params


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    params = tiny_params()
    obtain(params, base=base)
    prepare_stage(params, base=base)
    split = split_stage(params, base=base)
    torch.manual_seed(0)
    net = I3D(num_classes=2, width=0.0625).eval()
    (base / "models").mkdir()
    save_checkpoint(base / "models" / "model.pt", net, {
        "input_size": [24, 36], "clip_length": 20, "profile": "default", "pretrained": "none", "seed": 0,
        "data_source": "synthetic", "split_id": split.split_id})
    subs = base / "submissions"
    subs.mkdir()
    for name in ("guided_backprop", "random"):
        shutil.copytree(REPO / "submissions" / name, subs / name)
    broken = subs / "broken"
    shutil.copytree(REPO / "submissions" / "random", broken)
    (broken / "explainer.py").write_text(
        "def explain(model, clips, *, target, baselines, params, generator):\n    raise RuntimeError('boom')\n")
    return base, params


def _evaluate_all(base: Path, params: dict) -> None:
    paths = Paths(base)
    es = load_eval_set(params, paths)
    for name in ("guided_backprop", "random", "broken"):
        evaluate_submission(name, params, paths, eval_set=es, progress=False)


def test_results_are_complete_and_schema_valid(workspace):
    base, params = workspace
    _evaluate_all(base, params)
    results = {r.name: r for r in load_results(base / "results")}
    assert set(results) == {"guided_backprop", "random", "broken"}
    gb = results["guided_backprop"]
    assert gb.ok and list(gb.per_clip.columns) == list(PER_CLIP_COLUMNS) and len(gb.per_clip) == 3
    for m in SCORE_COLUMNS:
        s = gb.summary["metrics"][m]
        assert s["ci_low"] <= s["mean"] <= s["ci_high"], m
    assert (gb.per_clip[["forward_samples", "backward_samples"]] == 1).all().all()
    assert len(gb.curves["thresholds"]) == 51 and len(gb.curves["deletion"]["mean"]) == 51
    gallery = json.loads((gb.folder / "gallery" / "index.json").read_text())
    assert len(gallery) == 1 and (gb.folder / "gallery" / gallery[0]["overlay"]).is_file()
    assert gb.summary["seeds"]["n"] == 1
    rnd = results["random"]
    assert rnd.summary["seeds"]["n"] == 2 and rnd.summary["seeds"]["seeds"] == [0, 1]
    assert rnd.summary["seeds"]["spread"]["clip_auc"]["std"] >= 0
    broken = results["broken"]
    assert not broken.ok
    assert broken.summary["failure"]["kind"] == "exception" and "boom" in broken.summary["failure"]["message"]
    assert broken.summary["failure"]["clip_id"] == gb.per_clip["clip_id"][0]
    prov = gb.summary["provenance"]
    assert prov["split_id"] and prov["checkpoint_hash"] and prov["packages"]["torch"]


def test_two_runs_give_identical_scores(workspace):
    base, params = workspace
    first = pd.read_csv(base / "results" / "random" / "per_clip.csv")
    _evaluate_all(base, params)
    second = pd.read_csv(base / "results" / "random" / "per_clip.csv")
    cols = [c for c in PER_CLIP_COLUMNS if c != "runtime_s"]
    pd.testing.assert_frame_equal(first[cols], second[cols])


def test_leaderboard_renders_from_these_results(workspace, tmp_path):
    from benchmark.leaderboard.render import render_site

    base, _ = workspace
    site = render_site(base / "results", tmp_path / "site")
    html = (site / "index.html").read_text()
    assert "Guided" in html and "broken" in html.lower()
