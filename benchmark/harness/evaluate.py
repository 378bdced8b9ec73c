"""The ``evaluate`` stage: score one submission on the fixed evaluation clips and write ``results/<name>/``.

The evaluation is a map over independent units (a shard of clips for one seed): the confined worker explains
each clip on its own (:mod:`benchmark.harness.supervisor`), on this machine or on a Ray cluster
(:mod:`benchmark.harness.backends`), and each clip is scored on its own here
(:mod:`benchmark.harness.scoring`); only the aggregation (means, bootstrap intervals) looks at all clips.
The result folder is written atomically.
"""

from __future__ import annotations

import statistics
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.atomic import atomic_dir, atomic_write_json
from benchmark.explain.contract import SubmissionError, SubmissionInfo, read_submission
from benchmark.harness.backends import Backend, select_backend
from benchmark.harness.gallery import gallery_clips, write_gallery
from benchmark.harness.inputs import EvalSet, RunInputs, prepare_run
from benchmark.harness.outcomes import Failure, RunOutcome
from benchmark.harness.provenance import run_context, sandbox_provenance
from benchmark.harness.reaper import KEEP_BYTES
from benchmark.harness.runspec import build_run_spec
from benchmark.harness.scoring import ClipScores, batched_probabilities, probability_forward, score_clips, seed_spread
from benchmark.harness.supervisor import merge_outcomes, shard_bounds
from benchmark.layout import RepoLayout
from benchmark.metrics import bootstrap_ci
from benchmark.results import (
    COST_COLUMNS,
    CURVES_FILE,
    GALLERY_DIR,
    METRICS_FILE,
    PER_CLIP_COLUMNS,
    PER_CLIP_FILE,
    SCHEMA_VERSION,
    SCORE_COLUMNS,
    SCORES_FILE,
    SEED_MEAN_FILE,
)
from benchmark.results.plot_files import fraction_grid, grid_curve, scores_record, selection_fractions, write_plot_files
from benchmark.settings import Settings

__all__ = ["evaluate_submission"]


def evaluate_submission(name: str, settings: Settings, layout: RepoLayout = RepoLayout(),
                        *, eval_set: EvalSet | None = None, progress: bool = True,
                        backend: Backend | None = None) -> Path:
    """Explain and score submission ``name``; returns ``results/<name>``.

    Anything the submission does wrong ends as a ``failed`` result (with the clip, the kind of failure
    and the traceback), never as an exception: the stage completes and the leaderboard lists it.
    Problems of the benchmark's own inputs (data, split, checkpoint) raise, naming the file.
    The clips are explained by isolated workers in parallel (``evaluate.workers`` of them here, or as many as
    a Ray cluster holds: ``backend``, by default the one ``BENCHMARK_BACKEND`` names) and scored by
    ``evaluate.workers`` threads; every unit is seeded and single-threaded, so the scores depend on neither.
    """
    run = prepare_run(name, settings, layout, eval_set)
    owned = backend is None
    backend = backend or select_backend(run.workers, threads=settings.evaluate.threads)
    try:
        return _evaluate(name, settings, layout, run, backend, progress)
    finally:
        if owned:
            backend.close()


def _evaluate(name: str, settings: Settings, layout: RepoLayout, run: RunInputs, backend: Backend,
              progress: bool) -> Path:
    es, ev = run.eval_set, settings.evaluate
    forward = probability_forward(run.net, run.device)
    p_clip = batched_probabilities(forward, es.clips, ev.batch_size)
    p_base = batched_probabilities(forward, es.baselines, ev.batch_size)

    context = run_context(settings, layout, run)
    try:
        submission = read_submission(run.folder)  # as data: only the confined worker runs its code
    except SubmissionError as exc:
        return _write_failed(layout, name, None, Failure(None, "invalid_submission", str(exc)), context)
    profile = settings.profile
    try:
        merged = submission.merged_params(profile.submission_params.get(name),
                                          source=f"params.yaml: profiles.{profile.name}.submission_params.{name}")
    except SubmissionError as exc:
        return _write_failed(layout, name, submission, Failure(None, "invalid_submission", str(exc)), context)

    started = time.perf_counter()
    seeds = ev.seed_list(submission.meta.stochastic)
    outcomes = _explain(name, run, merged, seeds, settings, layout, backend)
    context["sandbox"] = sandbox_provenance(outcomes[0].sandbox)  # was the worker confined?
    context["execution"] = backend.describe()  # where the units ran
    for k, outcome in enumerate(outcomes):
        if outcome.output_bytes > 2 * KEEP_BYTES:
            print(f"[{name}] the worker wrote {outcome.output_bytes} bytes of output; the first and last "
                  f"{KEEP_BYTES // 1024} KB were kept, the rest dropped", flush=True)
        if outcome.failure is not None:
            where = f" (seed {seeds[k]})" if k else ""
            print(f"[{name}] FAILED on clip {outcome.failure.clip_id}{where}: {outcome.failure.kind}: "
                  f"{outcome.failure.message}", flush=True)
            if "worker output:" in outcome.failure.traceback:
                print(textwrap.indent(outcome.failure.traceback.split("worker output:\n", 1)[1][-800:],
                                      f"[{name}] | "), flush=True)
            return _write_failed(layout, name, submission, outcome.failure, context, merged)
    scored = [
        score_clips(outcome, es, forward, p_clip, p_base, n_thresholds=ev.n_thresholds, batch_size=ev.batch_size,
                    workers=run.workers, progress=progress,
                    label=f"[{name}] " + ("scoring" if k == 0 else f"scoring seed {seeds[k]}"))
        for k, outcome in enumerate(outcomes)
    ]
    spread = seed_spread(seeds, [s.rows for s in scored])
    return _write_ok(layout, name, submission, merged, context, es, outcomes[0], scored[0],
                     time.perf_counter() - started, settings, spread, all_scores=scored)


def _explain(name: str, run: RunInputs, merged: Mapping[str, Any], seeds: list[int], settings: Settings,
             layout: RepoLayout, backend: Backend) -> list[RunOutcome]:
    """Explain every evaluation clip once per seed in isolated workers.

    The clips are cut into as many contiguous shards as the backend runs units at once; the
    ``len(seeds) * shards`` units run on the backend. Returns one outcome per seed, its shards merged in
    clip order.
    """
    es, ev = run.eval_set, settings.evaluate
    bounds = shard_bounds(len(es.clip_ids), backend.parallelism)
    clips, baselines = es.clips.numpy(), es.baselines.numpy()
    with tempfile.TemporaryDirectory(prefix=f"explain-{name}-") as tmp:
        jobs = []
        for seed in seeds:
            for j, (lo, hi) in enumerate(bounds):
                out = Path(tmp) / f"seed{seed}-shard{j}"  # the run's scratch folder, deleted when it ends
                out.mkdir()
                spec = build_run_spec(submission_dir=run.folder, checkpoint=layout.checkpoint,
                                      clip_ids=es.clip_ids[lo:hi], params=merged, seed=seed, evaluate=ev,
                                      device=run.device, out_dir=out)
                jobs.append((spec, clips[lo:hi], baselines[lo:hi]))
        print(f"[{name}] explaining {len(es.clip_ids)} clips on {run.device} ({ev.threads} thread(s) x "
              f"{len(bounds)} worker(s), {backend.name} backend, seed(s) {', '.join(map(str, seeds))})", flush=True)
        outcomes = backend.run(jobs, clip_time_budget_s=ev.clip_time_budget_s)
    n = len(bounds)
    return [merge_outcomes(outcomes[k * n:(k + 1) * n]) for k in range(len(seeds))]


def _meta_dict(name: str, submission: SubmissionInfo | None, merged: Mapping[str, Any] | None) -> dict[str, Any]:
    if submission is None:
        return {"submission": name, "display_name": name, "family": "other", "group": "added", "authors": [],
                "description": "", "url": "", "params": {}}
    m = submission.meta
    return {"submission": name, "display_name": m.display_name, "family": m.family, "group": m.group,
            "authors": list(m.authors),
            "description": m.description, "url": m.url, "params": dict(merged or {})}


def _write_failed(layout: RepoLayout, name: str, submission: SubmissionInfo | None, failure: Failure,
                  context: dict[str, Any], merged: Mapping[str, Any] | None = None) -> Path:
    final = layout.result(name)
    with atomic_dir(final) as tmp:
        atomic_write_json(tmp / METRICS_FILE, {
            "schema": SCHEMA_VERSION, **_meta_dict(name, submission, merged), "status": "failed",
            "failure": failure.as_dict(), "n_clips": 0, "metrics": {}, "cost": {}, "degenerate_clips": 0,
            "provenance": context,
        })
        # DVC reads these from every submission's stage: a failed one says so instead of going missing.
        atomic_write_json(tmp / SCORES_FILE, {"failed": 1})
        write_plot_files(tmp, {kind: np.full(len(fraction_grid()), np.nan) for kind in ("deletion", "insertion")})
    return final


def _write_ok(layout: RepoLayout, name: str, submission: SubmissionInfo, merged: Mapping[str, Any],
              context: dict[str, Any], es: EvalSet, outcome: RunOutcome, scores: ClipScores, wall_s: float,
              settings: Settings, seeds: dict[str, Any], all_scores: Sequence[ClipScores] | None = None) -> Path:
    """Write ``results/<name>/`` (schema: :mod:`benchmark.results.submission`).

    ``scores`` are seed 0's; ``all_scores``, when given, every seed's (``scores`` first): with more than
    one, the per-clip means over the seeds are written too (``per_clip_seed_mean.csv``) and bootstrapped
    into ``seeds.mean``, the figures the leaderboard shows for a stochastic submission.
    """
    boot = settings.evaluate.bootstrap
    df = pd.DataFrame(scores.rows)[list(PER_CLIP_COLUMNS)]
    metrics = {}
    for col in (*SCORE_COLUMNS, *COST_COLUMNS):
        ci = bootstrap_ci(df[col].to_numpy(dtype=float), n_resamples=boot.resamples, seed=boot.seed)
        metrics[col] = {"mean": float(ci.mean), "ci_low": float(ci.low), "ci_high": float(ci.high)}
    runtimes = df["runtime_s"].tolist()
    cost = {
        "runtime_median_s": statistics.median(runtimes), "runtime_total_s": float(sum(runtimes)),
        "forward_samples_per_clip": float(statistics.median(df["forward_samples"])),
        "backward_samples_per_clip": float(statistics.median(df["backward_samples"])),
        "device": outcome.device, "threads": outcome.threads, "stage_wall_s": wall_s,
    }
    seed_means = None
    if all_scores is not None and len(all_scores) > 1:
        frames = [pd.DataFrame(s.rows).set_index("clip_id")[list(SCORE_COLUMNS)] for s in all_scores]
        seed_means = (sum(f.reindex(frames[0].index) for f in frames) / len(frames)).reset_index()
        seeds = {**seeds, "mean": {}}
        for col in SCORE_COLUMNS:
            ci = bootstrap_ci(seed_means[col].to_numpy(dtype=float), n_resamples=boot.resamples, seed=boot.seed)
            seeds["mean"][col] = {"mean": float(ci.mean), "ci_low": float(ci.low), "ci_high": float(ci.high)}
    figures = {col: (seeds["mean"][col]["mean"] if seed_means is not None else metrics[col]["mean"])
               for col in SCORE_COLUMNS}
    figures["runtime_s"] = cost["runtime_median_s"]

    del_curves, ins_curves = scores.deletion_curves, scores.insertion_curves
    n_thresholds = settings.evaluate.n_thresholds
    fractions = {r.clip_id: selection_fractions(r.attribution, n_thresholds) for r in outcome.runs}
    start = {"deletion": dict(zip(df["clip_id"], df["p_clip"])),
             "insertion": dict(zip(df["clip_id"], df["p_baseline"]))}
    grid_means = {
        kind: np.mean([grid_curve(fractions[c], ys, start[kind][c]) for c, ys in curves.items()], axis=0)
        for kind, curves in (("deletion", del_curves), ("insertion", ins_curves))
    }
    final = layout.result(name)
    with atomic_dir(final) as tmp:
        df.to_csv(tmp / PER_CLIP_FILE, index=False, float_format="%.6g")
        if seed_means is not None:
            seed_means.to_csv(tmp / SEED_MEAN_FILE, index=False, float_format="%.6g")
        atomic_write_json(tmp / CURVES_FILE, {
            "thresholds": scores.thresholds,
            "deletion": {"mean": np.mean(list(del_curves.values()), axis=0).tolist(), "per_clip": del_curves},
            "insertion": {"mean": np.mean(list(ins_curves.values()), axis=0).tolist(), "per_clip": ins_curves},
            "fraction": {"per_clip": fractions, "grid": fraction_grid().tolist(),
                         "deletion_mean": grid_means["deletion"].tolist(),
                         "insertion_mean": grid_means["insertion"].tolist()},
        })
        write_plot_files(tmp, grid_means)
        atomic_write_json(tmp / SCORES_FILE, scores_record(figures))
        chosen = gallery_clips([m["video"] for m in es.meta], es.masks, df["p_clip"].tolist(),
                               settings.evaluate.gallery_clips)
        write_gallery(tmp / GALLERY_DIR, es.frames, es.masks, [r.clip_id for r in outcome.runs],
                      [r.attribution for r in outcome.runs], chosen)
        atomic_write_json(tmp / METRICS_FILE, {
            "schema": SCHEMA_VERSION, **_meta_dict(name, submission, merged), "status": "ok", "failure": None,
            "n_clips": len(df), "metrics": metrics, "cost": cost,
            "degenerate_clips": int(df["degenerate"].sum()), "seeds": seeds, "provenance": context,
        })
    print(f"[{name}] wrote {final} ({len(df)} clips, median {cost['runtime_median_s']:.3f} s/clip)", flush=True)
    return final
