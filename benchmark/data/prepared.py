"""Clips on the model grid: the output of the ``prepare`` stage and its reader.

``prepare`` resizes every usable video of the official layout once and writes::

    out_root/
      <scene>_<video>.frames.npy   uint8 (T, H, W)
      <scene>_<video>.masks.npy    bool  (T, H, W)   (videos with pixel masks only)
      videos.csv                   one row per video
      frames.csv                   one row per frame: its labels (used for clips at any start)
      clips.csv                    one row per clip (starts 1, 1 + stride, ...)
      meta.json                    grid, clip length, stride, source digest, notes

A clip id is ``"<scene>/<video>/<start:03d>"`` with ``start`` the 1-based first frame.
:class:`PreparedData` reads the folder back (arrays memory-mapped, cached per video).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from benchmark.data._fs import replace_dir, save_npy, staging_dir
from benchmark.data.errors import DataError
from benchmark.data.ucsd import Layout, Video, load_frames, load_masks_and_nonempty, read_layout

FORMAT_VERSION = 1
CLIP_COLUMNS: tuple[str, ...] = (
    "clip_id",
    "scene",
    "split",
    "video",
    "start",
    "label",
    "has_mask",
    "n_mask_frames",
    "n_mask_frames_grid",
)
_CLIP_ID = re.compile(r"^(?P<scene>[^/]+)/(?P<video>[^/]+)/(?P<start>\d+)$")


def clip_id(scene: str, video: str, start: int) -> str:
    """``"<scene>/<video>/<start:03d>"`` (``start`` is 1-based)."""
    return f"{scene}/{video}/{int(start):03d}"


def parse_clip_id(cid: str) -> tuple[str, str, int]:
    """``(scene, video, start)`` of a clip id; ``ValueError`` when malformed."""
    match = _CLIP_ID.fullmatch(cid)
    if match is None:
        raise ValueError(
            f"clip id {cid!r} is not of the form '<scene>/<video>/<start>' (e.g. 'UCSDped2/Test001/061')."
        )
    return match["scene"], match["video"], int(match["start"])


def clip_starts(n_frames: int, clip_length: int, stride: int) -> list[int]:
    """1-based starts ``1, 1 + stride, ...`` of the clips that fit in ``n_frames``."""
    return list(range(1, n_frames - clip_length + 2, stride))


@dataclass(frozen=True)
class Clip:
    """One clip of the prepared data.

    Attributes:
        clip_id: ``"<scene>/<video>/<start:03d>"``.
        frames: ``uint8`` ``(T, H, W)``.
        mask: ``bool`` ``(T, H, W)``, or ``None`` when the video has no pixel masks.
        label: 1 when any frame is anomalous (frame labels or a non-empty mask), else 0.
    """

    clip_id: str
    frames: np.ndarray
    mask: np.ndarray | None
    label: int


def _file_stem(scene: str, video: str) -> str:
    return f"{scene}_{video}"


def _source_digest(layout: Layout, videos: Iterable[Video]) -> str:
    """SHA-256 over the relative path and bytes of every frame, mask and label file used."""
    digest = hashlib.sha256()
    paths: list[Path] = list(layout.label_files)
    for v in videos:
        paths.extend(v.frame_paths)
        paths.extend(v.mask_paths or ())
    for path in sorted(paths):
        digest.update(path.relative_to(layout.root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def prepare(
    raw_root: Path,
    out_root: Path,
    *,
    size: tuple[int, int],
    clip_length: int,
    stride: int,
    scenes: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Resize every usable video under ``raw_root`` to ``size`` and write the clip tables.

    Args:
        raw_root: the ``UCSD_Anomaly_Dataset.v1p2`` folder or the folder holding it.
        out_root: output folder; built in a temporary folder beside it and swapped in at the end.
        size: model grid ``(H, W)``.
        clip_length: frames per clip (20 in the paper).
        stride: step between clip starts.
        scenes: scene folders to read (default: all present).
        progress: called with short progress lines (e.g. ``print``).

    Raises:
        DataError: from the layout reader (naming the file), or a video shorter than one clip.
    """
    if clip_length < 1 or stride < 1:
        raise ValueError(f"clip_length = {clip_length}, stride = {stride}: both must be >= 1.")
    h, w = (int(v) for v in size)
    say = progress or (lambda _msg: None)
    layout = read_layout(raw_root, scenes)
    for note in layout.notes:
        say(f"note: {note}")
    videos = [v for v in layout.videos if v.n_frames >= clip_length]
    notes = list(layout.notes)
    for v in layout.videos:
        if v.n_frames < clip_length:
            notes.append(f"{v.key}: {v.n_frames} frames, shorter than one clip ({clip_length}): skipped")
    if not videos:
        raise DataError(
            f"{layout.root}: no video has {clip_length} frames (clip length); nothing to prepare."
        )
    out_root = Path(out_root)
    video_rows, frame_rows, clip_rows = [], [], []
    with staging_dir(out_root) as tmp:
        for i, v in enumerate(videos, start=1):
            frames = load_frames(v, (h, w))
            stem = _file_stem(v.scene, v.name)
            save_npy(tmp / f"{stem}.frames.npy", frames)
            grid_nonempty = np.zeros(v.n_frames, dtype=bool)
            source_nonempty = np.zeros(v.n_frames, dtype=bool)
            if v.mask_paths is not None:
                _check_mask_matches_frames(v)
                masks, source_nonempty = load_masks_and_nonempty(v, (h, w))
                grid_nonempty = masks.reshape(v.n_frames, -1).any(axis=1)
                save_npy(tmp / f"{stem}.masks.npy", masks)
            labelled = v.anomalous_frames or frozenset()
            anomalous = np.array([(t + 1) in labelled for t in range(v.n_frames)]) | source_nonempty
            for t in range(v.n_frames):
                frame_rows.append(
                    (
                        v.scene,
                        v.split,
                        v.name,
                        t + 1,
                        int(anomalous[t]),
                        int((t + 1) in labelled),
                        bool(source_nonempty[t]),
                        bool(grid_nonempty[t]),
                    )
                )
            video_rows.append(
                dict(
                    scene=v.scene,
                    split=v.split,
                    video=v.name,
                    n_frames=v.n_frames,
                    has_mask=v.has_masks,
                    has_labels=v.anomalous_frames is not None,
                    n_anomalous_frames=int(anomalous.sum()),
                    n_mask_frames=int(source_nonempty.sum()),
                    frames_file=f"{stem}.frames.npy",
                    masks_file=f"{stem}.masks.npy" if v.has_masks else "",
                )
            )
            for start in clip_starts(v.n_frames, clip_length, stride):
                sl = slice(start - 1, start - 1 + clip_length)
                clip_rows.append(
                    dict(
                        clip_id=clip_id(v.scene, v.name, start),
                        scene=v.scene,
                        split=v.split,
                        video=v.name,
                        start=start,
                        label=int(anomalous[sl].any()),
                        has_mask=v.has_masks,
                        n_mask_frames=int(source_nonempty[sl].sum()),
                        n_mask_frames_grid=int(grid_nonempty[sl].sum()),
                    )
                )
            say(f"prepared {v.key} ({i}/{len(videos)}): {v.n_frames} frames -> {h}x{w}")
        pd.DataFrame(video_rows).to_csv(tmp / "videos.csv", index=False)
        pd.DataFrame(
            frame_rows,
            columns=[
                "scene",
                "split",
                "video",
                "frame",
                "anomalous",
                "labelled",
                "mask_nonempty",
                "mask_nonempty_grid",
            ],
        ).to_csv(tmp / "frames.csv", index=False)
        pd.DataFrame(clip_rows, columns=list(CLIP_COLUMNS)).to_csv(tmp / "clips.csv", index=False)
        meta = {
            "format_version": FORMAT_VERSION,
            "input_size": [h, w],
            "clip_length": int(clip_length),
            "stride": int(stride),
            "scenes": sorted({v.scene for v in videos}),
            "source_root": str(layout.root),
            "source_digest": _source_digest(layout, videos),
            "n_videos": len(videos),
            "n_clips": len(clip_rows),
            "notes": notes,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        replace_dir(tmp, out_root)
    say(f"wrote {out_root}: {len(videos)} videos, {len(clip_rows)} clips of {clip_length} frames at {h}x{w}")


def _check_mask_matches_frames(video: Video) -> None:
    """The stored masks must have the stored frames' size (a mismatch means they belong elsewhere)."""
    assert video.mask_paths is not None
    try:
        with Image.open(video.frame_paths[0]) as frame, Image.open(video.mask_paths[0]) as mask:
            (fw, fh), (mw, mh) = frame.size, mask.size
    except OSError as exc:
        raise DataError(f"{video.key}: cannot read the first frame or mask ({exc}).") from exc
    if (fw, fh) != (mw, mh):
        raise DataError(
            f"{video.mask_paths[0]}: mask is {mh}x{mw} (HxW) but frame {video.frame_paths[0].name} of "
            f"{video.key} is {fh}x{fw}. Masks must be drawn on the frames they belong to."
        )


class PreparedData:
    """Read access to a folder written by :func:`prepare`.

    Attributes:
        root: the folder.
        clips: the clip table (``CLIP_COLUMNS``), one row per clip, indexed 0..n-1.
        videos: the video table.
        frames: the per-frame label table.
        meta: ``meta.json``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        meta_path = self.root / "meta.json"
        if not meta_path.is_file():
            raise DataError(f"{meta_path}: not found. Run the prepare stage (`benchmark prepare`) first.")
        try:
            self.meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{meta_path}: not valid JSON ({exc}). Run the prepare stage again.") from exc
        if self.meta.get("format_version") != FORMAT_VERSION:
            raise DataError(
                f"{meta_path}: format {self.meta.get('format_version')} (expected {FORMAT_VERSION}). "
                "Run the prepare stage again."
            )
        try:
            self.clips = pd.read_csv(
                self.root / "clips.csv", dtype={"clip_id": str, "video": str, "scene": str}
            )
            self.videos = pd.read_csv(
                self.root / "videos.csv", dtype={"video": str, "scene": str}, keep_default_na=False
            )
            self.frames = pd.read_csv(self.root / "frames.csv", dtype={"video": str, "scene": str})
        except (OSError, pd.errors.ParserError) as exc:
            raise DataError(
                f"{self.root}: missing or unreadable table ({exc}). Run the prepare stage again."
            ) from exc
        self._clip_index = {cid: i for i, cid in enumerate(self.clips["clip_id"])}
        self._videos = {f"{r.scene}/{r.video}": r for r in self.videos.itertuples(index=False)}
        self._frame_labels: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, group in self.frames.groupby(["scene", "video"], sort=False):
            g = group.sort_values("frame")
            self._frame_labels[f"{key[0]}/{key[1]}"] = (
                g["anomalous"].to_numpy(bool),
                g["mask_nonempty"].to_numpy(bool),
            )
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

    @property
    def input_size(self) -> tuple[int, int]:
        """The grid ``(H, W)``."""
        h, w = self.meta["input_size"]
        return int(h), int(w)

    @property
    def clip_length(self) -> int:
        return int(self.meta["clip_length"])

    @property
    def stride(self) -> int:
        return int(self.meta["stride"])

    @property
    def source_digest(self) -> str:
        return str(self.meta["source_digest"])

    def video_keys(self, split: str | None = None) -> list[str]:
        """``"<scene>/<video>"`` of every video (of one ``split`` when given), sorted."""
        return sorted(k for k, r in self._videos.items() if split is None or r.split == split)

    def video_info(self, key: str) -> dict[str, object]:
        """The ``videos.csv`` row of ``"<scene>/<video>"``."""
        if key not in self._videos:
            raise KeyError(f"{self.root}: no video {key!r}; known: {self.video_keys()[:5]}...")
        return self._videos[key]._asdict()

    def frame_labels(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Per frame ``(T,)`` of ``"<scene>/<video>"``: anomalous (labels or mask), stored mask non-empty."""
        if key not in self._frame_labels:
            raise KeyError(f"{self.root}: no video {key!r}")
        return self._frame_labels[key]

    def _video_arrays(self, key: str) -> tuple[np.ndarray, np.ndarray | None]:
        if key not in self._arrays:
            info = self.video_info(key)
            frames = np.load(self.root / str(info["frames_file"]), mmap_mode="r")
            masks = (
                np.load(self.root / str(info["masks_file"]), mmap_mode="r") if info["masks_file"] else None
            )
            self._arrays[key] = (frames, masks)
        return self._arrays[key]

    def load_clip(self, cid: str) -> Clip:
        """The clip ``"<scene>/<video>/<start>"`` (any start where the clip fits, not only table rows).

        Returns:
            A :class:`Clip` with ``frames`` ``uint8 (T, H, W)`` and ``mask`` ``bool (T, H, W)`` or ``None``.
        """
        scene, video, start = parse_clip_id(cid)
        key = f"{scene}/{video}"
        if key not in self._videos:
            raise KeyError(f"clip {cid!r}: no video {key!r} in {self.root}")
        n = int(self.video_info(key)["n_frames"])
        if start < 1 or start - 1 + self.clip_length > n:
            raise KeyError(
                f"clip {cid!r}: frames {start}..{start + self.clip_length - 1} do not fit in {key} "
                f"({n} frames)"
            )
        frames, masks = self._video_arrays(key)
        sl = slice(start - 1, start - 1 + self.clip_length)
        anomalous, _ = self.frame_labels(key)
        return Clip(
            clip_id=clip_id(scene, video, start),
            frames=np.array(frames[sl]),
            mask=None if masks is None else np.array(masks[sl]),
            label=int(anomalous[sl].any()),
        )

    def load_clips(self, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Frames ``uint8 (N, T, H, W)`` and labels ``int64 (N,)`` of several clips (for training)."""
        h, w = self.input_size
        frames = np.empty((len(ids), self.clip_length, h, w), dtype=np.uint8)
        labels = np.empty(len(ids), dtype=np.int64)
        for i, cid in enumerate(ids):
            scene, video, start = parse_clip_id(cid)
            key = f"{scene}/{video}"
            if key not in self._videos:
                raise KeyError(f"clip {cid!r}: no video {key!r} in {self.root}")
            video_frames, _ = self._video_arrays(key)
            sl = slice(start - 1, start - 1 + self.clip_length)
            if start < 1 or sl.stop > video_frames.shape[0]:
                raise KeyError(f"clip {cid!r}: does not fit in {key} ({video_frames.shape[0]} frames)")
            frames[i] = video_frames[sl]
            labels[i] = int(self.frame_labels(key)[0][sl].any())
        return frames, labels

    def __repr__(self) -> str:
        h, w = self.input_size
        return (
            f"PreparedData({str(self.root)!r}: {len(self._videos)} videos, {len(self.clips)} clips, {h}x{w})"
        )
