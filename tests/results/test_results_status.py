"""The end-of-run status: one line per failed submission or sanity run, and the names --strict acts on."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.results.sanity import SANITY_FILE, SANITY_SCHEMA
from benchmark.results.status import failed_names, status_lines
from benchmark.results.submission import METRICS_FILE, SCHEMA_VERSION


def _failed(root: Path, name: str, kind: str, clip: str | None, message: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / METRICS_FILE).write_text(json.dumps({
        "schema": SCHEMA_VERSION, "submission": name, "status": "failed",
        "failure": {"clip_id": clip, "kind": kind, "message": message, "traceback": ""}}))


def test_one_line_per_failure_with_kind_clip_and_first_line(tmp_path):
    results, sanity = tmp_path / "results", tmp_path / "sanity"
    _failed(results, "hangs", "timeout", "UCSDped2/Test001/061", "no answer within 900 s\nmore detail")
    _failed(results, "cheats", "tampering", "UCSDped2/Test001/081", "the pass meter's hook was removed")
    (results / "broken").mkdir()
    (results / "broken" / METRICS_FILE).write_text("{")
    (sanity / "hangs").mkdir(parents=True)
    (sanity / "hangs" / SANITY_FILE).write_text(json.dumps({
        "schema": SANITY_SCHEMA, "status": "failed",
        "failure": {"kind": "timeout", "step": 3, "message": "no answer"}}))
    lines = status_lines(results, sanity)
    assert lines[0] == "status: 3 submissions, 0 scored, 3 failed; 1 sanity run(s) failed"
    assert "FAILED hangs: timeout on clip UCSDped2/Test001/061: no answer within 900 s" in lines
    assert any(line.startswith("FAILED broken: unreadable result") and "metrics.json" in line for line in lines)
    assert "FAILED hangs (sanity) at cascade step 3: timeout: no answer" in lines
    assert failed_names(results) == ["broken", "cheats", "hangs"]
    assert failed_names(results, ["cheats"]) == ["cheats"]


def test_nothing_failed_is_one_summary_line(tmp_path):
    assert status_lines(tmp_path / "results", tmp_path / "sanity") == [
        "status: 0 submissions, 0 scored, 0 failed"]
    assert failed_names(tmp_path / "results") == []
