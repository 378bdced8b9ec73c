"""`python -m benchmark.perf` end to end on a tiny profile: the table is complete and written atomically."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import yaml

from benchmark.perf import run as perf_run
from benchmark.perf.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_params(tmp_path) -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    default = params["profiles"]["default"]
    params["profiles"]["tiny"] = {
        "input": [24, 36], "model_width": 0.0625, "pretrained": "none", "train": default["train"],
        "submission_params": {"occlusion_small": {"window": [4, 79, 118], "stride": [4, 79, 118]},
                              "kernel_shap": {"n_samples": 6}},
    }
    params["sanity"]["clips"]["tiny"] = 1  # every profile names its sanity clips
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.fixture
def largest_batch_is_best(monkeypatch):
    """The floor as measured, but with the largest batch made the best one (timed values kept).

    On the tiny model batch 2 is not always faster per sample than batch 1; the batched columns only
    appear when one clip cannot fill the best batch, so the test fixes which batch is best.
    """
    measure = perf_run.measure_floor
    calls = []

    def measure_largest_best(*args, **kwargs):
        calls.append(kwargs)
        floor = measure(*args, **kwargs)
        fb, tb = max(floor.forward_by_batch), max(floor.train_by_batch)
        return dataclasses.replace(
            floor, forward_s=floor.forward_by_batch[fb], forward_batch=fb, backward_batch=tb,
            backward_s=max(floor.train_by_batch[tb] - floor.forward_by_batch[fb], 0.0),
        )

    monkeypatch.setattr(perf_run, "measure_floor", measure_largest_best)
    return calls


def test_writes_the_table_for_the_chosen_methods(tiny_params, tmp_path, monkeypatch, largest_batch_is_best):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    code = main(["--profile", "tiny", "--params", str(tiny_params), "--clips", "1", "--window-sample", "3",
                 "--max-batch", "2", "--repeats", "1", "--threads", "1",
                 "--methods", "guided_backprop,occlusion_small,kernel_shap,random", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "perf_tiny.json").read_text())
    assert report["input"] == [24, 36] and report["model_width"] == 0.0625
    rows = {r["method"]: r for r in report["rows"]}
    assert list(rows) == ["guided_backprop", "occlusion_small", "kernel_shap", "random"]
    assert rows["guided_backprop"]["forward_samples"] == 1 and rows["guided_backprop"]["backward_samples"] == 1
    assert rows["occlusion_small"]["forward_samples"] == 21  # 20 windows + the clean pass
    assert rows["kernel_shap"]["forward_samples"] == 6
    for name in ("guided_backprop", "occlusion_small", "kernel_shap"):
        assert rows[name]["floor_s"] > 0 and math.isfinite(rows[name]["over_floor"])
        assert rows[name]["captum_default_s"] > 0
    engines = rows["occlusion_small"]["occlusion_engines"]
    assert engines["windows"] == 20 and engines["timed_windows"] == 3 and engines["max_relative_difference"] < 1e-4
    assert "captum_default_s" not in rows["random"]
    assert largest_batch_is_best == [{"target": 1, "repeats": 1, "max_batch": 2, "extra_batches": [1, 6, 21]}]
    assert report["floor"]["extra_batches"] == [1, 6, 21]
    assert sorted(report["floor"]["train_ms_by_batch"]) == ["1", "2"]  # 6 and 21 are over --max-batch
    assert report["floor"]["backward_batch"] == 2
    gb = rows["guided_backprop"]
    for key in ("own_floor_s", "over_own_floor", "batched_call_s", "batched_s_per_clip", "batched_over_floor"):
        assert math.isfinite(gb[key]) and gb[key] > 0, key
    assert gb["own_floor_s"] * 1e3 == pytest.approx(report["floor"]["train_ms_by_batch"]["1"])  # 1 sample, batch 1
    assert gb["clips_per_call"] == 2  # ceil(best batch 2 / 1 sample)
    assert gb["batched_forward_samples"] == gb["batched_backward_samples"] == 2 and gb["batched_model_batch"] == 2
    assert gb["batched_s_per_clip"] == pytest.approx(gb["batched_call_s"] / 2)
    assert gb["batched_over_floor"] == pytest.approx(gb["batched_s_per_clip"] / gb["floor_s"])
    for name in ("occlusion_small", "kernel_shap"):  # their samples fill the best batch: nothing to batch
        assert rows[name]["own_floor_s"] == pytest.approx(rows[name]["floor_s"]) and "clips_per_call" not in rows[name]
    assert rows["random"]["own_floor_s"] == 0 and "clips_per_call" not in rows["random"]
    assert report["scoring"]["deletion_insertion"]["max_relative_difference"] < 1e-4
    markdown = (out / "perf_tiny.md").read_text()
    assert "| occlusion_small |" in markdown and "Projected over 40 clips" in markdown
    assert "| own-batch floor (s) | ours / own | batched k | batched / floor |" in markdown
    gb_line = next(line for line in markdown.splitlines() if line.startswith("| guided_backprop |"))
    assert gb_line.split(" | ")[8] == "2"  # the batched k column
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_rejects_bad_arguments(tiny_params):
    with pytest.raises(SystemExit):
        main(["--profile", "tiny", "--params", str(tiny_params), "--clips", "0"])


def test_engines_only_compares_the_occlusion_engines_alone(tiny_params, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    code = main(["--profile", "tiny", "--params", str(tiny_params), "--clips", "1", "--window-sample", "4",
                 "--threads", "1", "--engines-only", "--methods", "occlusion_small", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "perf_tiny_engines.json").read_text())
    assert report["engines_only"] and "floor" not in report and "scoring" not in report
    (row,) = report["rows"]
    engines = row["occlusion_engines"]
    assert row["method"] == "occlusion_small" and engines["windows"] == 20 and engines["timed_windows"] == 4
    assert engines["mac_ratio"] > 1 and engines["max_relative_difference"] < 1e-4
    assert "| occlusion_small | 20 | 4 |" in (out / "perf_tiny_engines.md").read_text()
    with pytest.raises(ValueError, match="not an occlusion method"):
        main(["--profile", "tiny", "--params", str(tiny_params), "--clips", "1", "--engines-only",
              "--methods", "lime", "--out", str(out)])
