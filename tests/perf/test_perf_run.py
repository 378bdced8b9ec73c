"""`python -m benchmark.perf` end to end on a tiny profile: the table is complete and written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

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
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_writes_the_table_for_the_chosen_methods(tiny_params, tmp_path, monkeypatch):
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
    assert engines["windows"] == 20 and engines["timed_windows"] == 3 and engines["max_abs_difference"] < 1e-6
    assert "captum_default_s" not in rows["random"]
    assert report["scoring"]["deletion_insertion"]["max_abs_difference"] < 1e-5
    markdown = (out / "perf_tiny.md").read_text()
    assert "| occlusion_small |" in markdown and "Projected over 40 clips" in markdown
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_rejects_bad_arguments(tiny_params):
    with pytest.raises(SystemExit):
        main(["--profile", "tiny", "--params", str(tiny_params), "--clips", "0"])
