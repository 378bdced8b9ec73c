"""The UCSD frame-level labels: ``UCSDped1.m`` / ``UCSDped2.m`` (MATLAB text).

The official files hold one entry per test video, in the order of ``Test001, Test002, ...``::

    TestVideoFile = {};
    TestVideoFile{end+1}.gt_frame = [61:180];
    TestVideoFile{end+1}.gt_frame = [5:90, 140:200];

Frame numbers are 1-based and inclusive. ``parse_gt_file`` reads them; ``format_gt_file`` writes
the same syntax (the synthetic generator uses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmark.data.errors import DataError

_ENTRY = re.compile(
    r"TestVideoFile\s*\{\s*(?P<index>end\s*\+\s*1|\d+)\s*\}\s*\.\s*gt_frame\s*=\s*\[(?P<body>[^\]]*)\]\s*;?"
)
_INIT = re.compile(r"TestVideoFile\s*=\s*\{\s*\}\s*;?")
_RANGE = re.compile(r"^(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_gt_file(path: Path) -> list[frozenset[int]]:
    """Read a ``UCSDpedN.m`` file.

    Args:
        path: the ``.m`` file.

    Returns:
        One ``frozenset`` of 1-based anomalous frame numbers per entry; entry ``k`` (0-based)
        belongs to ``Test{k+1:03d}``.

    Raises:
        DataError: unreadable file, or a line that is not an entry of the official form.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the frame-label file ({exc}).") from exc
    entries: dict[int, frozenset[int]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("%", 1)[0].strip()
        if not line or _INIT.fullmatch(line):
            continue
        match = _ENTRY.fullmatch(line)
        if match is None:
            raise DataError(
                f"{path}:{lineno}: not a frame-label entry: {raw.strip()!r}. Expected a line like "
                "'TestVideoFile{end+1}.gt_frame = [61:180];'."
            )
        index = match["index"]
        position = len(entries) + 1 if index.startswith("end") else int(index)
        if position < 1 or position in entries:
            raise DataError(f"{path}:{lineno}: entry {{{index}}} is out of order or repeated.")
        entries[position] = _parse_ranges(match["body"], path, lineno)
    if not entries:
        raise DataError(f"{path}: no 'TestVideoFile{{end+1}}.gt_frame = [...]' entries found.")
    missing = sorted(set(range(1, max(entries) + 1)) - set(entries))
    if missing:
        raise DataError(f"{path}: entries {missing} are missing (entries must be numbered 1, 2, ...).")
    return [entries[k] for k in range(1, max(entries) + 1)]


def _parse_ranges(body: str, path: Path, lineno: int) -> frozenset[int]:
    frames: set[int] = set()
    for item in re.split(r"[,\s]+", body.strip()):
        if not item:
            continue
        match = _RANGE.fullmatch(item)
        if match is None:
            raise DataError(f"{path}:{lineno}: cannot read {item!r} as a frame number or range a:b.")
        first, second, third = (int(g) if g is not None else None for g in match.groups())
        if second is None:
            start, step, stop = first, 1, first
        elif third is None:
            start, step, stop = first, 1, second
        else:
            start, step, stop = first, second, third
        if start < 1 or stop < start or step < 1:
            raise DataError(f"{path}:{lineno}: invalid range {item!r} (frames are 1-based, a <= b).")
        frames.update(range(start, stop + 1, step))
    return frozenset(frames)


def _ranges(frames: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def format_gt_file(videos: Sequence[Iterable[int]]) -> str:
    """The text of a ``UCSDpedN.m`` file; ``videos[k]`` holds the anomalous frames of ``Test{k+1:03d}``."""
    lines = ["TestVideoFile = {};"]
    for frames in videos:
        body = ", ".join(f"{a}:{b}" if b > a else f"{a}" for a, b in _ranges(frames))
        lines.append(f"TestVideoFile{{end+1}}.gt_frame = [{body}];")
    return "\n".join(lines) + "\n"
