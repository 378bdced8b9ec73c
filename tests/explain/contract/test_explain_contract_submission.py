"""load_submission: a valid folder loads; a broken one is an error naming the file."""

from __future__ import annotations

import sys

import pytest
import torch

from benchmark.explain.contract import Submission, SubmissionError, load_submission


def test_a_valid_folder_loads(tmp_path, toy_clips, write_submission):
    folder = write_submission(tmp_path, "toy_method")
    path_before = list(sys.path)
    submission = load_submission(folder)
    assert isinstance(submission, Submission)
    assert submission.name == "toy_method" and submission.folder == folder
    assert submission.meta.display_name == "Toy" and submission.meta.authors == ("Tester",)
    assert submission.meta.family == "gradient" and submission.params == {"scale": 2.0}
    assert sys.path == path_before
    out = submission.explain(
        None,
        toy_clips,
        target=1,
        baselines=torch.zeros_like(toy_clips),
        params={"scale": 2.0},
        generator=None,
    )
    assert torch.equal(out, toy_clips * 2.0)
    assert submission.merged_params({"scale": 3.0}) == {"scale": 3.0} and submission.params == {"scale": 2.0}


@pytest.mark.parametrize("name", ["BadName", "1method", "with-dash", "_private", "spaced name"])
def test_bad_folder_names_are_refused(tmp_path, name, write_submission):
    with pytest.raises(SubmissionError, match="snake_case"):
        load_submission(write_submission(tmp_path, name))


def test_either_file_broken_or_missing_is_an_error(tmp_path, write_submission, good_code):
    with pytest.raises(SubmissionError, match="explainer.py: not found"):
        load_submission(write_submission(tmp_path, "no_code", code=None))
    with pytest.raises(SubmissionError, match="submission.yaml: not found"):
        load_submission(write_submission(tmp_path, "no_yaml", yaml_text=None, code=good_code))
    with pytest.raises(SubmissionError, match="`family` is 'magic'"):
        load_submission(write_submission(tmp_path, "bad_yaml", yaml_text="display_name: T\nfamily: magic\n"
                                         "authors: [A]\ndescription: d\nurl: ''\nparams: {}\n"))
    with pytest.raises(SubmissionError, match="defines no function `explain`"):
        load_submission(write_submission(tmp_path, "bad_code", code="x = 1\n"))
    with pytest.raises(SubmissionError, match="not a folder"):
        load_submission(tmp_path / "absent")
