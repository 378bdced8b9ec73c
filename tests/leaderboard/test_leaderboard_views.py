"""The view models: cells keep their figure as a number and print it only when asked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmark.leaderboard.columns import column_groups, columns_from_spec
from benchmark.leaderboard.formatting import column_decimals, fmt_fixed, fmt_seconds
from benchmark.leaderboard.ranking import column_value, compute_standings
from benchmark.leaderboard.render import default_metrics, default_tie_test
from benchmark.leaderboard.views import Cell, build_views
from benchmark.results import load_results


def _views(results_root: Path):
    results = load_results(results_root)
    metrics = default_metrics()
    standings = compute_standings(results, metrics, default_tie_test()[0])
    columns = columns_from_spec(metrics)
    return results, columns, build_views(results, standings, columns)


def test_cells_hold_the_column_figure_as_a_number(fake_results: Path):
    results, columns, views = _views(fake_results)
    by_name = {r.name: r for r in results}
    ranked = [v for v in views if v.status == "ok"]
    assert [v.name for v in views][-1] == "broken" and views[-1].cells == {}
    for c in columns:
        decimals = column_decimals([column_value(by_name[v.name], c.name) for v in ranked])
        for v in ranked:
            cell = v.cells[c.name]
            expected = column_value(by_name[v.name], c.name)
            assert isinstance(cell.value, float) and cell.value == expected and cell.sort == repr(expected)
            if c.is_median:
                assert cell.text == fmt_seconds(expected)
            elif not c.is_cost:
                assert cell.decimals == decimals and cell.text == fmt_fixed(expected, decimals)
                assert "e-" not in cell.text and "e+" not in cell.text


def test_a_missing_figure_has_no_value_no_rank_and_sorts_last(tmp_path: Path, make_result):
    root = tmp_path / "results"
    make_result(root, "a", seed=1)
    folder = make_result(root, "b", seed=2)
    summary = json.loads((folder / "metrics.json").read_text())
    summary["metrics"]["deletion"]["mean"] = None
    (folder / "metrics.json").write_text(json.dumps(summary))
    _, _, views = _views(root)
    cell = {v.name: v for v in views}["b"].cells["deletion"]
    assert cell.value is None and cell.rank is None and cell.text == "\u2014" and cell.sort == ""


def test_a_cell_prints_from_its_value():
    cell = Cell(value=0.123456, rank=1, best=True, tied=False, decimals=4, low=0.1, high=0.15)
    assert (cell.text, cell.sort, cell.ci) == ("0.1235", "0.123456", "[0.1000, 0.1500]")
    assert math.isclose(float(cell.sort), cell.value)
    seconds = Cell(value=0.00055, rank=None, best=False, tied=False, kind="seconds", total=0.022)
    assert (seconds.text, seconds.ci) == ("0.55 ms", "total 22 ms")
    seeded = Cell(value=-0.0105, rank=2, best=False, tied=False, decimals=3, low=-0.1, high=0.1, basis="seed 0",
                  seeds=2, seed_std=4e-6)
    assert seeded.text == "\u22120.011" and seeded.ci.endswith("*") and seeded.spread == "2 seeds, sd < 0.0001"


def test_gallery_names_outside_the_gallery_folder_are_rejected(tmp_path: Path, make_result):
    root = tmp_path / "results"
    folder = make_result(root, "a", seed=1)
    index = folder / "gallery" / "index.json"
    entries = json.loads(index.read_text())
    entries[0]["overlay"] = "../metrics.json"
    index.write_text(json.dumps(entries))
    with pytest.raises(ValueError, match="must be a file name inside gallery/"):
        _views(root)


def test_column_groups_span_consecutive_families():
    cols = columns_from_spec(default_metrics())
    groups = column_groups(cols)
    assert sum(span for _, span in groups) == len(cols)
    assert all(a != b for (a, _), (b, _) in zip(groups, groups[1:]))
