"""The page warns when the detector finds the baseline more anomalous than the clips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from benchmark.leaderboard import render_site
from benchmark.leaderboard.baseline_check import baseline_check
from benchmark.results import load_results


def _set_baseline(results: Path, p_baseline: float) -> None:
    for csv in results.glob("*/per_clip*.csv"):
        table = pd.read_csv(csv)
        if "p_baseline" in table:
            table["p_baseline"] = p_baseline
            table.to_csv(csv, index=False)


@pytest.mark.parametrize(("p_baseline", "warns"), [(1.0, True), (0.0, False)])
def test_the_warning_follows_the_baseline(board_results: Path, tmp_path: Path, p_baseline: float, warns: bool):
    results = tmp_path / "results"
    shutil.copytree(board_results, results)
    _set_baseline(results, p_baseline)
    check = baseline_check(load_results(results))
    assert check is not None and check.n_clips > 0
    assert check.unusable is warns and check.p_baseline == pytest.approx(p_baseline)
    assert (check.above == check.n_clips) is warns
    index = (render_site(results, tmp_path / "site", date="d", rank_resamples=50) / "index.html").read_text()
    assert ('id="baseline-warning"' in index) is warns


def test_no_probabilities_no_check():
    assert baseline_check([]) is None
