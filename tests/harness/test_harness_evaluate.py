"""End to end on tiny data: stages -> tiny model -> evaluate -> results -> leaderboard.

The same code path as `dvc repro`, at a size that runs in seconds: a tiny synthetic scene, a
width-1/16 I3D, three evaluation clips, and three submissions (a deterministic gradient method, a
stochastic one scored over two seeds, and one that fails).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.harness.evaluate import evaluate_submission
from benchmark.harness.inputs import load_eval_set
from benchmark.harness.sandbox import landlock_abi
from benchmark.layout import RepoLayout
from benchmark.results import PER_CLIP_COLUMNS, SCORE_COLUMNS, load_results
from benchmark.settings import Settings


def _evaluate_all(base: Path, settings: Settings) -> None:
    layout = RepoLayout(base)
    es = load_eval_set(settings, layout)
    for name in ("guided_backprop", "random", "broken"):
        evaluate_submission(name, settings, layout, eval_set=es, progress=False)


def test_results_are_complete_and_schema_valid(workspace):
    base, settings = workspace
    _evaluate_all(base, settings)
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
    assert prov["sandbox"]["mode"] == settings.evaluate.sandbox
    assert prov["sandbox"]["active"] == (landlock_abi()[0] > 0 and settings.evaluate.sandbox != "off")


def test_two_runs_give_identical_scores(workspace):
    base, settings = workspace
    first = pd.read_csv(base / "results" / "random" / "per_clip.csv")
    _evaluate_all(base, settings)
    second = pd.read_csv(base / "results" / "random" / "per_clip.csv")
    cols = [c for c in PER_CLIP_COLUMNS if c != "runtime_s"]
    pd.testing.assert_frame_equal(first[cols], second[cols])


def test_leaderboard_renders_from_these_results(workspace, tmp_path):
    from benchmark.leaderboard.render import render_site

    base, _ = workspace
    site = render_site(base / "results", tmp_path / "site")
    html = (site / "index.html").read_text()
    assert "Guided" in html and "broken" in html.lower()


def test_scores_do_not_depend_on_the_number_of_workers(workspace, tmp_path):
    base, settings = workspace
    import dataclasses
    import shutil

    layout = RepoLayout(base)
    es = load_eval_set(settings, layout)
    frames = {}
    for workers in (1, 3):
        s = dataclasses.replace(settings, evaluate=dataclasses.replace(settings.evaluate, workers=workers))
        for name in ("guided_backprop", "random"):
            out = evaluate_submission(name, s, layout, eval_set=es, progress=False)
            frames[(workers, name)] = pd.read_csv(out / "per_clip.csv")
            assert json.loads((out / "metrics.json").read_text())["provenance"]["workers"] == workers
            shutil.copytree(out, tmp_path / f"{name}-{workers}")
    cols = [c for c in PER_CLIP_COLUMNS if c != "runtime_s"]
    for name in ("guided_backprop", "random"):
        pd.testing.assert_frame_equal(frames[(1, name)][cols], frames[(3, name)][cols])
        seeds1 = json.loads((tmp_path / f"{name}-1" / "metrics.json").read_text())["seeds"]
        seeds3 = json.loads((tmp_path / f"{name}-3" / "metrics.json").read_text())["seeds"]
        assert seeds1["means"] == seeds3["means"]
