"""The gallery: each submission's overlay PNGs, read from ``results/<name>/gallery/index.json``.

:func:`read_gallery` checks the index (a list of ``{clip_id, frame, input, overlay}`` whose files lie
in the gallery folder) and says where each PNG is copied in the site; :func:`gallery_rows` lays the
images of all submissions out as the index page's Figure-1 rows, one per clip.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from benchmark.leaderboard.safety import is_bare_file_name
from benchmark.results import GALLERY_DIR, SubmissionResult

if TYPE_CHECKING:
    from benchmark.leaderboard.views import SubmissionView


@dataclass(frozen=True)
class GalleryImage:
    """One gallery clip of one submission.

    Attributes:
        clip_id: the clip's id.
        frame: the frame shown (index into the clip), or ``None`` when the index does not say.
        input_src: the input-frame PNG (with the ground-truth outline) in the result folder.
        overlay_src: the attribution-overlay PNG in the result folder.
        input: where ``input_src`` is copied, relative to the site root.
        overlay: where ``overlay_src`` is copied, relative to the site root.
    """

    clip_id: str
    frame: Any
    input_src: Path
    overlay_src: Path
    input: str
    overlay: str


def read_gallery(result: SubmissionResult) -> list[GalleryImage]:
    """The gallery of ``result`` in index order (``[]`` when it has no ``gallery/index.json``).

    Raises:
        ValueError: naming the index, when it is not JSON, not a list, an entry lacks a key, names a
            file outside the gallery folder, or names a file that is missing.
    """
    index = result.folder / GALLERY_DIR / "index.json"
    if not index.is_file():
        return []
    try:
        entries = json.loads(index.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{index}: not valid JSON ({exc}); re-run the submission's stage.") from exc
    if not isinstance(entries, list):
        raise ValueError(f"{index}: expected a list of {{clip_id, frame, input, overlay}}; re-run its stage.")
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not {"clip_id", "input", "overlay"} <= set(e):
            raise ValueError(
                f"{index}: entry {i} lacks clip_id/input/overlay; re-run the submission's stage."
            )
        files = {}
        for key in ("input", "overlay"):
            if not is_bare_file_name(str(e[key])):
                raise ValueError(f"{index}: entry {i} {key}={e[key]!r} must be a file name inside gallery/.")
            src = result.folder / GALLERY_DIR / PurePosixPath(str(e[key])).name
            if not src.is_file():
                raise ValueError(f"{index}: entry {i}: {src} is missing; re-run the submission's stage.")
            files[key] = src
        out.append(
            GalleryImage(
                clip_id=str(e["clip_id"]),
                frame=e.get("frame"),
                input_src=files["input"],
                overlay_src=files["overlay"],
                input=f"assets/gallery/{result.name}/{files['input'].name}",
                overlay=f"assets/gallery/{result.name}/{files['overlay'].name}",
            )
        )
    return out


def gallery_rows(views: Sequence[SubmissionView]) -> list[dict[str, Any]]:
    """Figure-1 rows: per gallery clip (first-seen order), its input frame and each submission's overlay.

    Returns ``[{clip_id, frame, input, overlays: [{view, overlay}]}]``; ``frame`` and ``input`` come from
    the first submission (in ``views`` order) that shows the clip.
    """
    clips: dict[str, dict[str, Any]] = {}
    for v in views:
        for g in v.gallery:
            row = clips.setdefault(
                g.clip_id,
                {"clip_id": g.clip_id, "frame": g.frame, "input": g.input, "overlays": []},
            )
            row["overlays"].append({"view": v, "overlay": g.overlay})
    return list(clips.values())
