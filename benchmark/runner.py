"""Run a submission's ``explain`` in its own worker process, one clip at a time.

The worker gets the clips (model-input space), the baselines and the model; it never receives masks
or labels. It runs under an address-space cap, reports after every clip, and is killed when a clip
exceeds its time budget. Whatever the submission does (raise, hang, exhaust memory, ``os._exit``,
edit the weights or the clip), the parent gets a :class:`RunOutcome` that says which clip and what
happened, instead of an exception or a hung stage.

Timing and pass counting happen inside the worker, around the submission's call only: the first clip
is run once as a warm-up (not recorded), then every clip is timed.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import resource
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FAILURE_KINDS = ("invalid_submission", "exception", "invalid_output", "timeout", "memory", "crash", "tampering",
                 "sandbox")


@dataclass(frozen=True)
class ClipRun:
    """One clip's explanation: the channel-summed attribution ``(T, H, W)`` and its cost."""

    clip_id: str
    attribution: np.ndarray
    runtime_s: float
    forward_samples: int
    backward_samples: int


@dataclass(frozen=True)
class Failure:
    clip_id: str | None
    kind: str
    message: str
    traceback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"clip_id": self.clip_id, "kind": self.kind, "message": self.message, "traceback": self.traceback}


@dataclass
class RunOutcome:
    runs: list[ClipRun] = field(default_factory=list)
    failure: Failure | None = None
    device: str = "cpu"
    threads: int = 1
    sandbox: dict[str, Any] | None = None
    """What :func:`benchmark.sandbox.enter_sandbox` reported in the worker (``None`` before it reported)."""


@dataclass(frozen=True)
class RunSpec:
    """Everything the worker needs; plain data so that it pickles for a spawned process.

    ``clips_file`` holds float32 ``(N, 3, T, H, W)`` model inputs, ``baselines_file`` the same shape.
    ``sandbox`` is a :data:`benchmark.sandbox.MODES` value: the worker can then read only the Python
    runtime, ``submission_dir``, ``checkpoint``, the two input files and ``read_only_paths``, and write only
    ``out_dir`` (see :mod:`benchmark.sandbox`).
    """

    submission_dir: str
    checkpoint: str
    clips_file: str
    baselines_file: str
    clip_ids: tuple[str, ...]
    params: dict[str, Any]
    seed: int
    target: int
    threads: int
    device: str
    memory_cap_bytes: int | None
    out_dir: str
    warmup: bool = True
    sandbox: str = "auto"
    read_only_paths: tuple[str, ...] = ()


def run_submission(spec: RunSpec, *, clip_time_budget_s: float, start_timeout_s: float = 300.0) -> RunOutcome:
    """Run ``spec`` in a spawned worker; never raises for anything the submission does."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(child, spec), daemon=True)
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


def _is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text


def _state_digest(tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _worker(conn, spec: RunSpec) -> None:  # pragma: no cover - runs in the child process
    clip_id: str | None = None
    try:
        from benchmark.sandbox import SandboxError, enter_sandbox

        try:  # before `import torch` starts threads; confines this process and everything it starts
            status = enter_sandbox(read_only=(spec.submission_dir, spec.checkpoint, spec.clips_file,
                                              spec.baselines_file, *spec.read_only_paths),
                                   read_write=(spec.out_dir,), mode=spec.sandbox)
        except (SandboxError, ValueError) as exc:
            conn.send(("error", None, "sandbox", str(exc), ""))
            return
        conn.send(("sandbox", status.as_dict()))  # provenance: active, mechanism, reason
        os.environ["TMPDIR"] = spec.out_dir  # tempfile.* inside the scratch folder, the one writable place
        tempfile.tempdir = None
        os.chdir(spec.out_dir)  # relative writes of the submission land in a scratch folder
        if spec.memory_cap_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (spec.memory_cap_bytes, spec.memory_cap_bytes))
        import torch

        from benchmark.explain.contract import SubmissionError, load_submission
        from benchmark.explain.counting import PassCounter
        from benchmark.explain.seeding import clip_generator
        from benchmark.explain.validate import check_output
        from benchmark.model.checkpoint import load_checkpoint
        from benchmark.model.i3d import ProbabilityModel

        torch.set_num_threads(spec.threads)
        try:
            submission = load_submission(Path(spec.submission_dir))
        except SubmissionError as exc:
            conn.send(("error", None, "invalid_submission", str(exc), ""))
            return
        device = torch.device(spec.device)
        net, _ = load_checkpoint(spec.checkpoint)
        model = PassCounter(ProbabilityModel(net).to(device).eval())
        for p in model.parameters():
            p.requires_grad_(False)
        clips = torch.from_numpy(np.load(spec.clips_file)).to(device)
        baselines = torch.from_numpy(np.load(spec.baselines_file)).to(device)
        weights_digest = _state_digest(model.state_dict().values())
        conn.send(("ready", str(device)))

        order = list(range(len(spec.clip_ids)))
        if spec.warmup and order:
            order = [0] + order
        for n, i in enumerate(order):
            warm = spec.warmup and n == 0
            clip_id = spec.clip_ids[i]
            x, b = clips[i : i + 1], baselines[i : i + 1]
            x_digest, b_digest = _state_digest([x]), _state_digest([b])
            model.reset()
            gen = clip_generator(spec.seed, submission.name, clip_id)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            try:
                attr = submission.explain(model, x, target=spec.target, baselines=b,
                                          params=dict(spec.params), generator=gen)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
            except MemoryError:
                conn.send(("error", clip_id, "memory", "the submission ran out of memory "
                           "(evaluate.memory_cap_gb)", traceback.format_exc()))
                return
            except Exception as exc:  # the submission's own error
                kind = "memory" if _is_oom(exc) else "exception"
                conn.send(("error", clip_id, kind, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                return
            runtime = time.perf_counter() - t0
            counts = model.counts
            if _state_digest([x]) != x_digest or _state_digest([b]) != b_digest:
                conn.send(("error", clip_id, "tampering", "the submission modified its input clip or baseline "
                           "in place; clone tensors before editing them", ""))
                return
            if _state_digest(model.state_dict().values()) != weights_digest:
                conn.send(("error", clip_id, "tampering", "the submission modified the model's weights or "
                           "buffers; explainers must leave the model unchanged", ""))
                return
            try:
                attr = check_output(attr, x)
            except SubmissionError as exc:
                conn.send(("error", clip_id, "invalid_output", str(exc), ""))
                return
            if warm:
                continue
            summed = attr[0].sum(0) if attr.dim() == 5 else attr[0]
            fd, path = tempfile.mkstemp(dir=spec.out_dir, suffix=".npy")
            os.close(fd)
            np.save(path, summed.detach().float().cpu().numpy())
            conn.send(("clip", clip_id, path, runtime, int(counts.forward), int(counts.backward)))
        conn.send(("done",))
    except MemoryError:
        conn.send(("error", clip_id, "memory", "the worker ran out of memory (evaluate.memory_cap_gb)",
                   traceback.format_exc()))
    except Exception as exc:
        conn.send(("error", clip_id, "exception", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


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
