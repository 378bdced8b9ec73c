"""Discovery of submission folders."""

from __future__ import annotations

import pytest

from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.registry import discover
from benchmark.explain.contract.submission import load_submission


def test_discover_finds_folders_with_a_yaml_sorted(tmp_path, write_submission):
    for name in ["zeta", "alpha", "_draft", ".hidden"]:
        write_submission(tmp_path, name)
    (tmp_path / "not_a_submission").mkdir()
    (tmp_path / "loose_file.yaml").write_text("x: 1\n")
    found = discover(tmp_path)
    assert list(found) == ["alpha", "zeta"]
    assert found["alpha"] == tmp_path / "alpha"


def test_discover_keeps_badly_named_folders_so_loading_fails_loudly(tmp_path, write_submission):
    write_submission(tmp_path, "Bad-Name")
    assert list(discover(tmp_path)) == ["Bad-Name"]
    with pytest.raises(SubmissionError, match="snake_case"):
        load_submission(discover(tmp_path)["Bad-Name"])


def test_a_missing_root_is_an_error(tmp_path):
    with pytest.raises(SubmissionError, match="submissions folder not found"):
        discover(tmp_path / "nowhere")
