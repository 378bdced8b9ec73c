"""The real `dvc` on a tiny workspace built by the real stages: what users run and expect (issue #17).

`dvc metrics show` prints one short row per submission; `dvc plots show` draws each submission's deletion and
insertion curves and the training curve; an override of one submission's parameters makes only that
submission stale, and `dvc params diff` shows a submission's own parameters; a copied folder stops DVC until
`benchmark check-stages --fix`, and `benchmark remove` takes a submission out cleanly. Nothing is re-run: the
stages are evaluated once and recorded with `dvc commit`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmark.cli import main
from benchmark.harness.evaluate import evaluate_submission
from benchmark.harness.inputs import load_eval_set
from benchmark.layout import RepoLayout
from benchmark.leaderboard.render import render_site
from benchmark.results import PLOTS_DIR, SCORES_FILE

REPO = Path(__file__).resolve().parents[2]
DVC = Path(sys.executable).with_name("dvc")
NAMES = ("guided_backprop", "random")
pytestmark = pytest.mark.skipif(not DVC.exists(), reason=f"dvc not installed next to {sys.executable}")


def _run(args: list[str], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": path}
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _stale(repo: Path) -> set[str]:
    """The stages `dvc status` reports as changed."""
    out = json.loads(_run([str(DVC), "status", "--json"], repo).stdout or "{}")
    return set(out)


@pytest.fixture(scope="module")
def repo(tmp_path_factory, make_workspace) -> Path:
    base = tmp_path_factory.mktemp("dvcrepo")
    settings = make_workspace(base, names=NAMES)
    layout = RepoLayout(base)
    for name in NAMES:  # the stage files and params.yaml entries the tools write
        (base / "submissions" / name / "dvc.yaml").write_text(
            (REPO / "submissions" / name / "dvc.yaml").read_text())
    params = yaml.safe_load((base / "params.yaml").read_text())
    for body in params["profiles"].values():
        body["submission_params"] = {k: v for k, v in body["submission_params"].items() if k in NAMES}
    (base / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.copytree(REPO / "benchmark", base / "benchmark", ignore=shutil.ignore_patterns("__pycache__"))
    es = load_eval_set(settings, layout)
    for name in NAMES:
        evaluate_submission(name, settings, layout, eval_set=es, progress=False)
        (base / "sanity" / name).mkdir(parents=True)
        (base / "sanity" / name / "sanity.json").write_text(json.dumps(
            {"schema": 1, "status": "failed", "threshold": 0.5, "failure": {"kind": "not run in this test"}}))
    render_site(base / "results", base / "leaderboard" / "site", date="d", rank_resamples=50,
                train_metrics=REPO / "tests" / "leaderboard" / "fixtures" / "train_metrics.json")
    root = yaml.safe_load((REPO / "dvc.yaml").read_text())
    (base / "dvc.yaml").write_text(yaml.safe_dump({"plots": root["plots"]}, sort_keys=False))
    (base / ".gitignore").write_text("/data/\n/models/\n/results/\n/sanity/\n/leaderboard/site/\n")
    _run(["git", "init", "-q"], base)
    _run(["git", "config", "user.email", "t@example.org"], base)
    _run(["git", "config", "user.name", "t"], base)
    _run([str(DVC), "init", "-q"], base)
    _run([str(DVC), "config", "core.analytics", "false"], base)
    _run([str(DVC), "commit", "-f", "-q"], base)  # record every stage as run, without running it
    _run(["git", "add", "-A"], base)
    _run(["git", "commit", "-qm", "baseline"], base)
    assert _stale(base) == set()
    return base


def test_metrics_show_is_one_short_row_per_submission(repo: Path):
    out = _run([str(DVC), "metrics", "show"], repo).stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    widest = max(len(ln) for ln in lines)
    print(f"\n`dvc metrics show`: {len(lines)} lines, the widest {widest} characters\n{out}")
    assert widest <= 200 and len(lines) == 1 + len(NAMES)
    assert "clip_iou" in lines[0] and "runtime_s" in lines[0] and "provenance" not in out
    scores = json.loads((repo / "results" / "random" / SCORES_FILE).read_text())
    assert set(scores) >= {"clip_iou", "deletion", "insertion", "cv", "runtime_s"}


def test_plots_show_draws_the_curves_and_the_training_loss(repo: Path):
    out = json.loads(_run([str(DVC), "plots", "show", "--json"], repo).stdout)["data"]
    ids = set(out)
    print(f"\n`dvc plots show --json` plots: {sorted(ids)}")
    for name in NAMES:
        plot = next(k for k in ids if k.startswith(f"{name} deletion and insertion"))
        data = out[plot][0]["content"]["data"]["values"]
        assert len(data) == 2 * 51 and {"fraction", "p_anomalous"} <= set(data[0])
        assert {d["filename"] for d in data} == {"deletion.csv", "insertion.csv"}
    assert any("training loss" in k for k in ids)
    for name in NAMES:
        rows = (repo / "results" / name / PLOTS_DIR / "deletion.csv").read_text().splitlines()
        assert rows[0] == "fraction,p_anomalous" and rows[1].startswith("0.00,") and rows[-1].startswith("1.00,")


def test_an_override_of_one_submission_makes_only_it_stale(repo: Path):
    params = repo / "params.yaml"
    before = params.read_text()
    data = yaml.safe_load(before)
    data["profiles"]["default"]["submission_params"]["guided_backprop"] = {"anything": 1}
    data["profiles"]["paper"]["train"]["epochs"] = 7  # another profile's recipe: nothing is stale
    params.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        assert _stale(repo) == {"submissions/guided_backprop/dvc.yaml:evaluate",
                                "submissions/guided_backprop/dvc.yaml:sanity"}
        diff = _run([str(DVC), "params", "diff"], repo).stdout
        assert "profiles.default.submission_params.guided_backprop.anything" in diff
    finally:
        params.write_text(before)
    assert _stale(repo) == set()


def test_params_diff_shows_a_submissions_own_params(repo: Path):
    meta = repo / "submissions" / "random" / "submission.yaml"
    before = meta.read_text()
    meta.write_text(before.replace("params: {}", "params:\n  scale: 2"))
    try:
        diff = _run([str(DVC), "params", "diff"], repo).stdout
        assert "submissions/random/submission.yaml" in diff and "params.scale" in diff
        assert _stale(repo) == {"submissions/random/dvc.yaml:evaluate", "submissions/random/dvc.yaml:sanity"}
    finally:
        meta.write_text(before)


def test_a_copied_folder_stops_dvc_until_check_stages_fixes_it(repo: Path, capsys):
    copy = repo / "submissions" / "random_copy"
    shutil.copytree(repo / "submissions" / "random", copy)  # cp -r random random_copy
    try:
        broken = _run([str(DVC), "dag"], repo, ok=False)  # what `dvc repro` meets first
        assert broken.returncode != 0 and "results/random" in broken.stderr + broken.stdout
        assert main(["--root", str(repo), "check-stages"]) == 1
        assert "runs and writes 'random', not 'random_copy'" in capsys.readouterr().out
        assert main(["--root", str(repo), "check-stages", "--fix"]) == 0
        assert _stale(repo) == {"submissions/random_copy/dvc.yaml:evaluate", "submissions/random_copy/dvc.yaml:sanity"}
    finally:
        assert main(["--root", str(repo), "remove", "random_copy", "--no-track"]) == 0
    assert not copy.exists() and _stale(repo) == set()
