"""explainer.py imported by path: one module per folder, and every signature error named."""

from __future__ import annotations

import sys

import pytest

from benchmark.explain.contract.code import load_explain
from benchmark.explain.contract.errors import SubmissionError


def test_two_folders_with_the_same_code_get_separate_modules(tmp_path, write_submission):
    a = load_explain(write_submission(tmp_path / "a", "same") / "explainer.py", name="same")
    b = load_explain(write_submission(tmp_path / "b", "same") / "explainer.py", name="same")
    assert a.__module__ != b.__module__
    assert a.__module__ in sys.modules and not a.__module__.startswith("same")


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
    path = write_submission(tmp_path, "broken_code", code=code) / "explainer.py"
    with pytest.raises(SubmissionError) as error:
        load_explain(path, name="broken_code")
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(SubmissionError, match="explainer.py: not found"):
        load_explain(tmp_path / "explainer.py", name="absent")
