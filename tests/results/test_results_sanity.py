"""Reading sanity records back: damaged files name the file and the fix; absent folders are simply absent."""

from __future__ import annotations

import pytest

from benchmark.results.sanity import SANITY_FILE, load_sanity, read_sanity


def test_reading_a_damaged_record_names_the_file(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / SANITY_FILE).write_text("{")
    with pytest.raises(ValueError, match="sanity.json: not valid JSON"):
        read_sanity(tmp_path / "x")
    (tmp_path / "x" / SANITY_FILE).write_text(
        '{"schema": 1, "status": "ok", "verdict": "maybe", "steps": []}'
    )
    with pytest.raises(ValueError, match="needs a verdict"):
        read_sanity(tmp_path / "x")
    assert load_sanity(tmp_path / "absent") == {}
