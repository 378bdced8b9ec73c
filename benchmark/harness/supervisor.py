"""Start the isolated worker (:mod:`benchmark.harness.worker`) and supervise it: budgets, kills, outcomes.

The worker gets the clips (model-input space), the baselines and the model; it never receives masks
or labels. It runs under an address-space cap, reports after every clip, and is killed when a clip
exceeds its time budget. Whatever the submission does (raise, hang, exhaust memory, ``os._exit``,
edit the weights or the clip), the parent gets a :class:`RunOutcome` that says which clip and what
happened, instead of an exception or a hung stage.

Independent runs (clip shards, seeds, sanity steps) run in parallel with :func:`run_submissions`.
"""

from __future__ import annotations

import multiprocessing as mp
import os

import numpy as np

from benchmark.harness.outcomes import ClipRun, Failure, RunOutcome
from benchmark.harness.runspec import RunSpec
from benchmark.harness.worker import worker_main

__all__ = ["merge_outcomes", "run_submission", "run_submissions", "shard_bounds"]


def run_submission(spec: RunSpec, *, clip_time_budget_s: float, start_timeout_s: float = 300.0) -> RunOutcome:
    """Run ``spec`` in a spawned worker; never raises for anything the submission does."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=worker_main, args=(child, spec), daemon=True)
    proc.start()
    child.close()
    outcome = RunOutcome(threads=spec.threads, device=spec.device)
    current: str | None = None
    budget = start_timeout_s + clip_time_budget_s  # model loading and the warm-up come first
    try:
        while True:
            if not parent.poll(budget):
                outcome.failure = Failure(current, "timeout", f"no result within {budget:.0f} s "
                                          "(evaluate.clip_time_budget_s); the worker was stopped")
                break
            try:
                msg = parent.recv()
            except EOFError:
                proc.join(5)
                code = proc.exitcode
                outcome.failure = Failure(current, "crash", f"the worker process died (exit code {code}) while "
                                          "explaining; the submission called os._exit, crashed the interpreter or "
                                          "was killed")
                break
            tag = msg[0]
            if tag == "sandbox":
                outcome.sandbox = msg[1]
            elif tag == "ready":
                device = msg[1]
                outcome.device = device
                budget = 2 * clip_time_budget_s if spec.warmup else clip_time_budget_s
                current = spec.clip_ids[0] if spec.clip_ids else None
            elif tag == "clip":
                _, clip_id, path, runtime, fwd, bwd = msg
                outcome.runs.append(ClipRun(clip_id, np.load(path), runtime, fwd, bwd))
                os.unlink(path)
                idx = len(outcome.runs)
                current = spec.clip_ids[idx] if idx < len(spec.clip_ids) else None
                budget = clip_time_budget_s
            elif tag == "error":
                _, clip_id, kind, message, tb = msg
                outcome.failure = Failure(clip_id, kind, message, tb)
                break
            elif tag == "done":
                break
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        parent.close()
    return outcome


def run_submissions(specs: list[RunSpec], *, workers: int, clip_time_budget_s: float) -> list[RunOutcome]:
    """Run several independent specs (clip shards, seeds, sanity steps), at most ``workers`` at a time.

    Each spec gets its own worker process, exactly as :func:`run_submission`; outcomes come back in the
    order of ``specs``. The units are independent and seeded per (submission, clip), so the attributions
    do not depend on ``workers`` (runtimes do, if the workers compete for the same cores).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(specs) <= 1:
        return [run_submission(s, clip_time_budget_s=clip_time_budget_s) for s in specs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, len(specs))) as pool:  # threads only wait on pipes
        return list(pool.map(lambda s: run_submission(s, clip_time_budget_s=clip_time_budget_s), specs))


def merge_outcomes(outcomes: list[RunOutcome]) -> RunOutcome:
    """Join the outcomes of consecutive clip shards into one, in clip order.

    The merged outcome fails with the first failure in clip order; its runs are the runs of the shards
    before that failure.
    """
    merged = RunOutcome(device=outcomes[0].device if outcomes else "cpu",
                        threads=outcomes[0].threads if outcomes else 1,
                        sandbox=outcomes[0].sandbox if outcomes else None)
    for o in outcomes:
        merged.runs.extend(o.runs)
        if o.failure is not None:
            merged.failure = o.failure
            break
    return merged


def shard_bounds(n: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous, near-equal ``[lo, hi)`` ranges covering ``range(n)`` (no empty range)."""
    shards = max(1, min(shards, n)) if n else 1
    step, extra = divmod(n, shards)
    bounds, lo = [], 0
    for k in range(shards):
        hi = lo + step + (1 if k < extra else 0)
        bounds.append((lo, hi))
        lo = hi
    return bounds
