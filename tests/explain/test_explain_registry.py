"""Discovery of submission folders."""

from __future__ import annotations

import pytest

from benchmark.explain.contract import SubmissionError
from benchmark.explain.registry import discover, load_all


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
        load_all(tmp_path)


def test_load_all_and_missing_root(tmp_path, write_submission):
    write_submission(tmp_path, "one")
    write_submission(tmp_path, "two")
    loaded = load_all(tmp_path)
    assert list(loaded) == ["one", "two"] and loaded["two"].name == "two"
    with pytest.raises(SubmissionError, match="submissions folder not found"):
        discover(tmp_path / "nowhere")
