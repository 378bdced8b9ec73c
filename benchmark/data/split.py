"""The fixed split: videos for training vs held out, and the evaluation clips.

* All ``Train`` videos (normal only) train the classifier. The ``Test`` videos of each scene are
  shuffled with ``seed`` and ``round(train_fraction * n)`` of them also go to training (so the
  classifier sees anomalies); the rest are held out. Videos, not clips, are split.
* The evaluation clips are ``n_eval`` anomalous clips (at least one frame with a non-empty pixel
  mask) drawn with ``eval_seed`` from the held-out videos that have masks, among non-overlapping
  windows (starts ``1, 1 + L, 1 + 2L, ...``), so no two evaluation clips share a frame.

The split is written once to a JSON file (committed under ``splits/``) whose content hash is its
``split_id``; afterwards it is only read and checked, never re-drawn implicitly.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.data._fs import write_text_atomic
from benchmark.data.errors import DataError
from benchmark.data.prepared import PreparedData, clip_id, parse_clip_id

FORMAT_VERSION = 1


@dataclass(frozen=True)
class EvalClip:
    """One evaluation clip: ``start`` is its 1-based first frame."""

    clip_id: str
    scene: str
    video: str
    start: int


@dataclass(frozen=True)
class Split:
    """The content of a split file.

    Attributes:
        source: ``synthetic`` or ``ucsd``.
        seed, train_fraction: the video-level split.
        eval_seed: the draw of the evaluation clips.
        clip_length: frames per clip.
        train_videos: ``"<scene>/<video>"`` keys used for training (all ``Train`` videos too).
        test_videos: held-out ``Test`` video keys.
        eval_clips: the evaluation clips, sorted by clip id.
        split_id: 16 hex digits of the SHA-256 of the content above.
    """

    source: str
    seed: int
    train_fraction: float
    eval_seed: int
    clip_length: int
    train_videos: tuple[str, ...]
    test_videos: tuple[str, ...]
    eval_clips: tuple[EvalClip, ...]
    split_id: str

    @property
    def eval_clip_ids(self) -> list[str]:
        return [c.clip_id for c in self.eval_clips]

    def train_clip_ids(self, prepared: PreparedData) -> list[str]:
        """Clip ids of ``prepared.clips`` that belong to training videos."""
        return _clips_of(prepared, set(self.train_videos))

    def test_clip_ids(self, prepared: PreparedData) -> list[str]:
        """Clip ids of ``prepared.clips`` that belong to held-out videos."""
        return _clips_of(prepared, set(self.test_videos))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written to the split file."""
        body = _body(
            self.source,
            self.seed,
            self.train_fraction,
            self.eval_seed,
            self.clip_length,
            self.train_videos,
            self.test_videos,
            self.eval_clips,
        )
        return {"split_id": self.split_id, **body}


def _clips_of(prepared: PreparedData, keys: set[str]) -> list[str]:
    clips = prepared.clips
    mask = (clips["scene"] + "/" + clips["video"]).isin(keys)
    return clips.loc[mask, "clip_id"].tolist()


def _body(
    source: str,
    seed: int,
    train_fraction: float,
    eval_seed: int,
    clip_length: int,
    train_videos: tuple[str, ...],
    test_videos: tuple[str, ...],
    eval_clips: tuple[EvalClip, ...],
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "source": source,
        "seed": int(seed),
        "train_fraction": float(train_fraction),
        "eval_seed": int(eval_seed),
        "n_eval": len(eval_clips),
        "clip_length": int(clip_length),
        "train_videos": list(train_videos),
        "test_videos": list(test_videos),
        "eval_clips": [asdict(c) for c in eval_clips],
    }


def _split_id(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def eval_candidates(prepared: PreparedData, test_videos: list[str] | tuple[str, ...]) -> list[EvalClip]:
    """Non-overlapping windows (starts ``1, 1 + L, ...``) of the given videos with pixel masks that
    hold at least one frame with a non-empty mask, sorted by clip id."""
    length = prepared.clip_length
    out: list[EvalClip] = []
    for key in sorted(test_videos):
        info = prepared.video_info(key)
        if not info["has_mask"]:
            continue
        _, mask_nonempty = prepared.frame_labels(key)
        scene, video = key.split("/", 1)
        for start in range(1, int(info["n_frames"]) - length + 2, length):
            if mask_nonempty[start - 1 : start - 1 + length].any():
                out.append(EvalClip(clip_id(scene, video, start), scene, video, start))
    return sorted(out, key=lambda c: c.clip_id)


def make_split(
    prepared: PreparedData,
    path: Path,
    *,
    source: str,
    seed: int,
    train_fraction: float,
    eval_seed: int,
    n_eval: int,
) -> Split:
    """Read the split at ``path`` (checked against ``prepared`` and the arguments), or draw and write it.

    Args:
        prepared: the prepared clips (any grid: the split does not depend on it).
        path: the split file (``splits/<source>.json``).
        source: ``synthetic`` or ``ucsd``.
        seed: seed of the video-level split.
        train_fraction: fraction of each scene's ``Test`` videos used for training, in ``[0, 1)``.
        eval_seed: seed of the draw of the evaluation clips.
        n_eval: number of evaluation clips (40 in the paper).

    Returns:
        The :class:`Split`.

    Raises:
        DataError: too few candidate evaluation clips (saying how many exist and what to change), or
            an existing file that disagrees with the arguments or the prepared data (saying to delete
            it deliberately to re-draw).
    """
    path = Path(path)
    if not 0.0 <= train_fraction < 1.0:
        raise ValueError(
            f"train_fraction = {train_fraction}: must be in [0, 1) (some Test videos are held out)."
        )
    if n_eval < 1:
        raise ValueError(f"n_eval = {n_eval}: must be >= 1.")
    if path.exists():
        split = load_split(path)
        wanted = {
            "source": source,
            "seed": seed,
            "train_fraction": float(train_fraction),
            "eval_seed": eval_seed,
            "n_eval": n_eval,
        }
        found = {
            "source": split.source,
            "seed": split.seed,
            "train_fraction": split.train_fraction,
            "eval_seed": split.eval_seed,
            "n_eval": len(split.eval_clips),
        }
        diff = [f"{k}: file {found[k]!r} vs params {wanted[k]!r}" for k in wanted if found[k] != wanted[k]]
        if diff:
            raise DataError(
                f"{path}: the committed split was drawn with other settings ({'; '.join(diff)}). It is never "
                f"re-drawn implicitly: restore the params, or delete {path} deliberately to re-draw it "
                "(this changes the evaluation clips and every result)."
            )
        validate_split(split, prepared, path)
        return split

    rng = np.random.default_rng(seed)
    train_videos = list(prepared.video_keys("Train"))
    test_videos: list[str] = []
    tests = prepared.video_keys("Test")
    for scene in sorted({k.split("/", 1)[0] for k in tests}):
        keys = sorted(k for k in tests if k.startswith(scene + "/"))
        order = [keys[i] for i in rng.permutation(len(keys))]
        n_train = min(int(math.floor(train_fraction * len(keys) + 0.5)), len(keys) - 1)
        train_videos += order[:n_train]
        test_videos += order[n_train:]
    candidates = eval_candidates(prepared, test_videos)
    if len(candidates) < n_eval:
        masked = ", ".join(k for k in test_videos if prepared.video_info(k)["has_mask"]) or "none"
        raise DataError(
            f"{path}: only {len(candidates)} non-overlapping anomalous {prepared.clip_length}-frame clips "
            f"exist in the held-out test videos with pixel masks ({masked}); "
            f"{n_eval} are needed. Lower split.eval_clips or split.train_fraction, or use more or longer "
            "test videos (data.synthetic.test_videos / frames_per_video)."
        )
    chosen = np.sort(np.random.default_rng(eval_seed).choice(len(candidates), size=n_eval, replace=False))
    eval_clips = tuple(candidates[i] for i in chosen)
    body = _body(
        source,
        seed,
        train_fraction,
        eval_seed,
        prepared.clip_length,
        tuple(sorted(train_videos)),
        tuple(sorted(test_videos)),
        eval_clips,
    )
    split = _from_dict(body | {"split_id": _split_id(body)}, path)
    write_text_atomic(path, json.dumps(split.to_dict(), indent=2) + "\n")
    return split


def load_split(path: Path) -> Split:
    """Read a split file; a file whose content does not match its ``split_id`` is an error."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: split file not found. Run the split stage (`benchmark split`) to draw it once."
        )
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}). Restore it with git.") from exc
    split = _from_dict(doc, path)
    expected = _split_id({k: v for k, v in doc.items() if k != "split_id"})
    if split.split_id != expected:
        raise DataError(
            f"{path}: split_id {split.split_id} does not match its content ({expected}): the file was "
            "edited. Restore it with git, or delete it deliberately to re-draw."
        )
    return split


def _from_dict(doc: dict[str, Any], path: Path) -> Split:
    try:
        if doc["format_version"] != FORMAT_VERSION:
            raise DataError(f"{path}: format_version {doc['format_version']} (expected {FORMAT_VERSION}).")
        clips = tuple(
            EvalClip(str(c["clip_id"]), str(c["scene"]), str(c["video"]), int(c["start"]))
            for c in doc["eval_clips"]
        )
        if len(clips) != doc["n_eval"]:
            raise DataError(f"{path}: n_eval {doc['n_eval']} but {len(clips)} eval_clips listed.")
        return Split(
            source=str(doc["source"]),
            seed=int(doc["seed"]),
            train_fraction=float(doc["train_fraction"]),
            eval_seed=int(doc["eval_seed"]),
            clip_length=int(doc["clip_length"]),
            train_videos=tuple(str(v) for v in doc["train_videos"]),
            test_videos=tuple(str(v) for v in doc["test_videos"]),
            eval_clips=clips,
            split_id=str(doc["split_id"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"{path}: malformed split file ({type(exc).__name__}: {exc}). Restore it with git."
        ) from exc


def validate_split(split: Split, prepared: PreparedData, path: Path | str = "split") -> None:
    """Check that ``split`` fits ``prepared``: the same videos, and every evaluation clip exists,
    is anomalous with a non-empty mask, and is held out.

    Raises:
        DataError: naming the first problems and saying to delete the file deliberately to re-draw.
    """
    problems: list[str] = []
    if split.clip_length != prepared.clip_length:
        problems.append(f"clip length {split.clip_length} vs prepared {prepared.clip_length}")
    known = set(prepared.video_keys())
    listed = set(split.train_videos) | set(split.test_videos)
    if set(split.train_videos) & set(split.test_videos):
        problems.append(
            f"videos both trained on and held out: {sorted(set(split.train_videos) & set(split.test_videos))}"
        )
    if listed - known:
        problems.append(f"videos missing from the prepared data: {sorted(listed - known)[:5]}")
    if known - listed:
        problems.append(f"prepared videos the split does not know: {sorted(known - listed)[:5]}")
    held_out = set(split.test_videos)
    for c in split.eval_clips:
        key = f"{c.scene}/{c.video}"
        try:
            parsed = parse_clip_id(c.clip_id)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if parsed != (c.scene, c.video, c.start):
            problems.append(f"{c.clip_id}: id disagrees with scene/video/start {c.scene}/{c.video}/{c.start}")
        elif key not in held_out:
            problems.append(f"{c.clip_id}: not in a held-out video")
        elif key not in known:
            continue
        elif not prepared.video_info(key)["has_mask"]:
            problems.append(f"{c.clip_id}: video has no pixel masks")
        elif c.start < 1 or c.start - 1 + split.clip_length > int(prepared.video_info(key)["n_frames"]):
            problems.append(f"{c.clip_id}: does not fit in the video")
        elif not prepared.frame_labels(key)[1][c.start - 1 : c.start - 1 + split.clip_length].any():
            problems.append(f"{c.clip_id}: no frame with a non-empty mask")
    if problems:
        raise DataError(
            f"{path}: the split does not match the prepared data ({prepared.root}): {'; '.join(problems[:5])}"
            + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
            + f". It is never re-drawn implicitly: fix the data, or delete {path} deliberately to re-draw it."
        )
