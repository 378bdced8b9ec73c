"""The worker process: confines itself, loads the model and the submission, explains clip after clip.

Runs in a spawned child (see :mod:`benchmark.harness.supervisor`, which starts it and reads its messages).
It enters the sandbox before importing torch, caps its own address space, and reports over a pipe:
``("sandbox", status)``, ``("ready", device)``, ``("clip", clip_id, npy_path, runtime_s, forward, backward)``
per clip, then ``("done",)``, or ``("error", clip_id, kind, message, traceback)`` and nothing more.

Timing and pass counting happen here, around the submission's call only: the first clip is run once as a
warm-up (not recorded), then every clip is timed.
"""

from __future__ import annotations

import hashlib
import os
import resource
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from benchmark.harness.runspec import RunSpec

__all__ = ["worker_main"]


def _is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text


def _state_digest(tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def worker_main(conn, spec: RunSpec) -> None:  # pragma: no cover - runs in the child process
    """Explain ``spec``'s clips and report each over ``conn`` (see the module docstring); never raises."""
    clip_id: str | None = None
    try:
        from benchmark.harness.sandbox import SandboxError, enter_sandbox

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
        from benchmark.explain.contract.counting import PassCounter
        from benchmark.explain.contract.output import check_output
        from benchmark.explain.seeding import clip_generator
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
