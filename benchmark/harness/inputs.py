"""What an evaluation or a sanity check starts from: the fixed evaluation clips, the checkpoint, the device.

:func:`load_eval_set` reads the split's evaluation clips from ``data/prepared`` once per process;
:func:`prepare_run` checks a submission exists, fixes the thread count, loads the checkpoint and checks that
it was trained on the grid the clips are on. Problems of the benchmark's own inputs raise, naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark.data.prepared import PreparedData
from benchmark.data.split import load_split
from benchmark.data.transforms import to_model_input
from benchmark.explain.contract import META_FILE
from benchmark.layout import RepoLayout
from benchmark.metrics import make_baseline
from benchmark.model.checkpoint import load_checkpoint
from benchmark.settings import Settings

__all__ = ["EvalSet", "RunInputs", "load_eval_set", "pick_device", "prepare_run"]


@dataclass(frozen=True)
class EvalSet:
    """The fixed evaluation clips, loaded once.

    Attributes:
        clip_ids: ``N`` clip ids in split order.
        meta: per clip ``{clip_id, scene, video, start}``.
        frames: uint8 ``(N, T, H, W)``.
        masks: bool ``(N, T, H, W)``.
        clips: float32 ``(N, 3, T, H, W)`` model inputs.
        baselines: float32 ``(N, 3, T, H, W)``.
    """

    clip_ids: tuple[str, ...]
    meta: tuple[dict[str, Any], ...]
    frames: np.ndarray
    masks: np.ndarray
    clips: torch.Tensor
    baselines: torch.Tensor


def load_eval_set(settings: Settings, layout: RepoLayout) -> EvalSet:
    """The split's evaluation clips from ``data/prepared``, with their masks and baselines."""
    split_path = layout.split(settings.data.source)
    prepared = PreparedData(layout.prepared)
    split = load_split(split_path)
    metas = [_clip_meta(c) for c in split.eval_clips]
    loaded = [prepared.load_clip(m["clip_id"]) for m in metas]
    for c in loaded:
        if c.mask is None or not c.mask.any():
            raise ValueError(f"{split_path}: evaluation clip {c.clip_id} has no pixel mask; "
                             "the split file does not match data/prepared (re-run `dvc repro`).")
    frames = np.stack([c.frames for c in loaded])
    masks = np.stack([c.mask for c in loaded]).astype(bool)
    clips = to_model_input(frames).contiguous()
    baselines = make_baseline(settings.evaluate.baseline, clips).contiguous()
    return EvalSet(tuple(m["clip_id"] for m in metas), tuple(metas), frames, masks, clips, baselines)


def _clip_meta(c: Any) -> dict[str, Any]:
    if isinstance(c, Mapping):
        return {k: c[k] for k in ("clip_id", "scene", "video", "start")}
    return {k: getattr(c, k) for k in ("clip_id", "scene", "video", "start")}


def pick_device() -> str:
    """``cuda`` when a GPU is present, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class RunInputs:
    """What an evaluation or a sanity check of one submission starts from (see :func:`prepare_run`).

    ``workers`` is ``evaluate.workers`` on a CPU and 1 on a GPU (the workers would share it).
    """

    folder: Path
    device: str
    workers: int
    net: torch.nn.Module
    ckpt_meta: dict[str, Any]
    eval_set: EvalSet


def prepare_run(name: str, settings: Settings, layout: RepoLayout, eval_set: EvalSet | None = None) -> RunInputs:
    """Check the submission exists, fix the threads, load the checkpoint and the clips, check they match.

    Raises for problems of the benchmark's own inputs (a missing submission folder, a checkpoint trained
    for another grid), naming the file.
    """
    folder = layout.submission(name)
    if not (folder / META_FILE).is_file():
        raise FileNotFoundError(f"{folder}/{META_FILE}: no such submission (see `benchmark list`).")
    torch.set_num_threads(settings.evaluate.threads)
    device = pick_device()
    net, ckpt_meta = load_checkpoint(layout.checkpoint)
    es = eval_set or load_eval_set(settings, layout)
    if tuple(ckpt_meta["input_size"]) != tuple(es.clips.shape[-2:]):
        raise ValueError(f"{layout.checkpoint}: trained for input {ckpt_meta['input_size']}, but data/prepared "
                         f"holds {tuple(es.clips.shape[-2:])}; re-run `dvc repro` so both use the same profile.")
    workers = 1 if device != "cpu" else settings.evaluate.workers
    return RunInputs(folder, device, workers, net, ckpt_meta, es)
