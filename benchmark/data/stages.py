"""Stage entry points the CLI calls with the loaded ``params.yaml``.

``obtain`` -> ``data.root/UCSD_Anomaly_Dataset.v1p2``; ``prepare_stage`` -> ``data/prepared``;
``split_stage`` -> ``splits/<source>.json``. Relative paths resolve against ``base`` (the
repository root, the current directory by default).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmark.config import active_profile, get
from benchmark.data.archive import fetch_archive
from benchmark.data.errors import DataError
from benchmark.data.prepared import PreparedData, prepare
from benchmark.data.split import Split, make_split
from benchmark.data.synthetic import write_synthetic

PREPARED_DIR = Path("data/prepared")
SPLITS_DIR = Path("splits")
SOURCES: tuple[str, str] = ("synthetic", "ucsd")


def _source(params: Mapping[str, Any]) -> str:
    source = str(get(params, "data.source"))
    if source not in SOURCES:
        raise DataError(f"params.yaml: data.source = {source!r}; use one of {list(SOURCES)}.")
    return source


def obtain(params: Mapping[str, Any], *, base: Path = Path(".")) -> Path:
    """Write the synthetic scene or fetch the UCSD archive into ``data.root``; return the top folder."""
    source = _source(params)
    root = Path(base) / str(get(params, "data.root"))
    started = time.perf_counter()
    if source == "synthetic":
        cfg = get(params, "data.synthetic")
        top = write_synthetic(
            root,
            seed=int(cfg["seed"]),
            height=int(cfg["height"]),
            width=int(cfg["width"]),
            train_videos=int(cfg["train_videos"]),
            test_videos=int(cfg["test_videos"]),
            frames_per_video=int(cfg["frames_per_video"]),
        )
    else:
        archive = str(get(params, "data.ucsd.archive"))
        if not archive.startswith(("http://", "https://")) and not Path(archive).is_absolute():
            archive = str(Path(base) / archive)
        sha = get(params, "data.ucsd.sha256")
        top = fetch_archive(archive, str(sha) if sha else None, root)
    print(f"data: {source} data ready in {top} ({time.perf_counter() - started:.1f} s)")
    return top


def prepare_stage(params: Mapping[str, Any], *, base: Path = Path(".")) -> Path:
    """Resize the obtained data to the active profile's grid and write ``data/prepared``."""
    source = _source(params)
    size = active_profile(params).input
    scenes = list(get(params, "data.ucsd.scenes")) if source == "ucsd" else None
    out = Path(base) / PREPARED_DIR
    started = time.perf_counter()
    prepare(
        Path(base) / str(get(params, "data.root")),
        out,
        size=size,
        clip_length=int(get(params, "clips.length")),
        stride=int(get(params, "clips.stride")),
        scenes=scenes,
        progress=print,
    )
    print(f"prepare: {out} at {size[0]}x{size[1]} ({time.perf_counter() - started:.1f} s)")
    return out


def split_stage(params: Mapping[str, Any], *, base: Path = Path(".")) -> Split:
    """Read (and check) or draw once ``splits/<source>.json``."""
    source = _source(params)
    path = Path(base) / SPLITS_DIR / f"{source}.json"
    existed = path.exists()
    split = make_split(
        PreparedData(Path(base) / PREPARED_DIR),
        path,
        source=source,
        seed=int(get(params, "split.seed")),
        train_fraction=float(get(params, "split.train_fraction")),
        eval_seed=int(get(params, "split.eval_seed")),
        n_eval=int(get(params, "split.eval_clips")),
    )
    verb = "checked" if existed else "drew"
    print(
        f"split: {verb} {path} (split_id {split.split_id}: {len(split.train_videos)} training videos, "
        f"{len(split.test_videos)} held out, {len(split.eval_clips)} evaluation clips)"
    )
    return split
