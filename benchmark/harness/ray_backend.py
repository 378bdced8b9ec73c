"""The Ray backend: every unit of a stage is a Ray task on an existing cluster (or a one-node one).

What runs where:

* the **driver** is the stage process (``benchmark evaluate`` / ``benchmark sanity``); it cuts the clips into
  shards, puts the inputs into Ray's object store once per stage (each clip array, each checkpoint, each
  submission folder as a tar of its regular files), collects the outcomes, scores them and writes
  ``results/<name>/`` atomically, exactly as the local backend does. MLflow is never called from a task;
* each **task** (``num_cpus`` = ``evaluate.threads``; a GPU share when the cluster has GPUs; a ``memory``
  request equal to the worker's address-space cap, which Ray uses for placement only) writes its inputs into a
  node-local temporary folder and runs :func:`benchmark.harness.supervisor.run_submission` there: the same
  reaper, confined worker, time budget, memory cap and tamper checks as on one machine. Nothing relies on a
  folder shared between nodes.

A unit past its deadline (every clip's budget, plus start-up) is cancelled with ``force=True`` (Ray kills the
task's process; the reaper sees its control pipe close and kills the worker's tree). A unit whose node or
process is lost is retried once, then recorded as a failed result naming its first clip.

Traps avoided here: usage statistics are off (``RAY_USAGE_STATS_ENABLED=0``); the object store of a local
cluster is sized explicitly (Docker's 64 MB ``/dev/shm`` would push it to ``/tmp``); and the reaper starts as
``python -m benchmark.harness.reaper``, so no child re-imports Ray's worker script (about 0.8 s per unit).
"""

from __future__ import annotations

import dataclasses
import io
import os
import socket
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402
import ray  # noqa: E402

from benchmark.harness.outcomes import Failure, RunOutcome  # noqa: E402
from benchmark.harness.runspec import RunSpec  # noqa: E402
from benchmark.harness.supervisor import CALIBRATION_REQUESTS, run_submission  # noqa: E402

__all__ = ["LOCAL_OBJECT_STORE_BYTES", "RayBackend"]

LOCAL_OBJECT_STORE_BYTES = 256 * 2**20
"""Object store of a one-node cluster started for a stage: the clips of a stage are a few MB to a few 100 MB."""
START_TIMEOUT_S = 300.0
"""Starting a worker, loading the model and importing the submission (as on one machine)."""
_MARGIN_S = 120.0


def _folder_tar(folder: Path) -> bytes:
    """The regular files of a submission folder (no links, no caches, no DVC lock), as an in-memory tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file() or "__pycache__" in path.parts or path.name == "dvc.lock":
                continue
            tar.add(path, arcname=str(Path(folder.name) / path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def _run_unit(spec: RunSpec, clips: np.ndarray, baselines: np.ndarray, checkpoint: bytes, submission: bytes,
              clip_time_budget_s: float) -> tuple[RunOutcome, str]:
    """The task body: materialise the inputs on this node, run the unit, return its outcome and the host."""
    with tempfile.TemporaryDirectory(prefix="benchmark-unit-") as tmp:
        root = Path(tmp)
        (root / "model.pt").write_bytes(checkpoint)
        with tarfile.open(fileobj=io.BytesIO(submission)) as tar:
            tar.extractall(root / "submission", filter="data")
        scratch = root / "scratch"
        scratch.mkdir()
        local = dataclasses.replace(
            spec,
            submission_dir=str(root / "submission" / Path(spec.submission_dir).name),
            checkpoint=str(root / "model.pt"),
            out_dir=str(scratch),
            device="cuda" if ray.get_gpu_ids() else "cpu",
        )
        outcome = run_submission(local, clips, baselines, clip_time_budget_s=clip_time_budget_s,
                                 start_timeout_s=START_TIMEOUT_S)
    return outcome, socket.gethostname()


_remote_unit = ray.remote(_run_unit)


class RayBackend:
    """Units as Ray tasks (see the module docstring).

    Args:
        address: the cluster (``RAY_ADDRESS``); ``None`` starts a one-node cluster on this machine for the
            stage (stopped by :meth:`close`).
        threads: torch threads per unit, and so the CPUs each task asks for.
        units_per_gpu: how many units share one GPU when the cluster has GPUs.
    """

    name = "ray"

    def __init__(self, address: str | None, threads: int, units_per_gpu: int = 1) -> None:
        self.threads = max(1, int(threads))
        self.units_per_gpu = max(1, int(units_per_gpu))
        self.address = address
        self._owns_cluster = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=os.cpu_count(), object_store_memory=LOCAL_OBJECT_STORE_BYTES, **options)
                self._owns_cluster = True
        resources = ray.cluster_resources()
        self.cpus = int(resources.get("CPU", 0))
        self.gpus = float(resources.get("GPU", 0))
        self.nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        self.hosts: dict[str, int] = {}

    @property
    def parallelism(self) -> int:
        if self.gpus >= 1:
            return max(1, int(self.gpus) * self.units_per_gpu)
        return max(1, self.cpus // self.threads)

    def run(self, jobs: Sequence[tuple[RunSpec, np.ndarray, np.ndarray]], *,
            clip_time_budget_s: float) -> list[RunOutcome]:
        """Submit every job as a task, wait for them with their deadlines, map lost or late tasks to failures."""
        puts: dict[int, Any] = {}
        files: dict[tuple[str, str], Any] = {}

        def put_array(a: np.ndarray) -> Any:
            if id(a) not in puts:
                puts[id(a)] = ray.put(np.ascontiguousarray(a))
            return puts[id(a)]

        def put_file(kind: str, path: str) -> Any:
            if (kind, path) not in files:
                data = Path(path).read_bytes() if kind == "checkpoint" else _folder_tar(Path(path))
                files[(kind, path)] = ray.put(data)
            return files[(kind, path)]

        gpu = (1.0 / self.units_per_gpu) if self.gpus >= 1 else 0.0
        refs, deadlines = [], []
        for spec, clips, baselines in jobs:
            task = _remote_unit.options(num_cpus=self.threads, num_gpus=gpu, memory=spec.memory_cap_bytes or 0,
                                        max_retries=1, retry_exceptions=False)
            # the task gets no path of the driver's: it materialises its inputs from the object store
            remote_spec = dataclasses.replace(spec, submission_dir=f"/driver-only/{Path(spec.submission_dir).name}",
                                              checkpoint="/driver-only/model.pt", out_dir="/driver-only/scratch")
            refs.append(task.remote(remote_spec, put_array(clips), put_array(baselines),
                                    put_file("checkpoint", spec.checkpoint),
                                    put_file("submission", spec.submission_dir), clip_time_budget_s))
            clip_budgets = (CALIBRATION_REQUESTS + 2 + len(spec.clip_ids)) * clip_time_budget_s
            deadlines.append(START_TIMEOUT_S + clip_budgets + _MARGIN_S)
        started = time.monotonic()
        outcomes: list[RunOutcome | None] = [None] * len(jobs)
        pending = dict(enumerate(refs))
        while pending:
            ready, _ = ray.wait(list(pending.values()), num_returns=1, timeout=5.0)
            now = time.monotonic() - started
            for i, ref in list(pending.items()):
                spec = jobs[i][0]
                if ref in ready:
                    outcomes[i] = self._collect(ref, spec)
                    del pending[i]
                elif now > deadlines[i]:
                    ray.cancel(ref, force=True)
                    outcomes[i] = _failed(spec, "timeout", f"the Ray task explaining clips {_span(spec)} ran past "
                                          f"its deadline of {deadlines[i]:.0f} s and was cancelled")
                    del pending[i]
        return [o for o in outcomes if o is not None]

    def _collect(self, ref: Any, spec: RunSpec) -> RunOutcome:
        try:
            outcome, host = ray.get(ref)
        except ray.exceptions.OutOfMemoryError as exc:
            return _failed(spec, "memory", f"Ray's memory monitor killed the task explaining clips {_span(spec)}: "
                                           f"{_first_line(exc)}")
        except ray.exceptions.TaskCancelledError:
            return _failed(spec, "timeout", f"the Ray task explaining clips {_span(spec)} was cancelled")
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                ray.exceptions.ObjectLostError, ray.exceptions.RayError) as exc:
            return _failed(spec, "crash", f"the Ray task explaining clips {_span(spec)} was lost twice (its "
                                          f"process or node died; retried once): {_first_line(exc)}")
        self.hosts[host] = self.hosts.get(host, 0) + 1
        return outcome

    def describe(self) -> dict[str, Any]:
        return {"backend": "ray", "ray": ray.__version__,
                "address": self.address or "a one-node cluster started for the stage",
                "nodes": self.nodes, "cpus": self.cpus, "gpus": self.gpus, "units_per_host": dict(self.hosts)}

    def close(self) -> None:
        if self._owns_cluster and ray.is_initialized():
            ray.shutdown()


def _span(spec: RunSpec) -> str:
    ids = spec.clip_ids
    return f"{ids[0]}..{ids[-1]}" if len(ids) > 1 else (ids[0] if ids else "(none)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _failed(spec: RunSpec, kind: str, message: str) -> RunOutcome:
    return RunOutcome(failure=Failure(spec.clip_ids[0] if spec.clip_ids else None, kind, message),
                      device=spec.device, threads=spec.threads)
