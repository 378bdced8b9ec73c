"""Run a submission in its confined worker and measure it from outside: budgets, runtimes, kills, outcomes.

For every run the supervisor starts a reaper (:mod:`benchmark.harness.reaper`), which starts the worker
(:mod:`benchmark.harness.worker`) and owns its whole process tree. The supervisor then hands the worker one
clip at a time and measures, in its own process, the wall time from handing a clip over to receiving its
attribution; the fixed cost of a request (pipe transfers, the worker's checks) is measured the same way
before the submission's code is loaded and subtracted. After every clip the reaper kills whatever the
submission left running. Whatever the submission does (raise, hang, exhaust memory, ``os._exit``, edit the
weights or the clip, bypass the pass meter, flood its output, start processes), the caller gets a
:class:`~benchmark.harness.outcomes.RunOutcome` that says which clip and what happened, and no process of
the run survives it.

Independent runs (clip shards, seeds, sanity steps) run in parallel with :func:`run_submissions`.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.harness.outcomes import FAILURE_KINDS, ClipRun, Failure, RunOutcome
from benchmark.harness.reaper import CapturedOutput, launch
from benchmark.harness.runspec import RunSpec
from benchmark.harness.worker import (
    BASELINE_FILE,
    CLIP_FILE,
    RESULT_FILE,
    receive,
    scratch_environment,
    send,
    worker_main,
)

__all__ = ["CALIBRATION_REQUESTS", "merge_outcomes", "run_submission", "run_submissions", "shard_bounds",
           "longest_first", "split_groups"]

CALIBRATION_REQUESTS = 3
"""Requests with the built-in zero explainer that measure the fixed cost of a request (their median)."""
_REAPER_TIMEOUT_S = 30.0


class _Stop(Exception):
    """The run ended early; ``failure`` says why."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def run_submission(spec: RunSpec, clips: np.ndarray, baselines: np.ndarray, *, clip_time_budget_s: float,
                   start_timeout_s: float = 300.0) -> RunOutcome:
    """Explain ``clips`` ``(N, 3, T, H, W)`` (``N = len(spec.clip_ids)``) against ``baselines`` with the
    submission of ``spec``, in a confined worker; never raises for anything the submission does.

    ``spec.out_dir`` must be an empty folder: it becomes the worker's scratch folder and is deleted when the
    run ends, with whatever the submission wrote there. Each clip may take ``clip_time_budget_s`` (the
    warm-up clip twice that); starting the worker and importing the submission ``start_timeout_s`` more.
    ``runtime_s`` of each clip is measured here.
    """
    if len(clips) != len(spec.clip_ids) or len(baselines) != len(spec.clip_ids):
        raise ValueError(f"run_submission: {len(spec.clip_ids)} clip ids but {len(clips)} clips and "
                         f"{len(baselines)} baselines")
    conn, worker_end = mp.Pipe(duplex=True)
    control, reaper_end = mp.Pipe(duplex=True)
    reaper = launch(reaper_end.fileno(), worker_end.fileno())
    worker_end.close()
    reaper_end.close()
    outcome = RunOutcome(threads=spec.threads, device=spec.device)
    current: str | None = None
    try:
        control.send(("run", worker_main, (spec,), scratch_environment(spec.out_dir)))
        _expect(control, "started", start_timeout_s, None)

        def answer(budget: float, expected: str) -> dict[str, Any]:
            """The worker's next answer of kind ``expected`` (raises :class:`_Stop` on anything else)."""
            while True:
                if not conn.poll(budget):
                    raise _Stop(Failure(current, "timeout", f"no answer within {budget:.0f} s "
                                        "(evaluate.clip_time_budget_s); the worker was stopped"))
                try:
                    message = receive(conn)
                except (EOFError, ConnectionError):
                    raise _Stop(Failure(current, "crash", "the worker process died while explaining; the "
                                        "submission called os._exit, crashed the interpreter or was killed")) from None
                except (OSError, ValueError) as exc:
                    raise _Stop(Failure(current, "tampering", f"the worker sent a message the harness does not "
                                        f"accept ({type(exc).__name__}); the submission wrote to the "
                                        "harness's pipe")) from None
                op = message.get("op")
                if op == "error":
                    kind = str(message.get("kind"))
                    raise _Stop(Failure(message.get("clip_id"), kind if kind in FAILURE_KINDS else "crash",
                                        str(message.get("message")), str(message.get("traceback", ""))))
                if op == "sandbox" and outcome.sandbox is None and isinstance(message.get("status"), dict):
                    outcome.sandbox = message["status"]
                    continue
                if op != expected:
                    raise _Stop(Failure(current, "tampering", f"the worker answered {op!r} where the harness "
                                        f"expected {expected!r}; the submission wrote to the harness's pipe"))
                return message

        outcome.device = str(answer(start_timeout_s, "ready").get("device"))
        if not spec.clip_ids:
            return outcome
        scratch = Path(spec.out_dir)
        overhead = statistics.median(
            _request(conn, control, answer, scratch, spec.clip_ids[0], clips[0], baselines[0], "calibrate",
                     start_timeout_s)[0]
            for _ in range(CALIBRATION_REQUESTS)
        )
        send(conn, op="load")
        answer(start_timeout_s, "loaded")
        order = ([0] if spec.warmup else []) + list(range(len(spec.clip_ids)))
        for n, i in enumerate(order):
            current = spec.clip_ids[i]
            warm = spec.warmup and n == 0
            budget = clip_time_budget_s * (2 if warm else 1)
            elapsed, (attribution, forward, backward) = _request(conn, control, answer, scratch, current,
                                                                 clips[i], baselines[i], "clip", budget)
            if not warm:
                outcome.runs.append(ClipRun(current, attribution, max(0.0, elapsed - overhead), forward, backward))
        current = None
        return outcome
    except _Stop as stop:
        outcome.failure = stop.failure
        return outcome
    finally:
        output = _stop(conn, control, reaper)
        if outcome.failure is not None and output is not None and output.bytes:
            excerpt = output.excerpt()
            outcome.failure = Failure(outcome.failure.clip_id, outcome.failure.kind, outcome.failure.message,
                                      (outcome.failure.traceback + "\n" if outcome.failure.traceback else "")
                                      + "worker output:\n" + excerpt)
        outcome.output_bytes = output.bytes if output is not None else 0
        shutil.rmtree(spec.out_dir, ignore_errors=True)  # nothing a run writes reaches a later run


def _request(conn, control, answer, scratch: Path, clip_id: str, x: np.ndarray, b: np.ndarray, kind: str,
             budget: float) -> tuple[float, tuple[np.ndarray, int, int]]:
    """Hand one clip over (``kind``: ``calibrate`` or ``clip``), wait for its attribution, then have the reaper
    kill whatever the submission left running.

    Returns the wall time from handing the clip over to receiving the answer, and ``(attribution (T, H, W)
    float32, forward samples, backward samples)``; the attribution is read from the scratch folder without
    unpickling and checked again here (the worker's own check runs where the submission could change it).
    """
    np.save(scratch / CLIP_FILE, np.ascontiguousarray(x[None]), allow_pickle=False)  # a batch of one clip
    np.save(scratch / BASELINE_FILE, np.ascontiguousarray(b[None]), allow_pickle=False)
    (scratch / RESULT_FILE).unlink(missing_ok=True)
    started = time.perf_counter()
    send(conn, op=kind, clip_id=clip_id)
    message = answer(budget, "result")
    elapsed = time.perf_counter() - started
    control.send(("sweep",))
    _expect(control, "swept", _REAPER_TIMEOUT_S, clip_id)
    expected = tuple(x.shape[1:])  # (T, H, W) of the (3, T, H, W) clip
    try:
        attribution = np.load(scratch / RESULT_FILE, allow_pickle=False)
        counts = int(message["forward"]), int(message["backward"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _Stop(Failure(clip_id, "tampering", f"the worker's answer could not be read ({exc}); the "
                            "submission interfered with the harness")) from None
    if attribution.shape != expected or attribution.dtype != np.float32 or not np.isfinite(attribution).all() \
            or min(counts) < 0 or message.get("clip_id") != clip_id:
        raise _Stop(Failure(clip_id, "tampering", "the worker's answer does not match the request (shape, dtype, "
                            "finiteness, counts or clip); the submission interfered with the harness"))
    return elapsed, (attribution, *counts)


def _expect(control, tag: str, timeout: float, clip_id: str | None) -> tuple:
    if not control.poll(timeout):
        raise _Stop(Failure(clip_id, "crash", f"the run's reaper did not answer {tag!r} within {timeout:.0f} s"))
    try:
        message = control.recv()
    except (EOFError, OSError):
        raise _Stop(Failure(clip_id, "crash", "the run's reaper process died")) from None
    if message[0] != tag:
        raise _Stop(Failure(clip_id, "crash", f"the run's reaper answered {message[0]!r}, expected {tag!r}"))
    return message


def _stop(conn, control, reaper) -> CapturedOutput | None:
    """End the run: the reaper kills the worker and every process of its tree, and returns the output."""
    output = None
    try:
        send(conn, op="stop")
    except (OSError, BrokenPipeError):
        pass
    try:
        control.send(("stop",))
        if control.poll(_REAPER_TIMEOUT_S):
            message = control.recv()
            if message[0] == "stopped":
                output = message[3]
    except (EOFError, OSError, BrokenPipeError):
        pass
    try:
        reaper.wait(_REAPER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait(10)
    for c in (conn, control):
        c.close()
    return output


def run_submissions(jobs: list[tuple[RunSpec, np.ndarray, np.ndarray]], *, workers: int,
                    clip_time_budget_s: float) -> list[RunOutcome]:
    """Run several independent ``(spec, clips, baselines)`` jobs (clip shards, seeds, sanity steps), at most
    ``workers`` at a time.

    Each job gets its own reaper and worker, exactly as :func:`run_submission`; outcomes come back in the
    order of ``jobs``. The units are independent and seeded per (submission, clip), so the attributions do
    not depend on ``workers`` (runtimes do, if the workers compete for the same cores).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")

    def run(job: tuple[RunSpec, np.ndarray, np.ndarray]) -> RunOutcome:
        return run_submission(*job, clip_time_budget_s=clip_time_budget_s)

    if workers == 1 or len(jobs) <= 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:  # threads only wait on pipes
        return list(pool.map(run, jobs))


def merge_outcomes(outcomes: list[RunOutcome]) -> RunOutcome:
    """Join the outcomes of consecutive clip shards into one, in clip order.

    The merged outcome fails with the first failure in clip order; its runs are the runs of the shards
    before that failure.
    """
    merged = RunOutcome(device=outcomes[0].device if outcomes else "cpu",
                        threads=outcomes[0].threads if outcomes else 1,
                        sandbox=outcomes[0].sandbox if outcomes else None,
                        output_bytes=sum(o.output_bytes for o in outcomes))
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


def split_groups(n: int, groups: int, lanes: int) -> list[list[tuple[int, int]]]:
    """Cut ``groups`` runs over the same ``n`` clips into units for ``lanes`` parallel workers.

    The ``groups * n`` (group, clip) pairs are laid end to end, group after group, and cut into ``lanes``
    near-equal lanes (:func:`shard_bounds`); a unit is the part of one group inside one lane. Run longest first
    (:func:`longest_first`), the units spread the work evenly with at most ``lanes - 1`` units more than
    ``groups``: 5 runs of 3 clips on 2 workers become units of 3, 3, 2 | 1, 3, 3 clips (8 clip-times, against
    9 for whole runs), while 8 runs of 3 clips stay 8 units. Whole runs are kept wherever cutting would not
    finish sooner. Returns, per group, its ``[lo, hi)`` clip ranges in order (at least one each).
    """
    whole = [[(0, n)] for _ in range(groups)]
    if n < 2 or groups < 1:
        return whole
    cuts = {hi for _, hi in shard_bounds(groups * n, lanes)}
    split = []
    for g in range(groups):
        edges = [0, *sorted(c - g * n for c in cuts if g * n < c < (g + 1) * n), n]
        split.append(list(zip(edges[:-1], edges[1:])))
    return split if _makespan(split, lanes) < _makespan(whole, lanes) else whole


def longest_first(sizes: Sequence[int]) -> list[int]:
    """Indices of ``sizes``, largest first (ties in their order): the order to hand units to a worker pool."""
    return sorted(range(len(sizes)), key=lambda i: -sizes[i])


def _makespan(cut: list[list[tuple[int, int]]], lanes: int) -> int:
    """Clip-times until the last unit ends, the units handed longest first to ``lanes`` workers."""
    sizes = [hi - lo for bounds in cut for lo, hi in bounds]
    finish = [0] * max(1, lanes)
    for i in longest_first(sizes):
        finish[finish.index(min(finish))] += sizes[i]
    return max(finish)
