"""The files a result folder holds for DVC and the page: scores.json, plots/, voxel fractions, seed means.

Runs the real evaluation on the tiny workspace (tests/conftest.py), two seeds, so the seed-mean files are
written from every seed's scores.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import benchmark.harness.evaluate as evaluate_mod
from benchmark.harness.inputs import load_eval_set
from benchmark.layout import RepoLayout
from benchmark.metrics import bootstrap_ci
from benchmark.results import PLOTS_DIR, SCORE_COLUMNS, SCORES_FILE, SEED_MEAN_FILE, load_results
from benchmark.results.plot_files import fraction_grid, grid_curve, selection_fractions


def test_selection_fractions_follow_the_thresholds():
    E = np.zeros((2, 4, 5))
    E[0, 0, :3] = [1.0, 0.5, 0.25]
    fr = selection_fractions(E, 4)  # thresholds 1, .75, .5, .25, 0 (visiting order)
    assert fr == pytest.approx([1 / 40, 1 / 40, 2 / 40, 3 / 40, 1.0])
    assert selection_fractions(np.zeros((2, 4, 5)), 4) == [1.0] * 5  # a degenerate map selects everything
    curve = grid_curve([0.1, 0.1, 0.5, 1.0], [0.8, 0.7, 0.4, 0.2], p_start=0.9)
    assert curve[0] == pytest.approx(0.9) and curve[-1] == pytest.approx(0.2) and len(curve) == len(fraction_grid())
    assert curve[5] == pytest.approx(0.7)  # equal fractions are one selection: the last value holds


def test_results_hold_scores_plots_fractions_and_seed_means(workspace):
    base, settings = workspace
    layout = RepoLayout(base)
    es = load_eval_set(settings, layout)
    for name in ("random", "broken"):
        evaluate_mod.evaluate_submission(name, settings, layout, eval_set=es, progress=False)
    results = {r.name: r for r in load_results(base / "results")}
    rnd = results["random"]

    scores = json.loads((rnd.folder / SCORES_FILE).read_text())
    assert set(scores) == {*SCORE_COLUMNS, "runtime_s"} and all(isinstance(v, float) for v in scores.values())
    seeds = rnd.summary["seeds"]
    assert seeds["n"] == 2 and set(seeds["mean"]) == set(SCORE_COLUMNS)
    per_seed = pd.read_csv(rnd.folder / SEED_MEAN_FILE)
    assert list(per_seed["clip_id"]) == list(rnd.per_clip["clip_id"])
    for m in SCORE_COLUMNS:
        assert seeds["mean"][m]["mean"] == pytest.approx(np.mean(seeds["means"][m]), abs=1e-5)
        assert scores[m] == pytest.approx(seeds["mean"][m]["mean"])
        boot = settings.evaluate.bootstrap
        ci = bootstrap_ci(per_seed[m].to_numpy(dtype=float), n_resamples=boot.resamples, seed=boot.seed)
        assert seeds["mean"][m]["ci_low"] == pytest.approx(ci.low, abs=1e-5)

    fractions = rnd.curves["fraction"]
    assert set(fractions["per_clip"]) == set(rnd.per_clip["clip_id"])
    for fr in fractions["per_clip"].values():
        assert len(fr) == 51 and fr == sorted(fr) and fr[-1] == 1.0 and 0 < fr[0] < 1
    for kind, start in (("deletion", "p_clip"), ("insertion", "p_baseline")):
        table = pd.read_csv(rnd.folder / PLOTS_DIR / f"{kind}.csv")
        assert list(table.columns) == ["fraction", "p_anomalous"] and len(table) == 51
        assert table["p_anomalous"].iloc[0] == pytest.approx(rnd.per_clip[start].mean(), abs=1e-5)
        assert table["p_anomalous"].to_numpy() == pytest.approx(fractions[f"{kind}_mean"], abs=1e-5)

    broken = results["broken"].folder
    assert json.loads((broken / SCORES_FILE).read_text()) == {"failed": 1}
    assert pd.read_csv(broken / PLOTS_DIR / "deletion.csv")["p_anomalous"].isna().all()
