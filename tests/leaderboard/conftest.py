"""Fake but schema-valid ``results/`` folders for the leaderboard tests (no model is run).

``make_result(root, name, ...)`` writes one ``results/<name>/`` exactly as :mod:`benchmark.harness.evaluate`
does (metrics.json, per_clip.csv, curves.json, gallery/ with tiny PNGs; optionally the per-seed figures, the
curves' voxel fractions and the gallery's raw arrays); ``fake_results`` builds a small board: three ranked
submissions (one with a hostile display name) and a failed one; ``board_results`` a fuller one with the
paper's baselines, an added method, a stochastic method scored with 3 seeds and the random control.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.atomic import atomic_write_json as write_json
from benchmark.results import (
    COST_COLUMNS,
    CURVES_FILE,
    GALLERY_DIR,
    METRICS_FILE,
    PER_CLIP_COLUMNS,
    PER_CLIP_FILE,
    SCHEMA_VERSION,
    SCORE_COLUMNS,
    SEED_MEAN_FILE,
)
from benchmark.results.plot_files import fraction_grid

N_CLIPS = 8
HOSTILE = "<script>alert(1)</script>"
PROVENANCE: dict[str, Any] = {
    "benchmark_version": "0.1.0",
    "git_commit": "0123abcd",
    "profile": "default",
    "input": [48, 72],
    "model_width": 0.25,
    "data_source": "synthetic",
    "data_hash": "d" * 64,
    "checkpoint_hash": "c" * 64,
    "checkpoint_meta": {"epochs": 12},
    "split_id": "split-0",
    "baseline": "blur",
    "evaluate_seed": 0,
    "n_thresholds": 50,
    "hardware": {"device": "cpu", "threads": 2, "cpus": 2},
    "packages": {"torch": "2.13.0", "captum": "0.9.0"},
}


def clip_ids(n: int = N_CLIPS) -> list[str]:
    return [f"UCSDped2/Test{v:03d}/{s:03d}" for v, s in zip(range(1, n + 1), range(0, 10 * n, 10))]


def _png(path: Path, seed: int, size: tuple[int, int] = (36, 24)) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def write_result(
    root: Path,
    name: str,
    *,
    scores: Mapping[str, Any] | None = None,
    level: float = 0.0,
    seed: int = 0,
    status: str = "ok",
    meta: Mapping[str, Any] | None = None,
    failure: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    gallery: int = 2,
    n_clips: int = N_CLIPS,
    runtime: float = 1.0,
    seeds: int = 1,
    seed_mean_file: bool = False,
    fractions: bool = False,
    raw: bool = False,
    video_of: Callable[[int], int] | None = None,
) -> Path:
    """Write ``root/name`` like the harness does.

    Per-clip score ``k`` of clip ``i`` is ``0.5 + level + noise`` unless ``scores[k]`` gives the ``(n,)``
    values; costs are ``runtime`` seconds (with noise) and fixed pass counts. With ``seeds > 1`` the result
    is stochastic: ``seeds.means`` holds each seed's clip mean (seed ``k`` adds ``0.01 * k``), and with
    ``seed_mean_file`` also ``seeds.mean`` and ``per_clip_seed_mean.csv``. ``fractions``: the curves record
    the fraction of voxels of each point; ``raw``: the gallery entries carry their raw ``.npz``.
    ``video_of(i)``: the video number of clip ``i`` (default: one video per clip).
    """
    folder = root / name
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "submission": name,
        "display_name": name.replace("_", " ").title(),
        "family": "gradient",
        "authors": ["A. Author"],
        "description": f"The {name} explainer.",
        "url": "https://example.org/method",
        "params": {"steps": 30, "baseline": "blur"},
        "status": status,
        "failure": None,
        "n_clips": 0,
        "metrics": {},
        "cost": {},
        "degenerate_clips": 0,
        "provenance": {**PROVENANCE, **(provenance or {})},
    }
    summary.update(meta or {})
    if status != "ok":
        summary["failure"] = dict(
            failure
            or {
                "clip_id": clip_ids()[0],
                "kind": "exception",
                "message": "RuntimeError: boom",
                "traceback": "Traceback ...",
            }
        )
        write_json(folder / METRICS_FILE, summary)
        return folder
    ids = clip_ids(n_clips)
    videos = [video_of(i) if video_of else i + 1 for i in range(n_clips)]
    if video_of:
        ids = [f"UCSDped2/Test{v:03d}/{10 * i:03d}" for i, v in enumerate(videos)]
    data: dict[str, Any] = {
        "clip_id": ids,
        "scene": ["UCSDped2"] * n_clips,
        "video": [f"Test{v:03d}" for v in videos],
        "start": [10 * i for i in range(n_clips)],
    }
    for k in SCORE_COLUMNS:
        data[k] = 0.5 + level + 0.05 * rng.standard_normal(n_clips)
    for k, v in (scores or {}).items():
        data[k] = np.asarray(v, dtype=float)
    data.update(
        {
            "frame_index": [3] * n_clips,
            "degenerate": [False] * n_clips,
            "p_clip": [0.9 if i % 3 else 0.3 for i in range(n_clips)],
            "p_baseline": [0.2] * n_clips,
            "runtime_s": runtime * (1 + 0.1 * rng.random(n_clips)),
            "forward_samples": [31] * n_clips,
            "backward_samples": [30] * n_clips,
        }
    )
    df = pd.DataFrame(data)[list(PER_CLIP_COLUMNS)]
    df.to_csv(folder / PER_CLIP_FILE, index=False)
    metrics = {}
    for k in (*SCORE_COLUMNS, *COST_COLUMNS):
        values = df[k].to_numpy(dtype=float)
        half = float(values.std()) / np.sqrt(n_clips) * 1.96
        metrics[k] = {
            "mean": float(values.mean()),
            "ci_low": float(values.mean() - half),
            "ci_high": float(values.mean() + half),
        }
    if seeds > 1:
        means = {k: [float(df[k].mean()) + 0.01 * j for j in range(seeds)] for k in SCORE_COLUMNS}
        block: dict[str, Any] = {
            "n": seeds,
            "seeds": list(range(seeds)),
            "means": means,
            "spread": {
                k: {"std": float(np.std(v, ddof=1)), "min": min(v), "max": max(v)} for k, v in means.items()
            },
        }
        if seed_mean_file:
            per_seed = df[["clip_id", *SCORE_COLUMNS]].copy()
            for k in SCORE_COLUMNS:
                per_seed[k] = per_seed[k] + 0.01 * (seeds - 1) / 2
            per_seed.to_csv(folder / SEED_MEAN_FILE, index=False)
            block["mean"] = {
                k: {
                    "mean": float(per_seed[k].mean()),
                    "ci_low": float(per_seed[k].mean()) - 0.02,
                    "ci_high": float(per_seed[k].mean()) + 0.02,
                }
                for k in SCORE_COLUMNS
            }
        summary["seeds"] = block
    runtimes = df["runtime_s"].to_numpy()
    summary.update(
        n_clips=n_clips,
        metrics=metrics,
        cost={
            "runtime_median_s": float(np.median(runtimes)),
            "runtime_total_s": float(runtimes.sum()),
            "forward_samples_per_clip": 31.0,
            "backward_samples_per_clip": 30.0,
            "device": "cpu",
            "threads": 2,
            "stage_wall_s": float(runtimes.sum()) + 1.0,
        },
    )
    thresholds = [1 - i / 50 for i in range(51)]
    del_curves = {
        c: list(np.linspace(0.9, 0.2 - level / 4, 51) + 0.01 * rng.standard_normal(51)) for c in ids
    }
    ins_curves = {
        c: list(np.linspace(0.2, 0.9 + level / 4, 51) + 0.01 * rng.standard_normal(51)) for c in ids
    }
    curves: dict[str, Any] = {
        "thresholds": thresholds,
        "deletion": {"mean": list(np.mean(list(del_curves.values()), axis=0)), "per_clip": del_curves},
        "insertion": {"mean": list(np.mean(list(ins_curves.values()), axis=0)), "per_clip": ins_curves},
    }
    if fractions:
        grid = fraction_grid()
        curves["fraction"] = {
            "per_clip": {c: [float(x) for x in np.linspace(0.001, 1.0, 51) ** 2] for c in ids},
            "grid": grid.tolist(),
            "deletion_mean": list(np.linspace(0.9, 0.2 - level / 4, len(grid))),
            "insertion_mean": list(np.linspace(0.2, 0.9 + level / 4, len(grid))),
        }
    write_json(folder / CURVES_FILE, curves)
    (folder / GALLERY_DIR).mkdir()
    index = []
    for i, cid in enumerate(ids[:gallery]):
        stem = cid.replace("/", "_")
        _png(folder / GALLERY_DIR / f"{stem}_input.png", i, size=(108, 72))
        _png(folder / GALLERY_DIR / f"{stem}.png", 1000 * seed + i + 1, size=(108, 72))
        entry = {"clip_id": cid, "frame": 3, "input": f"{stem}_input.png", "overlay": f"{stem}.png"}
        if raw:
            rng_raw = np.random.default_rng(100 + i)
            frame = rng_raw.integers(0, 255, (24, 36), dtype=np.uint8)
            mask = np.zeros((24, 36), dtype=bool)
            mask[8:16, 10:20] = True
            scored = np.clip(rng_raw.random((24, 36)) * (0.5 + level), 0, 1).astype(np.float32)
            np.savez(folder / GALLERY_DIR / f"{stem}.npz", frame=frame, mask=mask, scored=scored)
            entry["raw"] = f"{stem}.npz"
        index.append(entry)
    write_json(folder / GALLERY_DIR / "index.json", index)
    write_json(folder / METRICS_FILE, summary)
    return folder


@pytest.fixture
def make_result() -> Callable[..., Path]:
    """The :func:`write_result` factory."""
    return write_result


@pytest.fixture
def fake_results(tmp_path: Path) -> Path:
    """``results/`` with ``integrated_gradients`` (best), ``lime``, ``hostile`` and ``broken`` (failed)."""
    root = tmp_path / "results"
    write_result(
        root,
        "integrated_gradients",
        level=0.2,
        seed=1,
        runtime=10.0,
        meta={"display_name": "Integrated Gradients"},
    )
    write_result(
        root, "lime", level=0.0, seed=2, runtime=3.0, meta={"display_name": "LIME", "family": "perturbation"}
    )
    write_result(
        root,
        "hostile",
        level=-0.2,
        seed=3,
        runtime=0.5,
        meta={
            "display_name": HOSTILE,
            "authors": ["<b>Eve</b>"],
            "description": "<img src=x onerror=alert(2)>",
            "url": "javascript:alert(3)",
            "params": {"<k>": "<v>"},
        },
    )
    write_result(
        root,
        "broken",
        status="failed",
        meta={"display_name": "Broken method"},
        failure={
            "clip_id": "UCSDped2/Test001/000",
            "kind": "timeout",
            "message": "took longer than 900 s <on purpose>",
            "traceback": "Traceback (most recent call last): ...",
        },
    )
    return root


@pytest.fixture
def board_results(tmp_path: Path) -> Path:
    """A fuller board: four paper baselines (one stochastic, 3 seeds), an added method, the random control
    and a failed one; clips from four videos; curves with voxel fractions; gallery with raw arrays."""
    root = tmp_path / "board"
    common = {"fractions": True, "raw": True, "video_of": lambda i: 1 + i // 2}
    write_result(root, "integrated_gradients", level=0.2, seed=1, runtime=10.0,
                 meta={"display_name": "IG", "group": "paper"}, **common)
    write_result(root, "lime", level=0.1, seed=2, runtime=3.0, seeds=3, seed_mean_file=True,
                 meta={"display_name": "LIME", "family": "perturbation", "group": "paper"}, **common)
    write_result(root, "guided_backprop", level=-0.19, seed=3, runtime=0.1,
                 meta={"display_name": "Guided BP", "group": "paper"}, **common)
    write_result(root, "kernel_shap", level=0.05, seed=4, runtime=2.0, seeds=2,
                 meta={"display_name": "KernelSHAP", "family": "perturbation", "group": "paper"}, **common)
    write_result(root, "my_method", level=0.15, seed=5, runtime=0.5,
                 meta={"display_name": "My method", "group": "added"}, **common)
    write_result(root, "random", level=-0.2, seed=6, runtime=0.001, seeds=2,
                 meta={"display_name": "Random", "family": "other", "group": "control"}, **common)
    write_result(root, "broken", status="failed", meta={"display_name": "Broken method", "group": "added"})
    return root
