"""One line per submission that did not score: what ``dvc repro`` prints last, and ``--strict`` acts on.

A submission that fails (raises, hangs, tampers, returns a bad map) leaves the pipeline green on purpose: the
page lists it with the reason. :func:`status_lines` makes the failures visible at the end of the run, and
:func:`failed_names` lets ``benchmark evaluate --strict`` and ``benchmark status --strict`` exit non-zero
for a submitter's CI.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.results.sanity import load_sanity
from benchmark.results.submission import ResultsError, read_result

__all__ = ["failed_names", "status_lines"]


def _first_line(text: object, limit: int = 160) -> str:
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failed_names(results_root: Path, names: list[str] | None = None) -> list[str]:
    """The submissions under ``results_root`` (only ``names`` when given) whose result is ``failed``."""
    out = []
    for folder in sorted(p for p in Path(results_root).glob("*") if p.is_dir() and not p.name.startswith(".")):
        if names is not None and folder.name not in names:
            continue
        try:
            if not read_result(folder).ok:
                out.append(folder.name)
        except ResultsError:
            out.append(folder.name)
    return out


def status_lines(results_root: Path, sanity_root: Path) -> list[str]:
    """A summary line, then one line per failed evaluation or sanity run (kind, clip, first line of the
    message). Unreadable result folders count as failed and name the file."""
    lines, failed, total = [], [], 0
    for folder in sorted(p for p in Path(results_root).glob("*") if p.is_dir() and not p.name.startswith(".")):
        total += 1
        try:
            result = read_result(folder)
        except ResultsError as exc:
            failed.append(f"FAILED {folder.name}: unreadable result ({_first_line(exc)})")
            continue
        if not result.ok:
            f = result.summary.get("failure") or {}
            where = f" on clip {f['clip_id']}" if f.get("clip_id") else ""
            failed.append(f"FAILED {folder.name}: {f.get('kind', 'unknown')}{where}: {_first_line(f.get('message'))}")
    for name, record in load_sanity(Path(sanity_root)).items():
        if record.get("status") != "ok":
            f = record.get("failure") or {}
            step = f" at cascade step {f['step']}" if f.get("step") is not None else ""
            failed.append(f"FAILED {name} (sanity){step}: {f.get('kind', 'unknown')}: "
                          f"{_first_line(f.get('message'))}")
    n_failed = sum(1 for line in failed if "(sanity)" not in line)
    lines.append(f"status: {total} submissions, {total - n_failed} scored, {n_failed} failed"
                 + (f"; {len(failed) - n_failed} sanity run(s) failed" if len(failed) > n_failed else ""))
    return lines + failed

