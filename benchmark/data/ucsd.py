"""Reader of the official UCSD Anomaly Detection layout.

::

    UCSD_Anomaly_Dataset.v1p2/
      UCSDped2/
        Train/Train001/001.tif ...           frames (.tif officially; .jpg/.png copies accepted)
        Test/Test001/001.tif ...
        Test/Test001_gt/001.bmp ...          pixel masks, 0/255 (or frame001.bmp ...)
        Test/UCSDped2.m                      frame labels, one entry per test video

:func:`read_layout` lists the videos (no pixels are read); :func:`load_frames` and
:func:`load_masks` read one video, resized to the model grid. A scene with labels or masks but no
frames (Ped1 in the staged copy) is reported in ``Layout.notes`` and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from benchmark.data.errors import DataError
from benchmark.data.labels import parse_gt_file

TOP = "UCSD_Anomaly_Dataset.v1p2"
"""Name of the archive's top folder."""
SPLITS: tuple[str, str] = ("Train", "Test")
FRAME_EXTENSIONS: tuple[str, ...] = (".tif", ".tiff", ".jpg", ".jpeg", ".png")
MASK_EXTENSIONS: tuple[str, ...] = (".bmp", ".png", ".tif")
_NUMBERED = re.compile(r"^(?:frame)?(\d+)$", re.IGNORECASE)
_GRAY_MODES = ("L", "P", "RGB", "RGBA", "LA", "1")


@dataclass(frozen=True)
class Video:
    """One video folder of the layout.

    Attributes:
        scene: ``UCSDped1`` or ``UCSDped2``.
        split: ``Train`` or ``Test``, as in the archive.
        name: the folder name, e.g. ``Test001``.
        frame_paths: the ``T`` frames, in order (frame ``i`` is ``frame_paths[i - 1]``).
        mask_paths: the ``T`` pixel masks, or ``None`` when the video has no ``<name>_gt`` folder.
        anomalous_frames: 1-based anomalous frame numbers from the ``.m`` file; ``None`` when the
            file has no entry for the video (and for ``Train`` videos: they are normal).
    """

    scene: str
    split: str
    name: str
    frame_paths: tuple[Path, ...]
    mask_paths: tuple[Path, ...] | None
    anomalous_frames: frozenset[int] | None

    @property
    def key(self) -> str:
        """``"<scene>/<name>"``, the video's id in clip ids and split files."""
        return f"{self.scene}/{self.name}"

    @property
    def n_frames(self) -> int:
        return len(self.frame_paths)

    @property
    def has_masks(self) -> bool:
        return self.mask_paths is not None


@dataclass(frozen=True)
class Layout:
    """The videos found under one ``UCSD_Anomaly_Dataset.v1p2`` folder.

    Attributes:
        root: the ``UCSD_Anomaly_Dataset.v1p2`` folder.
        videos: every usable video, sorted by scene, split and name.
        notes: human-readable remarks (skipped scenes, videos without labels, ...).
        label_files: the ``.m`` files that were read.
    """

    root: Path
    videos: tuple[Video, ...]
    notes: tuple[str, ...]
    label_files: tuple[Path, ...] = ()

    @property
    def scenes(self) -> tuple[str, ...]:
        return tuple(sorted({v.scene for v in self.videos}))

    def video(self, key: str) -> Video:
        """The video ``"<scene>/<name>"``."""
        for v in self.videos:
            if v.key == key:
                return v
        raise KeyError(f"no video {key!r} in {self.root}")


def find_top(root: Path) -> Path:
    """``root`` itself when it is the ``UCSD_Anomaly_Dataset.v1p2`` folder, else ``root / TOP``."""
    root = Path(root)
    if root.name == TOP and root.is_dir():
        return root
    if (root / TOP).is_dir():
        return root / TOP
    raise DataError(
        f"{root}: no '{TOP}' folder. Run the data stage first (`benchmark data`), or point "
        "data.root at the folder that holds the extracted archive."
    )


def read_layout(root: Path, scenes: Sequence[str] | None = None) -> Layout:
    """List the videos of the official layout under ``root`` (no pixels are read).

    Args:
        root: the ``UCSD_Anomaly_Dataset.v1p2`` folder or the folder holding it.
        scenes: scene folders to read (default: every ``UCSDped*`` folder present).

    Returns:
        The :class:`Layout`.

    Raises:
        DataError: frames not numbered ``1..T``, a mask folder whose count differs from the frame
            count, a ``.m`` file naming more videos or frames than exist, or no usable video at all.
    """
    top = find_top(root)
    present = sorted(p.name for p in top.iterdir() if p.is_dir() and p.name.startswith("UCSDped"))
    wanted = list(present) if scenes is None else list(scenes)
    notes: list[str] = []
    videos: list[Video] = []
    label_files: list[Path] = []
    for scene in wanted:
        if scene not in present:
            notes.append(f"{scene}: no folder {top / scene}: skipped")
            continue
        scene_videos, scene_notes, label_file = _read_scene(top / scene, scene)
        videos.extend(scene_videos)
        notes.extend(scene_notes)
        if label_file is not None and scene_videos:
            label_files.append(label_file)
    if not videos:
        raise DataError(
            f"{top}: no video with frames in scenes {wanted} ({'; '.join(notes) or 'nothing found'}). "
            "Check data.root and data.ucsd.scenes."
        )
    return Layout(root=top, videos=tuple(videos), notes=tuple(notes), label_files=tuple(label_files))


def _numbered_files(folder: Path, extensions: Iterable[str]) -> list[tuple[int, Path]]:
    exts = tuple(extensions)
    found: dict[int, Path] = {}
    for path in folder.iterdir():
        if path.name.startswith(".") or not path.is_file() or path.suffix.lower() not in exts:
            continue
        match = _NUMBERED.match(path.stem)
        if match is None:
            continue
        number = int(match.group(1))
        if number in found:
            raise DataError(
                f"{folder}: two files for frame {number} ({found[number].name}, {path.name}); keep one."
            )
        found[number] = path
    return sorted(found.items())


def _sequence(folder: Path, extensions: Iterable[str], what: str) -> tuple[Path, ...]:
    items = _numbered_files(folder, extensions)
    numbers = [n for n, _ in items]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        raise DataError(
            f"{folder}: {what} must be numbered 1..T without gaps (001.{items[0][1].suffix[1:]} is frame 1); "
            f"found {numbers[0]}..{numbers[-1]} with {len(numbers)} files"
            + (f", missing {missing[:5]}" if missing else "")
            + ". Rename or restore the files."
        )
    return tuple(p for _, p in items)


def _read_scene(scene_dir: Path, scene: str) -> tuple[list[Video], list[str], Path | None]:
    notes: list[str] = []
    frames: dict[tuple[str, str], tuple[Path, ...]] = {}
    masks: dict[str, tuple[Path, ...]] = {}
    for split in SPLITS:
        split_dir = scene_dir / split
        if not split_dir.is_dir():
            continue
        video_re = re.compile(rf"^{split}(\d{{3}})$")
        gt_re = re.compile(r"^(Test\d{3})_gt$")
        for sub in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            if video_re.match(sub.name):
                seq = _sequence(sub, FRAME_EXTENSIONS, "frames")
                if seq:
                    frames[(split, sub.name)] = seq
                else:
                    notes.append(f"{scene}/{split}/{sub.name}: no frames: skipped")
            elif split == "Test" and (gt := gt_re.match(sub.name)):
                seq = _sequence(sub, MASK_EXTENSIONS, "masks")
                if not seq:
                    raise DataError(
                        f"{sub}: mask folder holds no .bmp masks. Restore its masks from the archive "
                        "or delete the empty folder."
                    )
                masks[gt.group(1)] = seq
    label_file = scene_dir / "Test" / f"{scene}.m"
    labels = parse_gt_file(label_file) if label_file.is_file() else None

    if not frames:
        n_labels = len(labels) if labels is not None else 0
        notes.append(
            f"{scene}: labels for {n_labels} test videos and masks for {len(masks)}, but no frames: skipped"
        )
        return [], notes, label_file if labels is not None else None

    test_names = sorted(name for split, name in frames if split == "Test")
    if labels is not None:
        for k, anomalous in enumerate(labels, start=1):
            name = f"Test{k:03d}"
            if ("Test", name) not in frames:
                raise DataError(
                    f"{label_file}: entry {k} names {scene}/Test/{name}, which has no frames "
                    f"(test videos with frames: {test_names}). Restore the video or fix the label file."
                )
            n = len(frames[("Test", name)])
            if anomalous and max(anomalous) > n:
                raise DataError(
                    f"{label_file}: entry {k} names frame {max(anomalous)} of {name}, which has {n} frames. "
                    "The labels do not belong to these frames: fix the label file or the frames."
                )
        unlabeled = test_names[len(labels) :]
        if unlabeled:
            notes.append(f"{scene}: {label_file.name} has no entry for {unlabeled}: no frame labels")
    elif test_names:
        notes.append(f"{scene}: no {label_file.name}: frame labels come from the masks only")

    for name, seq in sorted(masks.items()):
        if ("Test", name) not in frames:
            notes.append(f"{scene}/Test/{name}_gt: masks but no frames: skipped")
            continue
        n = len(frames[("Test", name)])
        if len(seq) != n:
            raise DataError(
                f"{scene_dir / 'Test' / (name + '_gt')}: {len(seq)} masks for {n} frames of {name}. "
                "Every frame needs one mask: restore the missing masks or frames."
            )

    videos = []
    for (split, name), seq in sorted(frames.items()):
        anomalous: frozenset[int] | None = None
        if split == "Train":
            anomalous = frozenset()
        elif labels is not None and int(name[4:]) <= len(labels):
            anomalous = labels[int(name[4:]) - 1]
        videos.append(
            Video(
                scene=scene,
                split=split,
                name=name,
                frame_paths=seq,
                mask_paths=masks.get(name) if split == "Test" else None,
                anomalous_frames=anomalous,
            )
        )
    return videos, notes, label_file if labels is not None else None


# ----------------------------------------------------------------------------------- pixels


def _open_gray(path: Path, what: str) -> Image.Image:
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in _GRAY_MODES:
                raise DataError(
                    f"{path}: unsupported {what} image mode {im.mode!r}; expected 8-bit gray or RGB."
                )
            return im.convert("L") if im.mode != "L" else im.copy()
    except DataError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"{path}: unreadable or truncated {what} ({exc}). Restore the file from the archive."
        ) from exc


def _check_size(size: tuple[int, int] | None) -> None:
    if size is not None and (len(size) != 2 or min(int(s) for s in size) < 1):
        raise ValueError(f"size must be (H, W) with positive entries, got {size!r}")


def load_frames(video: Video, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a video's frames as grayscale.

    RGB copies (``R = G = B``, such as the JPEG frames of the staged archive) are converted to
    gray. Frames are resized with area averaging (PIL ``BOX``) when the grid is smaller, bilinear
    when larger.

    Args:
        video: the video.
        size: the grid ``(H, W)``; ``None`` keeps the stored size.

    Returns:
        ``uint8`` array ``(T, H, W)``.

    Raises:
        DataError: an unreadable or truncated frame, or frames of different sizes (naming the file).
    """
    _check_size(size)
    out: list[np.ndarray] = []
    first: tuple[int, int] | None = None
    for path in video.frame_paths:
        im = _open_gray(path, "frame")
        if first is None:
            first = im.size
        elif im.size != first:
            raise DataError(
                f"{path}: frame is {im.size[1]}x{im.size[0]} (HxW) but the first frame of {video.key} "
                f"is {first[1]}x{first[0]}. All frames of a video must have one size."
            )
        if size is not None and (im.size[1], im.size[0]) != tuple(size):
            h, w = int(size[0]), int(size[1])
            shrinking = h <= im.size[1] and w <= im.size[0]
            im = im.resize((w, h), Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)
        out.append(np.asarray(im, dtype=np.uint8))
    return np.stack(out)


def load_masks(video: Video, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a video's pixel masks (a pixel is anomalous where the mask is non-zero).

    Args:
        video: a video with ``mask_paths``.
        size: the grid ``(H, W)``; masks are resized with nearest-neighbour sampling.

    Returns:
        ``bool`` array ``(T, H, W)``.

    Raises:
        DataError: the video has no masks, a mask is unreadable, or masks differ in size.
    """
    return load_masks_and_nonempty(video, size)[0]


def load_masks_and_nonempty(video: Video, size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Masks ``(T, H, W)`` at ``size`` (as :func:`load_masks`) and, per frame, bool ``(T,)``: whether the
    stored (full-size) mask is non-empty, which a mask resized to a small grid may no longer show."""
    _check_size(size)
    if video.mask_paths is None:
        raise DataError(f"{video.key}: no pixel masks (no folder {video.name}_gt beside the video).")
    out: list[np.ndarray] = []
    nonempty = np.zeros(len(video.mask_paths), dtype=bool)
    first: tuple[int, int] | None = None
    for i, path in enumerate(video.mask_paths):
        im = _open_gray(path, "mask")
        if first is None:
            first = im.size
        elif im.size != first:
            raise DataError(
                f"{path}: mask is {im.size[1]}x{im.size[0]} (HxW) but {video.mask_paths[0].name} is "
                f"{first[1]}x{first[0]}. All masks of a video must have one size."
            )
        full = np.asarray(im, dtype=np.uint8)
        nonempty[i] = bool(full.any())
        if size is not None and full.shape != tuple(size):
            im = im.resize((int(size[1]), int(size[0])), Image.Resampling.NEAREST)
            full = np.asarray(im, dtype=np.uint8)
        out.append(full > 0)
    return np.stack(out), nonempty
