"""Submission stage files and params.yaml entries as files: check, fix, copy (--from), remove. No DVC, no model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from benchmark.cli import main
from benchmark.layout import RepoLayout
from benchmark.stagefiles import (
    add_params_entries,
    check_stages,
    copy_submission,
    expected_stage_file,
    fix_stages,
    remove_params_entries,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """params.yaml and two real submissions (with their generated stage files), plus results of one."""
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    for name in ("random", "occlusion_small"):
        shutil.copytree(REPO / "submissions" / name, tmp_path / "submissions" / name,
                        ignore=shutil.ignore_patterns("dvc.lock"))
    data = yaml.safe_load((tmp_path / "params.yaml").read_text())
    for body in data["profiles"].values():  # keep only the two submissions' entries
        body["submission_params"] = {k: v for k, v in body["submission_params"].items()
                                     if k in ("random", "occlusion_small")}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "results" / "random").mkdir(parents=True)
    return tmp_path


def test_the_committed_submissions_and_params_agree():
    """Every submission's dvc.yaml is the template's and params.yaml has its entries (leftover results of a
    local run do not count)."""
    assert [p for p in check_stages(RepoLayout(REPO)) if p.blocking] == []


def test_a_copied_folder_is_found_and_fixed(repo: Path, capsys):
    layout = RepoLayout(repo)
    assert check_stages(layout) == []
    shutil.copytree(repo / "submissions" / "random", repo / "submissions" / "random_copy")  # cp -r
    problems = check_stages(layout)
    assert [p.name for p in problems if p.blocking] == ["random_copy"] * 4  # its stage file, 3 profiles
    first = str(problems[0])
    assert "runs and writes 'random', not 'random_copy'" in first and "check-stages --fix" in first
    assert main(["--root", str(repo), "check-stages"]) == 1
    assert main(["--root", str(repo), "check-stages", "--fix"]) == 0
    out = capsys.readouterr().out
    assert "rewrote submissions/random_copy/dvc.yaml" in out
    assert (repo / "submissions" / "random_copy" / "dvc.yaml").read_text() == expected_stage_file("random_copy")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert all(body["submission_params"]["random_copy"] == {} for body in params["profiles"].values())
    assert check_stages(layout) == []


def test_new_submission_from_an_existing_one(repo: Path, capsys):
    assert main(["--root", str(repo), "new-submission", "occlusion_tiny", "--from", "occlusion_small"]) == 0
    folder = repo / "submissions" / "occlusion_tiny"
    source = repo / "submissions" / "occlusion_small"
    assert (folder / "explainer.py").read_bytes() == (source / "explainer.py").read_bytes()
    assert (folder / "dvc.yaml").read_text() == expected_stage_file("occlusion_tiny")
    assert not (folder / "dvc.lock").exists()
    meta = yaml.safe_load((folder / "submission.yaml").read_text())
    assert meta["group"] == "added"  # a copy of a paper baseline is not the paper's
    assert meta["display_name"].startswith("Occlusion Tiny (from ")
    params = yaml.safe_load((repo / "params.yaml").read_text())["profiles"]
    assert params["default"]["submission_params"]["occlusion_tiny"] == {"stride": [4, 16, 16]}  # copied override
    assert params["paper"]["submission_params"]["occlusion_tiny"] == {}
    assert check_stages(RepoLayout(repo)) == []
    with pytest.raises(ValueError, match="already exists"):
        copy_submission(RepoLayout(repo), "occlusion_small", "occlusion_tiny")
    with pytest.raises(ValueError, match="no such submission"):
        copy_submission(RepoLayout(repo), "nope", "other")


def test_comments_survive_the_params_edits(repo: Path):
    shutil.copy(REPO / "params.yaml", repo / "params.yaml")
    original = (repo / "params.yaml").read_text()
    assert add_params_entries(repo / "params.yaml", "zzz_method") == [
        f"profiles.{p}.submission_params.zzz_method" for p in ("default", "ucsd_cpu", "paper")]
    edited = (repo / "params.yaml").read_text()
    assert edited.count("zzz_method: {}") == 3 and "# fast CPU profile: minutes on 2 cores" in edited
    remove_params_entries(repo / "params.yaml", "zzz_method")
    assert (repo / "params.yaml").read_text() == original


def test_remove_deletes_everything_of_a_submission(repo: Path, capsys):
    (repo / "sanity" / "random").mkdir(parents=True)
    assert main(["--root", str(repo), "remove", "random", "--no-track"]) == 0
    assert not (repo / "submissions" / "random").exists() and not (repo / "results" / "random").exists()
    assert not (repo / "sanity" / "random").exists()
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert "random" not in params["profiles"]["default"]["submission_params"]
    assert main(["--root", str(repo), "remove", "random", "--no-track"]) == 1


def test_leftovers_of_a_submission_deleted_by_hand_are_reported(repo: Path):
    shutil.rmtree(repo / "submissions" / "random")
    problems = {str(p) for p in check_stages(RepoLayout(repo))}
    assert any("results/random belongs to no submission folder" in p and "benchmark remove random" in p
               for p in problems)
    assert any("submission_params.random names no submission folder" in p for p in problems)


def test_fix_drops_a_lock_that_records_another_submission(repo: Path):
    shutil.copytree(repo / "submissions" / "random", repo / "submissions" / "random_two")
    lock = repo / "submissions" / "random_two" / "dvc.lock"
    lock.write_text("stages:\n  evaluate:\n    cmd: benchmark evaluate random\n")
    done = fix_stages(RepoLayout(repo))
    assert any("removed submissions/random_two/dvc.lock" in line for line in done)


def test_new_submission_adds_its_params_entries(repo: Path):
    assert main(["--root", str(repo), "new-submission", "my_method"]) == 0
    params = yaml.safe_load((repo / "params.yaml").read_text())["profiles"]
    assert all(body["submission_params"]["my_method"] == {} for body in params.values())
    assert check_stages(RepoLayout(repo)) == []
