"""The project's pipeline definition: every registered submission has its own, current DVC stage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmark.explain.contract.registry import discover
from benchmark.explain.contract.scaffold import TEMPLATE_DIR

REPO = Path(__file__).resolve().parents[2]
DVC = Path(sys.executable).with_name("dvc")


@pytest.mark.parametrize("name", sorted(discover(REPO / "submissions")))
def test_each_submission_has_the_template_stage(name):
    expected = (TEMPLATE_DIR / "dvc.yaml.in").read_text().replace("{{NAME}}", name)
    actual = (REPO / "submissions" / name / "dvc.yaml").read_text()
    assert actual == expected, (f"submissions/{name}/dvc.yaml differs from the template; regenerate it "
                                "from benchmark/explain/contract/template/dvc.yaml.in")


@pytest.mark.skipif(not DVC.exists(), reason="dvc not installed in this environment")
def test_dvc_sees_one_stage_per_submission_before_the_leaderboard():
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    out = subprocess.run([str(DVC), "dag", "--md"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in discover(REPO / "submissions"):
        assert f"submissions/{name}/dvc.yaml:evaluate" in out.stdout
    root = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert "results" in root["leaderboard"]["deps"] and root["track"]["always_changed"] is True


def test_dvc_collects_only_the_pipeline_and_the_submissions():
    """Any other dvc.yaml (a template, say) would show up in `dvc status` and break `dvc commit`."""
    found = sorted(str(p.relative_to(REPO)) for p in REPO.rglob("dvc.yaml")
                   if not any(part.startswith(".") for part in p.relative_to(REPO).parts))
    expected = ["dvc.yaml"] + [f"submissions/{n}/dvc.yaml" for n in sorted(discover(REPO / "submissions"))]
    assert found == sorted(expected)


def test_the_stage_template_tracks_the_model_code_the_stages_run():
    """A change to any benchmark/model module the evaluate or sanity stage imports (the network, its fast paths,
    the engines' graph, the checkpoint reader) must make every submission's stages stale."""
    probe = ("import importlib, pkgutil, sys, benchmark.explain, benchmark.harness, benchmark.metrics\n"
             "for pkg in (benchmark.explain, benchmark.harness, benchmark.metrics):\n"
             "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
             "        if m.name != 'benchmark.harness.ray_backend':  # the optional extra\n"
             "            importlib.import_module(m.name)\n"
             "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    modules = [m for m in out.stdout.split() if m.startswith("benchmark.model.")]
    stages = yaml.safe_load((TEMPLATE_DIR / "dvc.yaml.in").read_text().replace("{{NAME}}", "x"))["stages"]
    model_deps = {d for d in stages["sanity"]["deps"] if d.startswith("benchmark/model/")}
    needed = {"benchmark/" + m.split(".", 1)[1].replace(".", "/") + ".py" for m in modules} - {
        "benchmark/model/weights.py"}  # converts the published checkpoint: the train stage's, via models/model.pt
    assert "benchmark/model/polyphase.py" in needed and "benchmark/model/graph.py" in needed
    assert needed <= model_deps, f"add to the template's sanity deps: {sorted(needed - model_deps)}"
    assert model_deps - {"benchmark/model/randomization.py"} <= set(stages["evaluate"]["deps"])
