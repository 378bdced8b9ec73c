"""submission.yaml read as data: the schema, names, parameter merging, and no submission code run."""

from __future__ import annotations

import sys

import pytest

from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.metadata import METHOD_FAMILIES, SubmissionMeta, load_meta, merge_params, validate_name


def test_a_valid_yaml_reads_as_metadata_and_params(tmp_path, write_submission):
    folder = write_submission(tmp_path, "toy_method")
    meta, params = load_meta(folder / "submission.yaml")
    assert meta == SubmissionMeta(display_name="Toy", family="gradient", authors=("Tester",),
                                  description="A toy submission.", url="", stochastic=False)
    assert params == {"scale": 2.0}
    assert METHOD_FAMILIES == ("gradient", "perturbation", "other")


def test_reading_the_metadata_runs_no_submission_code(tmp_path, write_submission):
    code = "raise RuntimeError('explainer.py was imported')\n"
    folder = write_submission(tmp_path, "never_imported", code=code)
    modules_before = set(sys.modules)
    meta, _ = load_meta(folder / "submission.yaml")
    assert meta.display_name == "Toy"
    assert not [m for m in set(sys.modules) - modules_before if "never_imported" in m]


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
        (lambda y: y + "stochastic: sometimes\n", "`stochastic` is str"),
        (lambda y: "display_name: [unclosed\n", "not valid YAML"),
        (lambda y: "- a list\n", "expected a mapping"),
    ],
)
def test_schema_errors_name_the_yaml(tmp_path, edit, message, write_submission, good_yaml):
    folder = write_submission(tmp_path, "broken", yaml_text=edit(good_yaml))
    with pytest.raises(SubmissionError) as error:
        load_meta(folder / "submission.yaml")
    assert message in str(error.value)
    assert str(folder / "submission.yaml") in str(error.value)


@pytest.mark.parametrize("name", ["BadName", "1method", "with-dash", "_private", "spaced name", ""])
def test_bad_names_are_refused(name):
    with pytest.raises(SubmissionError, match="snake_case"):
        validate_name(name)


def test_merge_params_overrides_known_keys_only():
    defaults = {"n_steps": 30, "window": [1, 2, 3]}
    merged = merge_params(defaults, {"n_steps": 4})
    assert merged == {"n_steps": 4, "window": [1, 2, 3]}
    merged["window"].append(4)
    assert defaults == {"n_steps": 30, "window": [1, 2, 3]}, "merging must not alias the defaults"
    assert merge_params(defaults, None) == defaults
    with pytest.raises(SubmissionError, match=r"params.yaml: unknown parameter\(s\) \['n_step'\]"):
        merge_params(defaults, {"n_step": 4}, source="params.yaml", name="ig")
