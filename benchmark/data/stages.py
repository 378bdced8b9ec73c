"""Stage entry points of the data: ``data`` -> ``data.root/UCSD_Anomaly_Dataset.v1p2``; ``prepare`` ->
``data/prepared``; ``split`` -> ``splits/<source>.json``.

Each takes the typed settings (:class:`benchmark.settings.Settings`) and the repository layout
(:class:`benchmark.layout.RepoLayout`, the current directory by default).
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmark.data.archive import fetch_archive
from benchmark.data.prepared import PreparedData, prepare
from benchmark.data.split import Split, make_split
from benchmark.data.synthetic import write_synthetic
from benchmark.layout import RepoLayout
from benchmark.settings import Settings

__all__ = ["obtain", "prepare_stage", "split_stage"]


def obtain(settings: Settings, layout: RepoLayout = RepoLayout()) -> Path:
    """Write the synthetic scene or fetch the UCSD archive into ``data.root``; return the top folder."""
    data = settings.data
    root = layout.raw_data(data.root)
    started = time.perf_counter()
    if data.source == "synthetic":
        cfg = data.synthetic
        top = write_synthetic(
            root,
            seed=cfg.seed,
            height=cfg.height,
            width=cfg.width,
            train_videos=cfg.train_videos,
            test_videos=cfg.test_videos,
            frames_per_video=cfg.frames_per_video,
        )
    else:
        archive = data.ucsd.archive
        if not archive.startswith(("http://", "https://")) and not Path(archive).is_absolute():
            archive = str(layout.root / archive)
        top = fetch_archive(archive, data.ucsd.sha256, root)
    print(f"data: {data.source} data ready in {top} ({time.perf_counter() - started:.1f} s)")
    return top


def prepare_stage(settings: Settings, layout: RepoLayout = RepoLayout()) -> Path:
    """Resize the obtained data to the active profile's grid and write ``data/prepared``."""
    data = settings.data
    size = settings.profile.input
    out = layout.prepared
    started = time.perf_counter()
    prepare(
        layout.raw_data(data.root),
        out,
        size=size,
        clip_length=settings.clips.length,
        stride=settings.clips.stride,
        scenes=list(data.ucsd.scenes) if data.source == "ucsd" else None,
        progress=print,
    )
    print(f"prepare: {out} at {size[0]}x{size[1]} ({time.perf_counter() - started:.1f} s)")
    return out


def split_stage(settings: Settings, layout: RepoLayout = RepoLayout()) -> Split:
    """Read (and check) or draw once ``splits/<source>.json``."""
    path = layout.split(settings.data.source)
    existed = path.exists()
    split = make_split(
        PreparedData(layout.prepared),
        path,
        source=settings.data.source,
        seed=settings.split.seed,
        train_fraction=settings.split.train_fraction,
        eval_seed=settings.split.eval_seed,
        n_eval=settings.split.eval_clips,
    )
    verb = "checked" if existed else "drew"
    print(
        f"split: {verb} {path} (split_id {split.split_id}: {len(split.train_videos)} training videos, "
        f"{len(split.test_videos)} held out, {len(split.eval_clips)} evaluation clips)"
    )
    return split
