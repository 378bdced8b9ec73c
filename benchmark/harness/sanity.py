"""The ``sanity`` stage: the model-parameter randomisation test of one submission (Adebayo et al., 2018).

An explanation of a model's output should depend on the model. The stage explains the first
``sanity.clips`` evaluation clips on the trained I3D and on each step of the cascade of progressively
randomised copies (:mod:`benchmark.model.randomization`: the blocks re-initialised from the logits down),
and measures how similar each map stays to the map on the trained model
(:mod:`benchmark.metrics.similarity`: Spearman and SSIM, the verdict). A method whose maps barely change
when the weights that produce the prediction are destroyed is not explaining the model, and fails.

Every run goes through the same isolated worker as the evaluation (:mod:`benchmark.harness.supervisor`),
once per step (the trained model and each randomised checkpoint, written to a temporary folder), with the
same per-clip generators at every step, so stochastic methods share their noise across the cascade and only
the model differs. The ``random`` control therefore returns *identical* noise on every model and fails the
check, as it should: its maps do not depend on the model at all. The record ``sanity/<name>/sanity.json``
is written atomically (:func:`sanity_check` gives its schema); a submission that fails on any model gives
a ``failed`` record, never an exception.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.atomic import atomic_dir, atomic_write_json
from benchmark.explain.contract import SubmissionError, SubmissionInfo, read_submission
from benchmark.harness.backends import Backend, select_backend
from benchmark.harness.inputs import EvalSet, RunInputs, prepare_run
from benchmark.harness.outcomes import Failure
from benchmark.harness.provenance import run_context, sandbox_provenance
from benchmark.harness.runspec import build_run_spec
from benchmark.harness.supervisor import longest_first, merge_outcomes, split_groups
from benchmark.layout import RepoLayout
from benchmark.metrics.similarity import MAP_BASES, SIMILARITY_RULES, Similarity, compare_maps, verdict
from benchmark.metrics.statistics import bootstrap_ci
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.randomization import REINIT_RULE, cascade_for, cascade_networks
from benchmark.results.sanity import SANITY_FILE, SANITY_SCHEMA
from benchmark.settings import Settings

__all__ = ["sanity_check"]


def _interval(values: Sequence[float], resamples: int, seed: int) -> dict[str, float]:
    ci = bootstrap_ci(np.asarray(values, dtype=float), n_resamples=resamples, seed=seed)
    return {"mean": float(ci.mean), "ci_low": float(ci.low), "ci_high": float(ci.high)}


def _meta(name: str, submission: SubmissionInfo | None, merged: Mapping[str, Any] | None) -> dict[str, Any]:
    if submission is None:
        return {"submission": name, "display_name": name, "params": {}}
    return {"submission": name, "display_name": submission.meta.display_name, "params": dict(merged or {})}


def _write(final: Path, record: Mapping[str, Any]) -> Path:
    with atomic_dir(final) as tmp:
        atomic_write_json(tmp / SANITY_FILE, dict(record))
    return final


def sanity_check(
    name: str,
    settings: Settings,
    layout: RepoLayout = RepoLayout(),
    *,
    eval_set: EvalSet | None = None,
    progress: bool = True,
    backend: Backend | None = None,
) -> Path:
    """Run the randomisation test on submission ``name``; returns ``sanity/<name>``.

    Args:
        name: a folder of ``layout.submissions``.
        settings: the typed ``params.yaml`` (``sanity``, ``evaluate``, the profile).
        layout: where the files are (default: the repository root ``.``); the record goes to
            ``layout.sanity_record(name)``.
        eval_set: the loaded evaluation clips (loaded from ``layout`` when omitted); only the first
            ``sanity.clips`` clips are used.
        progress: print one line per cascade step.
        backend: where the runs go (:mod:`benchmark.harness.backends`; by default ``BENCHMARK_BACKEND``).

    ``sanity.json``: ``schema``, ``submission``, ``display_name``, ``params``, ``status`` (``ok`` |
    ``failed``), ``failure`` (``None`` or ``{clip_id, kind, message, traceback, step, label}``),
    ``verdict`` (``pass`` | ``fail`` | ``inconclusive``; ``None`` when failed), ``basis`` (``scored``),
    ``threshold``, ``full`` (``{spearman, ssim}`` intervals at the last step, basis ``scored``),
    ``steps`` (one per cascade step: ``step``, ``label``, ``blocks`` re-initialised at it,
    ``randomized`` (every block random so far), and per basis ``scored``/``absolute`` the ``spearman``
    and ``ssim`` intervals ``{mean, ci_low, ci_high}``, ``constant`` (flagged comparisons) and
    ``per_clip`` ``{spearman: [...], ssim: [...]}``), ``reference_constant`` (clips whose trained-model
    map is constant), ``settings`` (clips, clip ids, seed, threshold, cascade, re-initialisation,
    bootstrap), ``provenance`` and ``stage_wall_s`` (ok records).

    Raises:
        FileNotFoundError / ValueError: the benchmark's own inputs (submission folder, checkpoint, data)
            are missing or inconsistent. Nothing the submission does raises.
    """
    ev = settings.evaluate
    run = prepare_run(name, settings, layout, eval_set)
    owned = backend is None
    backend = backend or select_backend(run.workers, threads=ev.threads)
    try:
        return _sanity(name, settings, layout, run, backend, progress)
    finally:
        if owned:
            backend.close()


def _sanity(name: str, settings: Settings, layout: RepoLayout, run: RunInputs, backend: Backend,
            progress: bool) -> Path:
    sanity, ev = settings.sanity, settings.evaluate
    profile, folder, device = settings.profile, run.folder, run.device
    net, ckpt_meta, es = run.net, run.ckpt_meta, run.eval_set
    final = layout.sanity_record(name)
    n = min(sanity.clips, len(es.clip_ids))
    clip_ids = tuple(es.clip_ids[:n])
    resamples, bseed = ev.bootstrap.resamples, ev.bootstrap.seed
    record: dict[str, Any] = {
        "schema": SANITY_SCHEMA,
        **_meta(name, None, None),
        "status": "failed",
        "failure": None,
        "verdict": None,
        "basis": "scored",
        "threshold": sanity.threshold,
        "full": None,
        "steps": [],
        "reference_constant": [],
        "settings": {
            "clips": n,
            "clip_ids": list(clip_ids),
            "seed": sanity.seed,
            "threshold": sanity.threshold,
            "cascade": [
                {"step": i, "label": lab, "blocks": list(b)} for i, (lab, b) in enumerate(cascade_for(net), 1)
            ],
            "reinit": REINIT_RULE,
            "bases": dict(MAP_BASES),
            "bootstrap": {"resamples": resamples, "seed": bseed},
            **SIMILARITY_RULES,
        },
        "provenance": run_context(settings, layout, run),
    }

    try:
        submission = read_submission(folder)  # as data: only the confined worker runs its code
        merged = submission.merged_params(
            profile.submission_params.get(name),
            source=f"params.yaml: profiles.{profile.name}.submission_params.{name}",
        )
    except SubmissionError as exc:
        record["failure"] = {
            **Failure(None, "invalid_submission", str(exc)).as_dict(),
            "step": None,
            "label": None,
        }
        return _write(final, record)
    record.update(_meta(name, submission, merged))

    started = time.perf_counter()
    sims: list[list[dict[str, Similarity]]] = []
    clips, baselines = es.clips[:n].numpy(), es.baselines[:n].numpy()
    with tempfile.TemporaryDirectory(prefix=f"sanity-{name}-") as tmp:
        tmpdir = Path(tmp)
        meta = {k: v for k, v in ckpt_meta.items() if k != "weights_sha256"}

        def job(step: int, checkpoint: Path, lo: int, hi: int):
            out = tmpdir / f"run{step}-{lo}"  # each run writes only into its own scratch folder, deleted after it
            out.mkdir()
            spec = build_run_spec(
                submission_dir=folder, checkpoint=checkpoint, clip_ids=clip_ids[lo:hi], params=merged,
                seed=ev.seed, evaluate=ev, device=device, out_dir=out, warmup=False,
            )
            return spec, clips[lo:hi], baselines[lo:hi]

        # The trained model (step 0) and every cascade step are independent runs: write the randomised
        # checkpoints first, then explain on all of them, `evaluate.workers` at a time. Where the steps do not
        # divide evenly among the workers (or a cluster runs more units at once than there are steps), some
        # steps' clips are cut into shards too (split_groups); the per-clip generators make the maps independent
        # of the cut.
        steps: list[tuple[int, str, Path]] = [(0, "trained", layout.checkpoint)]
        for step, label, rnet in cascade_networks(net, seed=sanity.seed):
            ckpt = tmpdir / f"step{step}.pt"
            save_checkpoint(ckpt, rnet, {**meta, "sanity_step": step, "sanity_seed": sanity.seed})
            steps.append((step, label, ckpt))
        bounds = split_groups(n, len(steps), backend.parallelism)
        units = [(st, c, lo, hi) for (st, _, c), cut in zip(steps, bounds) for lo, hi in cut]
        order = longest_first([hi - lo for *_, lo, hi in units])
        t0 = time.perf_counter()
        ran = backend.run([job(*units[i]) for i in order], clip_time_budget_s=ev.clip_time_budget_s)
        shards: list = [None] * len(units)
        for outcome, i in zip(ran, order, strict=True):  # back in (step, clip) order
            shards[i] = outcome
        ends = np.cumsum([0, *(len(cut) for cut in bounds)])
        outcomes = [merge_outcomes(shards[ends[k]:ends[k + 1]]) for k in range(len(steps))]
        record["provenance"]["sandbox"] = sandbox_provenance(outcomes[0].sandbox)
        record["provenance"]["execution"] = backend.describe()
        maps_per_step = []
        for (step, label, _), outcome in zip(steps, outcomes):
            if progress:
                state = "ok" if outcome.failure is None else f"FAILED ({outcome.failure.kind})"
                print(f"[{name}] sanity step {step} ({label}): {len(outcome.runs)} clips, {state}", flush=True)
            if outcome.failure is not None:
                record["failure"] = {**outcome.failure.as_dict(), "step": step, "label": label}
                return _write(final, record)
            maps_per_step.append([r.attribution for r in outcome.runs])
        if progress:
            print(f"[{name}] sanity: {len(steps)} runs ({len(units)} units) in "
                  f"{time.perf_counter() - t0:.1f} s ({backend.parallelism} at a time, {backend.name} backend)",
                  flush=True)
        reference = maps_per_step[0]
        record["reference_constant"] = [bool(np.ptp(np.maximum(m, 0.0)) == 0) for m in reference]
        for maps in maps_per_step[1:]:
            sims.append([compare_maps(ref, m) for ref, m in zip(reference, maps)])

    randomized: list[str] = []
    for (step, (label, blocks)), per_clip in zip(enumerate(cascade_for(net), 1), sims):
        randomized += blocks
        entry: dict[str, Any] = {
            "step": step,
            "label": label,
            "blocks": list(blocks),
            "randomized": list(randomized),
        }
        for basis in MAP_BASES:
            rho = [c[basis].spearman for c in per_clip]
            ssim = [c[basis].ssim for c in per_clip]
            entry[basis] = {
                "spearman": _interval(rho, resamples, bseed),
                "ssim": _interval(ssim, resamples, bseed),
                "constant": int(sum(c[basis].constant for c in per_clip)),
                "per_clip": {"spearman": rho, "ssim": ssim},
            }
        record["steps"].append(entry)
    last = record["steps"][-1]["scored"]
    record.update(
        status="ok",
        verdict=verdict(last["per_clip"]["spearman"], record["reference_constant"], sanity.threshold),
        full={"spearman": last["spearman"], "ssim": last["ssim"]},
        stage_wall_s=time.perf_counter() - started,
    )
    out = _write(final, record)
    if progress:
        print(
            f"[{name}] sanity: {record['verdict'].upper()} (Spearman at full randomisation "
            f"{last['spearman']['mean']:.3f}, threshold {sanity.threshold:g}); wrote {out}",
            flush=True,
        )
    return out
