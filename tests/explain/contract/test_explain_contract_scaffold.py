"""new_submission: a working submission from the template, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from benchmark.explain.contract import SubmissionError, check_output, load_submission
from benchmark.explain.contract.scaffold import TEMPLATE_DIR, new_submission
from benchmark.explain.seeding import clip_generator
from benchmark.harness.metering import PassMeter


def test_creates_a_working_submission(tmp_path, toy_model, toy_clips):
    folder = new_submission("my_method", tmp_path)
    assert folder == tmp_path / "my_method"
    assert sorted(p.name for p in folder.iterdir()) == ["dvc.yaml", "explainer.py", "submission.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == ["my_method"], "no staging folder left behind"

    stage = yaml.safe_load((folder / "dvc.yaml").read_text())["stages"]["evaluate"]
    assert stage["cmd"] == "benchmark evaluate my_method"
    assert "submissions/my_method/explainer.py" in stage["deps"] and stage["outs"] == ["results/my_method"]
    assert stage["wdir"] == "../.."

    submission = load_submission(folder)
    assert submission.meta.display_name == "My Method" and submission.meta.family == "gradient"
    counter = PassMeter(toy_model, head=toy_model.head)
    clips = toy_clips.clone()
    attr = submission.explain(
        toy_model, clips, target=1, baselines=torch.zeros_like(clips), params=submission.params,
        generator=clip_generator(0, "my_method", "c0"),
    )
    attr = check_output(attr, clips, name="my_method")
    assert attr.abs().sum() > 0 and torch.equal(clips, toy_clips)
    assert counter.counts == (2, 2)


def test_refuses_an_existing_folder(tmp_path):
    new_submission("taken", tmp_path)
    with pytest.raises(SubmissionError, match="already exists"):
        new_submission("taken", tmp_path)


@pytest.mark.parametrize("name", ["Taken", "9lives", "with-dash", "", "../escape"])
def test_refuses_bad_names(tmp_path, name):
    with pytest.raises(SubmissionError, match="snake_case"):
        new_submission(name, tmp_path)
    assert not any(tmp_path.iterdir())


def test_refuses_an_unknown_template(tmp_path):
    with pytest.raises(SubmissionError, match="template"):
        new_submission("fine_name", tmp_path, template="quantum")


def test_the_template_ships_with_the_package():
    pyproject = (Path(__file__).resolve().parents[3] / "pyproject.toml").read_text()
    package = TEMPLATE_DIR.parent.relative_to(Path(__file__).resolve().parents[3]).as_posix().replace("/", ".")
    assert f'"{package}" = ["template/**/*"]' in pyproject
    assert (TEMPLATE_DIR / "dvc.yaml.in").is_file() and (TEMPLATE_DIR / "gradient" / "explainer.py").is_file()
