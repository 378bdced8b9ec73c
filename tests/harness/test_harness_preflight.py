"""`benchmark validate` and `benchmark list`: the checks run the submission's code only in the confined worker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmark.cli import main

REPO = Path(__file__).resolve().parents[2]
MARKER_CODE = """\
from pathlib import Path
Path({marker!r}).write_text("module code ran here")
import torch


def explain(model, clips, *, target, baselines, params, generator):
    x = clips.clone().requires_grad_(True)
    model(x)[:, target].sum().backward()
    return (x.grad * x).detach()
"""


@pytest.fixture
def repo(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "submissions").mkdir()
    shutil.copytree(REPO / "submissions" / "input_x_gradient", tmp_path / "submissions" / "good",
                    ignore=shutil.ignore_patterns("dvc.lock", "dvc.yaml"))
    # a submission added the documented way: its DVC stage and params.yaml entries written by the CLI
    assert main(["--root", str(tmp_path), "--params", str(tmp_path / "params.yaml"), "check-stages", "--fix"]) == 0
    return tmp_path


def test_validate_passes_a_good_submission(repo, capsys):
    assert main(["--root", str(repo), "--params", str(repo / "params.yaml"), "validate", "good"]) == 0
    out = capsys.readouterr().out
    assert "validate good: OK" in out and "determinism" in out and "[FAIL]" not in out


def test_listing_and_validating_never_run_module_code_in_the_harness(repo, tmp_path, capsys):
    marker = tmp_path / "outside" / "ran.txt"
    marker.parent.mkdir()
    folder = repo / "submissions" / "sneaky"
    shutil.copytree(repo / "submissions" / "good", folder)
    (folder / "explainer.py").write_text(MARKER_CODE.format(marker=str(marker)))
    assert main(["--root", str(repo), "list"]) == 0
    assert "sneaky" in capsys.readouterr().out
    assert not marker.exists(), "benchmark list executed the submission's module code"
    code = main(["--root", str(repo), "--params", str(repo / "params.yaml"), "validate", "sneaky"])
    from benchmark.harness.sandbox import landlock_abi

    if landlock_abi()[0] > 0:  # confined: the write at import time fails, and the check says so
        assert code == 1 and not marker.exists()
        assert "invalid_submission" in capsys.readouterr().out


def test_a_bad_signature_is_reported_from_the_source(repo, capsys):
    (repo / "submissions" / "good" / "explainer.py").write_text("def explain(model, clips, target):\n    pass\n")
    assert main(["--root", str(repo), "--params", str(repo / "params.yaml"), "validate", "good"]) == 1
    assert "wrong signature" in capsys.readouterr().out


def test_validate_fails_a_submission_dvc_would_never_score(repo, capsys):
    (repo / "submissions" / "good" / "dvc.yaml").unlink()
    assert main(["--root", str(repo), "--params", str(repo / "params.yaml"), "validate", "good"]) == 1
    out = capsys.readouterr().out
    assert "submissions/good/dvc.yaml is missing" in out and "check-stages --fix" in out
