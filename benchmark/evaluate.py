"""Score one submission on the fixed evaluation clips and write ``results/<name>/``.

The evaluation is a map over independent ``(submission, clip)`` units: the worker explains each clip
on its own (:mod:`benchmark.runner`), and each clip is scored on its own here; only the aggregation
(means, bootstrap intervals) looks at all clips. The result folder is written atomically.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from benchmark import provenance
from benchmark.config import Profile, active_profile, get
from benchmark.data.prepared import PreparedData
from benchmark.data.split import load_split
from benchmark.data.transforms import to_model_input
from benchmark.explain.batching import model_memory_format
from benchmark.explain.contract import SubmissionError, load_submission
from benchmark.heatmaps import gallery_frame, render_input, render_overlay, save_png
from benchmark.metrics import bootstrap_ci, deletion_insertion, human_centric, make_baseline
from benchmark.model.checkpoint import load_checkpoint
from benchmark.model.i3d import ProbabilityModel
from benchmark.results import (
    COST_COLUMNS,
    CURVES_FILE,
    GALLERY_DIR,
    METRICS_FILE,
    PER_CLIP_FILE,
    SCHEMA_VERSION,
    SCORE_COLUMNS,
    atomic_dir,
    write_json,
)
from benchmark.runner import Failure, RunOutcome, RunSpec, merge_outcomes, run_submissions, shard_bounds

TARGET = 1
"""The explained class: "anomalous" (protocol.md, Clips and model)."""


@dataclass(frozen=True)
class Paths:
    """Where the pipeline keeps its files, relative to the repository root."""

    root: Path = Path(".")

    @property
    def prepared(self) -> Path:
        return self.root / "data" / "prepared"

    @property
    def checkpoint(self) -> Path:
        return self.root / "models" / "model.pt"

    @property
    def submissions(self) -> Path:
        return self.root / "submissions"

    @property
    def results(self) -> Path:
        return self.root / "results"

    def split(self, source: str) -> Path:
        return self.root / "splits" / f"{source}.json"


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


def load_eval_set(params: Mapping[str, Any], paths: Paths) -> EvalSet:
    source = get(params, "data.source")
    prepared = PreparedData(paths.prepared)
    split = load_split(paths.split(source))
    metas = [_clip_meta(c) for c in split.eval_clips]
    loaded = [prepared.load_clip(m["clip_id"]) for m in metas]
    for c in loaded:
        if c.mask is None or not c.mask.any():
            raise ValueError(f"{paths.split(source)}: evaluation clip {c.clip_id} has no pixel mask; "
                             "the split file does not match data/prepared (re-run `dvc repro`).")
    frames = np.stack([c.frames for c in loaded])
    masks = np.stack([c.mask for c in loaded]).astype(bool)
    clips = to_model_input(frames).contiguous()
    baselines = make_baseline(get(params, "evaluate.baseline"), clips).contiguous()
    return EvalSet(tuple(m["clip_id"] for m in metas), tuple(metas), frames, masks, clips, baselines)


def _clip_meta(c: Any) -> dict[str, Any]:
    if isinstance(c, Mapping):
        return {k: c[k] for k in ("clip_id", "scene", "video", "start")}
    return {k: getattr(c, k) for k in ("clip_id", "scene", "video", "start")}


def pick_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def probability_forward(net: torch.nn.Module, device: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """``(B, 3, T, H, W)`` -> p(anomalous) ``(B,)`` on ``device``, returned on the CPU.

    On a CPU the batch goes in as ``torch.channels_last_3d``: from batch 16 on, the I3D's pooling layers
    run about twice as fast in that layout (:data:`benchmark.explain.batching.ONEDNN_MIN_BATCH`).
    """
    model = ProbabilityModel(net).to(device).eval()

    def forward(batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(device)
        with torch.inference_mode():
            return model(batch.contiguous(memory_format=model_memory_format(batch)))[:, TARGET].float().cpu()

    return forward


def _batched(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch: int) -> torch.Tensor:
    return torch.cat([forward(x[i : i + batch]) for i in range(0, len(x), batch)])


@dataclass(frozen=True)
class RunSetup:
    """What an evaluation or a sanity check of one submission starts from (see :func:`prepare_run`)."""

    folder: Path
    profile: Profile
    threads: int
    workers: int
    device: str
    net: torch.nn.Module
    ckpt_meta: dict[str, Any]
    eval_set: EvalSet


def prepare_run(name: str, params: Mapping[str, Any], paths: Paths, eval_set: EvalSet | None = None) -> RunSetup:
    """Check the submission exists, fix the threads, load the checkpoint and the clips, check they match.

    Raises for problems of the benchmark's own inputs (a missing submission folder, a checkpoint trained
    for another grid), naming the file.
    """
    profile = active_profile(params)
    folder = paths.submissions / name
    if not (folder / "submission.yaml").is_file():
        raise FileNotFoundError(f"{folder}/submission.yaml: no such submission (see `benchmark list`).")
    threads = int(get(params, "evaluate.threads"))
    torch.set_num_threads(threads)
    device = pick_device()
    net, ckpt_meta = load_checkpoint(paths.checkpoint)
    es = eval_set or load_eval_set(params, paths)
    if tuple(ckpt_meta["input_size"]) != tuple(es.clips.shape[-2:]):
        raise ValueError(f"{paths.checkpoint}: trained for input {ckpt_meta['input_size']}, but data/prepared "
                         f"holds {tuple(es.clips.shape[-2:])}; re-run `dvc repro` so both use the same profile.")
    return RunSetup(folder, profile, threads, n_workers(params, device), device, net, ckpt_meta, es)


def n_workers(params: Mapping[str, Any], device: str) -> int:
    """``evaluate.workers`` parallel units on the CPU; one on a GPU (the workers would share it)."""
    workers = int(get(params, "evaluate.workers"))
    if workers < 1:
        raise ValueError(f"params.yaml: evaluate.workers must be >= 1, got {workers}")
    return 1 if device != "cpu" else workers


def evaluate_submission(name: str, params: Mapping[str, Any], paths: Paths = Paths(),
                        *, eval_set: EvalSet | None = None, progress: bool = True) -> Path:
    """Explain and score submission ``name``; returns ``results/<name>``.

    Anything the submission does wrong ends as a ``failed`` result (with the clip, the kind of failure
    and the traceback), never as an exception: the stage completes and the leaderboard lists it.
    Problems of the benchmark's own inputs (data, split, checkpoint) raise, naming the file.
    The clips are explained by ``evaluate.workers`` isolated workers in parallel and scored by as many
    threads; every unit is seeded and single-threaded, so the scores do not depend on that number.
    """
    run = prepare_run(name, params, paths, eval_set)
    es, profile, device, threads = run.eval_set, run.profile, run.device, run.threads
    forward = probability_forward(run.net, device)
    batch_size = int(get(params, "evaluate.batch_size"))
    p_clip = _batched(forward, es.clips, batch_size)
    p_base = _batched(forward, es.baselines, batch_size)

    context = run_context(params, paths, run)
    try:
        submission = load_submission(run.folder)
    except SubmissionError as exc:
        return _write_failed(paths, name, None, Failure(None, "invalid_submission", str(exc)), context)
    try:
        merged = submission.merged_params(profile.submission_params.get(name),
                                          source=f"params.yaml: profiles.{profile.name}.submission_params.{name}")
    except SubmissionError as exc:
        return _write_failed(paths, name, submission, Failure(None, "invalid_submission", str(exc)), context)

    started = time.perf_counter()
    seed = int(get(params, "evaluate.seed"))
    n_seeds = _n_seeds(params, profile) if submission.meta.stochastic else 1
    seeds = [seed + k for k in range(n_seeds)]
    n_thr = int(get(params, "evaluate.n_thresholds"))
    outcomes = _explain(name, run.folder, merged, seeds, params, paths, es, threads, device, run.workers)
    context["sandbox"] = sandbox_provenance(outcomes[0].sandbox)  # was the worker confined (benchmark/sandbox.py)?
    runs = []
    for k, outcome in enumerate(outcomes):
        if outcome.failure is not None:
            where = f" (seed {seeds[k]})" if k else ""
            print(f"[{name}] FAILED on clip {outcome.failure.clip_id}{where}: {outcome.failure.kind}: "
                  f"{outcome.failure.message}", flush=True)
            return _write_failed(paths, name, submission, outcome.failure, context, merged)
    for k, outcome in enumerate(outcomes):
        scored = _score(name, outcome, es, forward, p_clip, p_base, n_thr, batch_size, progress,
                        label="scoring" if k == 0 else f"scoring seed {seeds[k]}", workers=run.workers)
        runs.append((outcome, scored))
    outcome, (rows, thresholds, del_curves, ins_curves) = runs[0]
    spread = _seed_spread(seeds, [r[1][0] for r in runs])
    return _write_ok(paths, name, submission, merged, context, es, outcome, rows, thresholds,
                     del_curves, ins_curves, time.perf_counter() - started, params, spread)


def sandbox_provenance(status: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The worker's sandbox status without the granted paths (temporary folders differ from run to run)."""
    if status is None:
        return None
    return {k: status[k] for k in ("active", "mode", "mechanism", "abi", "reason") if k in status}


def _n_seeds(params: Mapping[str, Any], profile: Profile) -> int:
    """``profiles.<profile>.seeds`` if the profile sets it, else ``evaluate.seeds``."""
    override = (get(params, "profiles").get(profile.name) or {}).get("seeds")
    return int(override if override is not None else get(params, "evaluate.seeds"))


def _explain(name: str, folder: Path, merged: Mapping[str, Any], seeds: list[int], params, paths: Paths,
             es: EvalSet, threads: int, device: str, workers: int) -> list[RunOutcome]:
    """Explain every evaluation clip once per seed in isolated workers (see :mod:`benchmark.runner`).

    The clips are cut into ``workers`` contiguous shards; the ``len(seeds) * workers`` units run at most
    ``workers`` at a time. Returns one outcome per seed, its shards merged in clip order.
    """
    bounds = shard_bounds(len(es.clip_ids), workers)
    cap = float(get(params, "evaluate.memory_cap_gb"))
    with tempfile.TemporaryDirectory(prefix=f"explain-{name}-") as tmp:
        tmpdir = Path(tmp)
        specs = []
        for j, (lo, hi) in enumerate(bounds):
            np.save(tmpdir / f"clips{j}.npy", es.clips[lo:hi].numpy())
            np.save(tmpdir / f"baselines{j}.npy", es.baselines[lo:hi].numpy())
        for seed in seeds:
            for j, (lo, hi) in enumerate(bounds):
                out = tmpdir / f"seed{seed}-shard{j}"
                out.mkdir()
                specs.append(RunSpec(
                    submission_dir=str(folder.resolve()), checkpoint=str(paths.checkpoint.resolve()),
                    clips_file=str(tmpdir / f"clips{j}.npy"), baselines_file=str(tmpdir / f"baselines{j}.npy"),
                    clip_ids=es.clip_ids[lo:hi], params=dict(merged), seed=seed, target=TARGET,
                    threads=threads, device=device, memory_cap_bytes=int(cap * 2**30) if cap > 0 else None,
                    out_dir=str(out), sandbox=str(get(params, "evaluate.sandbox")),
                ))
        print(f"[{name}] explaining {len(es.clip_ids)} clips on {device} ({threads} thread(s) x {len(bounds)} "
              f"worker(s), seed(s) {', '.join(map(str, seeds))})", flush=True)
        outcomes = run_submissions(specs, workers=workers,
                                   clip_time_budget_s=float(get(params, "evaluate.clip_time_budget_s")))
    n = len(bounds)
    return [merge_outcomes(outcomes[k * n:(k + 1) * n]) for k in range(len(seeds))]


def _score(name: str, outcome: RunOutcome, es: EvalSet, forward, p_clip, p_base, n_thr: int, batch_size: int,
           progress: bool, label: str, workers: int = 1):
    """Every metric of every clip: per-clip rows, thresholds and the deletion/insertion curves.

    Clips are scored independently, by ``workers`` threads (torch releases the GIL in the model passes).
    """

    def score(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        run = outcome.runs[i]
        hc = human_centric(run.attribution, es.masks[i], n_thresholds=n_thr)
        di = deletion_insertion(forward, es.clips[i], torch.from_numpy(run.attribution), es.baselines[i],
                                n_thresholds=n_thr, batch_size=batch_size,
                                p_clip=float(p_clip[i]), p_baseline=float(p_base[i]))
        return hc, di

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        bar = tqdm(pool.map(score, range(len(outcome.runs))), total=len(outcome.runs), desc=f"[{name}] {label}",
                   unit="clip", disable=not progress)
        scored = list(bar)
    rows, del_curves, ins_curves, thresholds = [], {}, {}, None
    for i, (run, (hc, di)) in enumerate(zip(outcome.runs, scored)):
        thresholds = [float(t) for t in di["thresholds"]]
        del_curves[run.clip_id] = [float(v) for v in di["deletion_curve"]]
        ins_curves[run.clip_id] = [float(v) for v in di["insertion_curve"]]
        rows.append({
            **es.meta[i], **{k: float(hc[k]) for k in SCORE_COLUMNS if k in hc},
            "deletion": float(di["deletion"]), "insertion": float(di["insertion"]),
            "frame_index": int(hc["frame_index"]), "degenerate": bool(hc["degenerate"]),
            "p_clip": float(p_clip[i]), "p_baseline": float(p_base[i]),
            "runtime_s": run.runtime_s, "forward_samples": run.forward_samples,
            "backward_samples": run.backward_samples,
        })
    return rows, thresholds, del_curves, ins_curves


def _seed_spread(seeds: list[int], rows_per_seed: list[list[dict]]) -> dict[str, Any]:
    """Per metric, the mean over clips for each seed, and their spread (sample std, min, max)."""
    means = {m: [float(np.mean([r[m] for r in rows])) for rows in rows_per_seed] for m in SCORE_COLUMNS}
    spread = {m: {"std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, "min": min(v), "max": max(v)}
              for m, v in means.items()}
    return {"n": len(seeds), "seeds": seeds, "means": means, "spread": spread}


def run_context(params: Mapping[str, Any], paths: Paths, run: RunSetup) -> dict[str, Any]:
    """The provenance of a run: code, data, split, checkpoint, settings, hardware and packages."""
    profile, ckpt_meta = run.profile, run.ckpt_meta
    source = get(params, "data.source")
    split_path = paths.split(source)
    prepared_meta = paths.prepared / "meta.json"
    return {
        "benchmark_version": provenance.benchmark_version(),
        "git_commit": provenance.git_commit(paths.root),
        "profile": profile.name,
        "input": list(profile.input),
        "model_width": profile.model_width,
        "data_source": source,
        "data_hash": provenance.file_sha256(prepared_meta) if prepared_meta.is_file() else "unknown",
        "checkpoint_hash": provenance.file_sha256(paths.checkpoint),
        "checkpoint_meta": {k: v for k, v in ckpt_meta.items() if isinstance(v, (str, int, float, bool, list))},
        "split_id": _split_id(split_path) if split_path.is_file() else "unknown",  # tests may pass clips directly
        "baseline": get(params, "evaluate.baseline"),
        "evaluate_seed": int(get(params, "evaluate.seed")),
        "n_thresholds": int(get(params, "evaluate.n_thresholds")),
        "hardware": provenance.hardware(run.device, run.threads),
        "workers": run.workers,
        "packages": provenance.package_versions(),
    }


def _split_id(path: Path) -> str:
    return str(load_split(path).split_id)


def _meta_dict(name: str, submission, merged: Mapping[str, Any] | None) -> dict[str, Any]:
    if submission is None:
        return {"submission": name, "display_name": name, "family": "other", "authors": [], "description": "",
                "url": "", "params": {}}
    m = submission.meta
    return {"submission": name, "display_name": m.display_name, "family": m.family, "authors": list(m.authors),
            "description": m.description, "url": m.url, "params": dict(merged or {})}


def _write_failed(paths: Paths, name: str, submission, failure: Failure, context, merged=None) -> Path:
    final = paths.results / name
    with atomic_dir(final) as tmp:
        write_json(tmp / METRICS_FILE, {
            "schema": SCHEMA_VERSION, **_meta_dict(name, submission, merged), "status": "failed",
            "failure": failure.as_dict(), "n_clips": 0, "metrics": {}, "cost": {}, "degenerate_clips": 0,
            "provenance": context,
        })
    return final


def _write_ok(paths, name, submission, merged, context, es: EvalSet, outcome, rows, thresholds,
              del_curves, ins_curves, wall_s: float, params, seeds: dict[str, Any]) -> Path:
    import pandas as pd

    from benchmark.results import PER_CLIP_COLUMNS

    resamples = int(get(params, "evaluate.bootstrap.resamples"))
    bseed = int(get(params, "evaluate.bootstrap.seed"))
    df = pd.DataFrame(rows)[list(PER_CLIP_COLUMNS)]
    metrics = {}
    for col in (*SCORE_COLUMNS, *COST_COLUMNS):
        ci = bootstrap_ci(df[col].to_numpy(dtype=float), n_resamples=resamples, seed=bseed)
        metrics[col] = {"mean": float(ci.mean), "ci_low": float(ci.low), "ci_high": float(ci.high)}
    runtimes = df["runtime_s"].tolist()
    cost = {
        "runtime_median_s": statistics.median(runtimes), "runtime_total_s": float(sum(runtimes)),
        "forward_samples_per_clip": float(statistics.median(df["forward_samples"])),
        "backward_samples_per_clip": float(statistics.median(df["backward_samples"])),
        "device": outcome.device, "threads": outcome.threads, "stage_wall_s": wall_s,
    }
    final = paths.results / name
    with atomic_dir(final) as tmp:
        df.to_csv(tmp / PER_CLIP_FILE, index=False, float_format="%.6g")
        write_json(tmp / CURVES_FILE, {
            "thresholds": thresholds,
            "deletion": {"mean": np.mean(list(del_curves.values()), axis=0).tolist(), "per_clip": del_curves},
            "insertion": {"mean": np.mean(list(ins_curves.values()), axis=0).tolist(), "per_clip": ins_curves},
        })
        _write_gallery(tmp / GALLERY_DIR, es, outcome, int(get(params, "evaluate.gallery_clips")))
        write_json(tmp / METRICS_FILE, {
            "schema": SCHEMA_VERSION, **_meta_dict(name, submission, merged), "status": "ok", "failure": None,
            "n_clips": len(df), "metrics": metrics, "cost": cost,
            "degenerate_clips": int(df["degenerate"].sum()), "seeds": seeds, "provenance": context,
        })
    print(f"[{name}] wrote {final} ({len(df)} clips, median {cost['runtime_median_s']:.3f} s/clip)", flush=True)
    return final


def _write_gallery(folder: Path, es: EvalSet, outcome, k: int) -> None:
    folder.mkdir()
    index = []
    for i, run in enumerate(outcome.runs[:k]):
        t = gallery_frame(es.masks[i])
        stem = run.clip_id.replace("/", "_")
        save_png(render_input(es.frames[i, t], es.masks[i, t]), folder / f"{stem}_input.png")
        save_png(render_overlay(es.frames[i, t], es.masks[i, t], run.attribution[t]), folder / f"{stem}.png")
        index.append({"clip_id": run.clip_id, "frame": t, "input": f"{stem}_input.png", "overlay": f"{stem}.png"})
    write_json(folder / "index.json", index)
