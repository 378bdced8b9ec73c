"""The submission contract: a valid folder loads; every kind of broken folder is a clear error."""

from __future__ import annotations

import sys

import pytest
import torch

from benchmark.explain.contract import Submission, SubmissionError, load_submission, merge_params


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


def test_two_folders_with_the_same_code_get_separate_modules(tmp_path, write_submission):
    a = load_submission(write_submission(tmp_path / "a", "same"))
    b = load_submission(write_submission(tmp_path / "b", "same"))
    assert a.explain.__module__ != b.explain.__module__
    assert a.explain.__module__ in sys.modules and not a.explain.__module__.startswith("same")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda y: y.replace("display_name: Toy\n", ""), "missing key(s) ['display_name']"),
        (lambda y: y + "licence: MIT\n", "unknown key(s) ['licence']"),
        (lambda y: y.replace("family: gradient", "family: magic"), "`family` is 'magic'"),
        (lambda y: y.replace("authors: [Tester]", "authors: Tester"), "`authors` is str"),
        (lambda y: y.replace("authors: [Tester]", "authors: []"), "non-empty list"),
        (lambda y: y.replace('url: ""', "url: 3"), "`url` is int"),
        (lambda y: y.replace("params:\n  scale: 2.0\n", "params: [1, 2]\n"), "`params` is list"),
        (lambda y: y.replace("display_name: Toy", "display_name: ' '"), "`display_name` is empty"),
        (lambda y: "display_name: [unclosed\n", "not valid YAML"),
        (lambda y: "- a list\n", "expected a mapping"),
    ],
)
def test_schema_errors_name_the_yaml(tmp_path, edit, message, write_submission, good_yaml):
    folder = write_submission(tmp_path, "broken", yaml_text=edit(good_yaml))
    with pytest.raises(SubmissionError) as error:
        load_submission(folder)
    assert message in str(error.value)
    assert str(folder / "submission.yaml") in str(error.value)


@pytest.mark.parametrize("name", ["BadName", "1method", "with-dash", "_private", "spaced name"])
def test_bad_folder_names_are_refused(tmp_path, name, write_submission):
    with pytest.raises(SubmissionError, match="snake_case"):
        load_submission(write_submission(tmp_path, name))


@pytest.mark.parametrize(
    "code, message",
    [
        ("x = 1\n", "defines no function `explain`"),
        ("explain = 3\n", "defines no function `explain`"),
        ("def explain(model, clips, target, baselines, params, generator):\n    pass\n", "positional"),
        ("def explain(model, clips, *, target, baselines, params):\n    pass\n", "keyword-only arguments"),
        ("def explain(model, clips, *, target, baselines, params, generator, x): ...\n", "keyword-only"),
        ("def explain(model, clips, *, target, baselines, params, generator, **k): ...\n", "**kwargs"),
        ("def explain(clips, model, *, target, baselines, params, generator):\n    pass\n", "positional"),
        ("import not_a_module_anywhere\n", "importing it failed (ModuleNotFoundError"),
        ("def explain(:\n", "importing it failed (SyntaxError"),
    ],
)
def test_code_errors_name_the_explainer(tmp_path, code, message, write_submission):
    folder = write_submission(tmp_path, "broken_code", code=code)
    with pytest.raises(SubmissionError) as error:
        load_submission(folder)
    assert message in str(error.value)
    assert str(folder / "explainer.py") in str(error.value)


def test_missing_files_are_errors(tmp_path, write_submission, good_code):
    with pytest.raises(SubmissionError, match="explainer.py: not found"):
        load_submission(write_submission(tmp_path, "no_code", code=None))
    with pytest.raises(SubmissionError, match="submission.yaml: not found"):
        load_submission(write_submission(tmp_path, "no_yaml", yaml_text=None, code=good_code))
    with pytest.raises(SubmissionError, match="not a folder"):
        load_submission(tmp_path / "absent")


def test_merge_params_overrides_known_keys_only():
    defaults = {"n_steps": 30, "window": [1, 2, 3]}
    merged = merge_params(defaults, {"n_steps": 4})
    assert merged == {"n_steps": 4, "window": [1, 2, 3]}
    merged["window"].append(4)
    assert defaults == {"n_steps": 30, "window": [1, 2, 3]}, "merging must not alias the defaults"
    assert merge_params(defaults, None) == defaults
    with pytest.raises(SubmissionError, match=r"params.yaml: unknown parameter\(s\) \['n_step'\]"):
        merge_params(defaults, {"n_step": 4}, source="params.yaml", name="ig")
