"""The gallery: each submission's heatmaps of a few evaluation clips, as evidence rather than decoration.

:func:`read_gallery` checks ``results/<name>/gallery/index.json`` (a list of ``{clip_id, frame, input,
overlay}`` whose files lie in the gallery folder, optionally with ``raw``: a ``.npz`` holding
:data:`benchmark.results.GALLERY_RAW_KEYS`) and says where each image goes in the site;
:func:`gallery_rows` lays out all submissions as the index page's Figure-1 rows, one per clip, with the
clip's p(anomalous) and each tile's clip IoU from ``per_clip.csv``.

When every tile of a clip has its raw arrays, the page draws them itself, on **one colour scale per
clip**: each tile shows ``E / max E`` (the map the metrics score, divided by its maximum over the whole
clip: the scale of the 51 thresholds) through the same colour map, with a colour bar. Otherwise it shows
the PNGs the harness wrote, each at its own contrast, and says so. Images are drawn at whole multiples
of their pixels (``image-rendering: pixelated``), never resampled to a fractional size, and each opens
enlarged (a ``:target`` view: no JavaScript).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmark.leaderboard.safety import is_bare_file_name
from benchmark.results import GALLERY_DIR, GALLERY_RAW_KEYS, SubmissionResult

if TYPE_CHECKING:
    from benchmark.leaderboard.views import SubmissionView

TILE_MAX_PX = 216
"""Widest a gallery tile is drawn (a whole multiple of its pixels at most this wide)."""
ZOOM_MAX_PX = (600, 360)
"""Widest the enlarged view is drawn on a wide screen and on a phone (whole multiples, at most this)."""

COLORMAP: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (0, 0, 4)),
    (0.25, (87, 16, 110)),
    (0.5, (188, 55, 84)),
    (0.75, (249, 142, 9)),
    (1.0, (252, 255, 164)),
)
"""Anchors of the sequential colour map (after matplotlib's *inferno*: ordered in lightness, readable in grey
and by colour-blind readers), interpolated linearly."""
ALPHA = 0.85
"""Opacity of the heatmap at ``E / max E = 1`` (it falls linearly to 0, where the frame shows through)."""
OUTLINE = (255, 221, 0)
COLORBAR_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


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
        raw_src: the ``.npz`` of raw arrays (:data:`benchmark.results.GALLERY_RAW_KEYS`), or ``None``.
    """

    clip_id: str
    frame: Any
    input_src: Path
    overlay_src: Path
    input: str
    overlay: str
    raw_src: Path | None = None


@dataclass
class Tile:
    """One tile of a gallery row: where its image is in the site and what it is drawn at."""

    src: str
    width: int
    height: int
    zoom: tuple[int, int]
    zoom_phone: tuple[int, int]
    anchor: str
    caption: str
    view: SubmissionView | None = None
    iou: float | None = None
    no_better: bool = False
    source: Path | None = None
    raw: Mapping[str, np.ndarray] | None = None


@dataclass
class GalleryRow:
    """One clip of the index page's gallery."""

    clip_id: str
    video: str
    frame: Any
    p_clip: float | None
    input: Tile
    tiles: list[Tile] = field(default_factory=list)
    shared_scale: bool = False

    @property
    def detected(self) -> bool | None:
        return None if self.p_clip is None else self.p_clip >= 0.5


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
        files: dict[str, Path] = {}
        for key in ("input", "overlay", "raw"):
            if key == "raw" and e.get("raw") in (None, ""):
                continue
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
                raw_src=files.get("raw"),
            )
        )
    return out


def load_raw(path: Path) -> dict[str, np.ndarray]:
    """The raw arrays of a gallery entry, checked (never unpickled).

    Raises:
        ValueError: naming the file, when it is not an ``.npz`` of :data:`GALLERY_RAW_KEYS` with equal
            ``(H, W)`` shapes and a finite ``scored`` map in ``[0, 1]``.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in GALLERY_RAW_KEYS}
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: not an .npz with {list(GALLERY_RAW_KEYS)} ({exc}); re-run its stage.") from exc
    shapes = {k: a.shape for k, a in arrays.items()}
    if len(set(shapes.values())) != 1 or len(arrays["frame"].shape) != 2:
        raise ValueError(f"{path}: arrays must share one (H, W) shape, got {shapes}; re-run its stage.")
    scored = arrays["scored"].astype(np.float64)
    if not np.isfinite(scored).all() or scored.min() < -1e-6 or scored.max() > 1 + 1e-6:
        raise ValueError(f"{path}: `scored` must be finite and within [0, 1]; re-run its stage.")
    return {
        "frame": np.clip(arrays["frame"], 0, 255).astype(np.uint8),
        "mask": arrays["mask"].astype(bool),
        "scored": np.clip(scored, 0.0, 1.0),
    }


def colormap(values: np.ndarray) -> np.ndarray:
    """RGB (float, 0-255) of ``values`` in ``[0, 1]`` through :data:`COLORMAP`: shape ``values.shape + (3,)``."""
    xs = [t for t, _ in COLORMAP]
    out = np.empty((*values.shape, 3))
    for ch in range(3):
        out[..., ch] = np.interp(values, xs, [rgb[ch] for _, rgb in COLORMAP])
    return out


def _outline(mask: np.ndarray) -> np.ndarray:
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    edge = mask & ~inner
    edge[0, :] |= mask[0, :]
    edge[-1, :] |= mask[-1, :]
    edge[:, 0] |= mask[:, 0]
    edge[:, -1] |= mask[:, -1]
    return edge


def draw_input(raw: Mapping[str, np.ndarray]) -> np.ndarray:
    """The grey frame with the mask's outline: uint8 ``(H, W, 3)`` at the model grid."""
    rgb = np.repeat(raw["frame"][..., None].astype(np.float64), 3, axis=2)
    rgb[_outline(raw["mask"])] = OUTLINE
    return rgb.astype(np.uint8)


def draw_heatmap(raw: Mapping[str, np.ndarray]) -> np.ndarray:
    """The scored map ``E / max E`` over the dimmed frame, with the mask's outline: uint8 ``(H, W, 3)``."""
    grey = np.repeat(raw["frame"][..., None].astype(np.float64), 3, axis=2) * 0.6
    s = raw["scored"][..., None]
    a = s * ALPHA
    rgb = grey * (1 - a) + colormap(raw["scored"]) * a
    rgb[_outline(raw["mask"])] = OUTLINE
    return np.clip(rgb, 0, 255).astype(np.uint8)


def colorbar_stops(n: int = 11) -> list[tuple[float, str]]:
    """``(offset in [0, 1], "#rrggbb")`` stops of the colour bar: the colour map at full opacity over the
    dimmed mid-grey the tiles show through."""
    grey = 128 * 0.6
    stops = []
    for i in range(n):
        t = i / (n - 1)
        rgb = grey * (1 - t * ALPHA) + colormap(np.array(t)) * t * ALPHA
        stops.append((t, "#{:02x}{:02x}{:02x}".format(*(int(round(c)) for c in np.clip(rgb, 0, 255)))))
    return stops


def integer_size(width: int, height: int, limit: int) -> tuple[int, int]:
    """``(width, height)`` times the largest whole factor that keeps the width at most ``limit`` (at least 1)."""
    k = max(1, limit // max(width, 1))
    return width * k, height * k


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as img:
        return img.size


def _per_clip(result: SubmissionResult | None, clip_id: str) -> dict[str, Any]:
    if result is None or result.per_clip is None:
        return {}
    rows = result.per_clip[result.per_clip["clip_id"] == clip_id]
    return rows.iloc[0].to_dict() if len(rows) else {}


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _tile(src: str, size: tuple[int, int], anchor: str, caption: str, **kw: Any) -> Tile:
    w, h = size
    return Tile(
        src=src,
        width=integer_size(w, h, TILE_MAX_PX)[0],
        height=integer_size(w, h, TILE_MAX_PX)[1],
        zoom=integer_size(w, h, ZOOM_MAX_PX[0]),
        zoom_phone=integer_size(w, h, ZOOM_MAX_PX[1]),
        anchor=anchor,
        caption=caption,
        **kw,
    )


def gallery_rows(
    views: Sequence[SubmissionView], results: Mapping[str, SubmissionResult] | None = None
) -> list[GalleryRow]:
    """Figure-1 rows: per gallery clip (first-seen order), its input frame and each submission's tile.

    ``frame`` and the input image come from the first submission (in ``views`` order) that shows the
    clip; ``p_clip`` and each tile's IoU from ``results`` (``per_clip.csv``). A clip whose entries all
    have raw arrays is drawn on one colour scale (:attr:`GalleryRow.shared_scale`); otherwise every tile
    of it is the harness's own PNG. The images are written by :func:`write_gallery_assets`.
    """
    results = results or {}
    entries: dict[str, list[tuple[SubmissionView, GalleryImage]]] = {}
    for v in views:
        for g in v.gallery:
            entries.setdefault(g.clip_id, []).append((v, g))
    rows = []
    for clip_id, members in entries.items():
        key = clip_id.replace("/", "_")
        shared = all(g.raw_src is not None for _, g in members)
        raws = {v.name: load_raw(g.raw_src) for v, g in members} if shared else {}
        first_view, first = members[0]
        info = _per_clip(results.get(first_view.name), clip_id)
        if shared:
            raw = raws[first_view.name]
            h, w = raw["frame"].shape
            inp = _tile(f"assets/gallery/_clips/{key}.png", (w, h), f"g-{key}-input", "Input and ground truth",
                        raw=raw)
        else:
            inp = _tile(first.input, _png_size(first.input_src), f"g-{key}-input", "Input and ground truth",
                        source=first.input_src)
        video = str(info.get("video", "") or "")
        scene = str(info.get("scene", "") or "")
        if not video:
            video = "/".join(clip_id.split("/")[:2])
        elif scene and "/" not in video:
            video = f"{scene}/{video}"
        row = GalleryRow(clip_id=clip_id, video=video, frame=first.frame, p_clip=_num(info.get("p_clip")),
                         input=inp, shared_scale=shared)
        for v, g in members:
            tile_info = _per_clip(results.get(v.name), clip_id)
            cell = v.cells.get("clip_iou")
            kw = {"view": v, "iou": _num(tile_info.get("clip_iou")),
                  "no_better": bool(cell.no_better) if cell is not None else False}
            anchor = f"g-{key}-{v.name}"
            if shared:
                raw = raws[v.name]
                h, w = raw["frame"].shape
                row.tiles.append(_tile(f"assets/gallery/{v.name}/{key}_scored.png", (w, h), anchor,
                                       v.display_name, raw=raw, **kw))
            else:
                row.tiles.append(_tile(g.overlay, _png_size(g.overlay_src), anchor, v.display_name,
                                       source=g.overlay_src, **kw))
        rows.append(row)
    return rows


def write_gallery_assets(site: Path, rows: Sequence[GalleryRow]) -> None:
    """Write every gallery image into ``site``: the drawn tiles of raw entries, copies of the others."""
    import shutil

    from PIL import Image

    def put(tile: Tile, draw) -> None:
        dest = site / tile.src
        dest.parent.mkdir(parents=True, exist_ok=True)
        if tile.raw is not None:
            Image.fromarray(draw(tile.raw)).save(dest, format="PNG", optimize=True)
        elif tile.source is not None and not dest.exists():
            shutil.copyfile(tile.source, dest)

    for row in rows:
        put(row.input, draw_input)
        for tile in row.tiles:
            put(tile, draw_heatmap)
