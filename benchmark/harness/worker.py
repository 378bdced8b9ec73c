"""The worker process: confines itself, loads the model, then imports and runs the submission, one clip at a time.

Started by the reaper (:mod:`benchmark.harness.reaper`) and driven by the supervisor
(:mod:`benchmark.harness.supervisor`) over one pipe that carries JSON only (the supervisor never unpickles
anything the worker sends); arrays travel as ``.npy`` files in the worker's scratch folder, written by the
supervisor just before a request and by the worker just before its answer. The worker is the only process
that ever executes a submission's code. In order:

1. It points ``HOME``, ``TMPDIR`` and the XDG/Matplotlib cache folders at its scratch folder, enters the
   sandbox (:mod:`benchmark.harness.sandbox`, before torch starts threads), caps its address space, and
   reports ``{"op": "sandbox", "status": ...}``.
2. It loads the checkpoint, puts a :class:`~benchmark.harness.metering.PassMeter` on the network and
   reports ``{"op": "ready", "device": ...}``. The supervisor then times a few ``calibrate`` requests, which
   take the per-clip path below with a built-in explainer that returns zeros: the fixed cost of a request,
   measured before any submission code exists in the process.
3. ``load``: it imports ``explainer.py`` and checks its signature, ``{"op": "loaded"}``.
4. ``clip`` (the clip and baseline in :data:`CLIP_FILE` and :data:`BASELINE_FILE`): it explains the clip,
   writes the channel-summed map ``(T, H, W)`` to :data:`RESULT_FILE` and answers ``{"op": "result",
   "clip_id", "forward", "backward"}``, or ``{"op": "error", "clip_id", "kind", "message", "traceback"}``
   and nothing more.

The worker never holds more than the clip it explains, so a submission cannot work ahead on later clips,
and it never times anything: the supervisor measures runtime from outside (the submission could replace
any clock in its own process).
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.harness.runspec import RunSpec

__all__ = ["BASELINE_FILE", "CLIP_FILE", "MAX_MESSAGE_BYTES", "RESULT_FILE", "scratch_environment", "worker_main"]

CLIP_FILE = "request_clip.npy"
BASELINE_FILE = "request_baseline.npy"
RESULT_FILE = "result.npy"
MAX_MESSAGE_BYTES = 1 << 20
"""The longest message either side accepts (a traceback fits; a flood is a protocol violation)."""


def send(conn, **message: Any) -> None:
    """One JSON message (the only thing the pipe carries)."""
    conn.send_bytes(json.dumps(message, default=str).encode())


def receive(conn) -> dict[str, Any]:
    """One JSON message from ``conn`` (``OSError`` when it is longer than :data:`MAX_MESSAGE_BYTES`,
    ``ValueError`` when it is not a JSON object)."""
    message = json.loads(conn.recv_bytes(MAX_MESSAGE_BYTES))
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    return message


def scratch_environment(scratch: str) -> dict[str, str]:
    """Environment variables that send every cache and temporary file of the worker into ``scratch``
    (Matplotlib's font cache among them: otherwise it warns that it cannot write ``~/.cache``)."""
    return {
        "HOME": scratch,
        "TMPDIR": scratch,
        "XDG_CACHE_HOME": os.path.join(scratch, ".cache"),
        "XDG_CONFIG_HOME": os.path.join(scratch, ".config"),
        "MPLCONFIGDIR": os.path.join(scratch, ".config", "matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text


def worker_main(conn, spec: RunSpec) -> None:  # pragma: no cover - runs in the child process
    """Serve the supervisor's requests for ``spec`` over ``conn`` (see the module docstring); never raises."""
    clip_id: str | None = None
    try:
        from benchmark.harness.allocator import retain_freed_memory
        from benchmark.harness.sandbox import SandboxError, enter_sandbox

        retain_freed_memory()  # the same allocator for every submission (see the module)
        os.environ.update(scratch_environment(spec.out_dir))
        try:  # before `import torch` starts threads; confines this process and everything it starts
            status = enter_sandbox(read_only=(spec.submission_dir, spec.checkpoint, *spec.read_only_paths),
                                   read_write=(spec.out_dir,), mode=spec.sandbox)
        except (SandboxError, ValueError) as exc:
            send(conn, op="error", clip_id=None, kind="sandbox", message=str(exc), traceback="")
            return
        send(conn, op="sandbox", status=status.as_dict())
        tempfile.tempdir = None
        os.chdir(spec.out_dir)  # relative writes of the submission land in the scratch folder
        if spec.memory_cap_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (spec.memory_cap_bytes, spec.memory_cap_bytes))
        _serve(conn, spec)
    except MemoryError:
        send(conn, op="error", clip_id=clip_id, kind="memory",
             message="the worker ran out of memory (evaluate.memory_cap_gb)", traceback=traceback.format_exc())
    except Exception as exc:
        send(conn, op="error", clip_id=clip_id, kind="exception", message=f"{type(exc).__name__}: {exc}",
             traceback=traceback.format_exc())
    finally:
        conn.close()


def _serve(conn, spec: RunSpec) -> None:  # pragma: no cover - runs in the child process
    import numpy as np
    import torch

    from benchmark.explain.contract import SubmissionError, check_output, load_submission
    from benchmark.explain.seeding import clip_generator
    from benchmark.harness.metering import PassMeter
    from benchmark.model.checkpoint import load_checkpoint
    from benchmark.model.i3d import ProbabilityModel

    torch.set_num_threads(spec.threads)
    device = torch.device(spec.device)
    net, _ = load_checkpoint(spec.checkpoint)
    net = net.to(device).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    model = ProbabilityModel(net).eval()
    meter = PassMeter(net)
    weights = {k: v.detach().clone() for k, v in net.state_dict().items()}
    name = Path(spec.submission_dir).name
    send(conn, op="ready", device=str(device))

    def zeros(model, clips, *, target, baselines, params, generator):
        return torch.zeros_like(clips)

    def fail(clip_id: str | None, kind: str, message: str, tb: str = "") -> None:
        send(conn, op="error", clip_id=clip_id, kind=kind, message=message, traceback=tb)

    explain: Callable[..., Any] = zeros
    while True:
        request = receive(conn)
        op = request.get("op")
        if op == "stop":
            return
        if op == "load":
            try:
                explain = load_submission(Path(spec.submission_dir)).explain
            except SubmissionError as exc:
                return fail(None, "invalid_submission", str(exc))
            send(conn, op="loaded")
            continue
        clip_id = str(request["clip_id"])
        x = torch.from_numpy(np.load(CLIP_FILE, allow_pickle=False)).to(device)
        b = torch.from_numpy(np.load(BASELINE_FILE, allow_pickle=False)).to(device)
        x_copy, b_copy = x.clone(), b.clone()
        meter.reset()
        gen = clip_generator(spec.seed, name, clip_id)
        try:
            attr = explain(model, x, target=spec.target, baselines=b, params=dict(spec.params), generator=gen)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
        except MemoryError:
            return fail(clip_id, "memory", "the submission ran out of memory (evaluate.memory_cap_gb)",
                        traceback.format_exc())
        except Exception as exc:  # the submission's own error
            return fail(clip_id, "memory" if _is_oom(exc) else "exception", f"{type(exc).__name__}: {exc}",
                        traceback.format_exc())
        counts = meter.counts
        problem = _tampering(model, net, meter, weights, (x, x_copy), (b, b_copy))
        if problem:
            return fail(clip_id, "tampering", problem)
        try:
            attr = check_output(attr, x)
        except SubmissionError as exc:
            return fail(clip_id, "invalid_output", str(exc))
        summed = attr[0].sum(0) if attr.dim() == 5 else attr[0]
        np.save(RESULT_FILE, np.ascontiguousarray(summed.detach().float().cpu().numpy()), allow_pickle=False)
        send(conn, op="result", clip_id=clip_id, forward=int(counts.forward), backward=int(counts.backward))


def _tampering(model, net, meter, weights, clip_pair, baseline_pair) -> str:
    """What the submission changed that it must not have (``""``: nothing)."""
    import torch

    if any(not torch.equal(now, before) for now, before in (clip_pair, baseline_pair)):
        return "the submission modified its input clip or baseline in place; clone tensors before editing them"
    state = net.state_dict()
    if state.keys() != weights.keys() or any(not torch.equal(state[k], v) for k, v in weights.items()):
        return "the submission modified the model's weights or buffers; explainers must leave the model unchanged"
    if model.net is not net or net.training:
        return ("the submission replaced the network or left it in training mode; explainers must leave the "
                "model unchanged")
    problem = meter.tampering()
    if problem:
        return f"{problem}: the harness counts model passes at the network itself, and nothing may bypass that"
    return ""
