"""The model-instance stability study on a tiny workspace: one model per seed, agreement and spread reported."""

from __future__ import annotations

import dataclasses
import json

import pytest

from benchmark.harness.backends import LocalBackend
from benchmark.harness.stability import stability_study
from benchmark.layout import RepoLayout
from benchmark.model.stages import weights_stage


@pytest.mark.slow
def test_two_instances_give_a_report_with_agreement_and_spread(tmp_path, make_workspace):
    settings = make_workspace(tmp_path, names=("guided_backprop", "random"))
    settings = dataclasses.replace(settings, profile=dataclasses.replace(
        settings.profile, train=dataclasses.replace(settings.profile.train, epochs=2)))
    layout = RepoLayout(tmp_path)
    weights_stage(settings, layout)
    out = tmp_path / "stability" / "synthetic.json"
    stability_study(settings, layout, seeds=[0, 1], names=["guided_backprop", "random"],
                             workdir=tmp_path / "study", out=out, backend=LocalBackend(2), progress=False,
                             left_out={"occlusion_small": "too slow for this test"})
    written = json.loads(out.read_text())
    assert [i["seed"] for i in written["instances"]] == [0, 1]
    assert written["submissions"] == ["guided_backprop", "random"] and written["left_out"] == {
        "occlusion_small": "too slow for this test"}
    w = written["kendall_w"]["clip_auc"]
    assert w is None or 0.0 <= w <= 1.0
    spread = written["spread"]["guided_backprop"]["clip_auc"]
    assert spread["min"] <= spread["mean"] <= spread["max"] and spread["std"] >= 0
    checkpoints = {i["checkpoint"] for i in written["instances"]}
    assert checkpoints == {"study/seed0/models/model.pt", "study/seed1/models/model.pt"}  # no machine's folders
    # a second run reuses the trained instances (resumable) and gives the same scores
    again = stability_study(settings, layout, seeds=[0, 1], names=["guided_backprop"], workdir=tmp_path / "study",
                            out=out, backend=LocalBackend(2), progress=False)
    assert again["spread"]["guided_backprop"] == written["spread"]["guided_backprop"]
    with pytest.raises(ValueError, match="at least 2 distinct"):
        stability_study(settings, layout, seeds=[0], names=["random"], workdir=tmp_path / "study", out=out)
