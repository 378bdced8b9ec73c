"""Where the units of a stage run: on this machine (``local``, the default) or on a Ray cluster (``ray``).

A *unit* is one run of the confined worker (:func:`benchmark.harness.supervisor.run_submission`): a contiguous
shard of the evaluation clips for one seed, or one step of the sanity cascade. The backend only decides where
units run; what a unit computes does not depend on it, so the per-clip scores are identical on every backend
(on the same machine kind). It is chosen by the environment, never by ``params.yaml``, so that moving a
pipeline between machines never invalidates a DVC stage:

* ``BENCHMARK_BACKEND`` -- ``local`` (default) or ``ray``;
* ``RAY_ADDRESS`` -- the Ray cluster to join (``auto`` for one started with ``ray start --head`` on this
  machine); unset, a one-node cluster is started for the stage and stopped with it;
* ``BENCHMARK_RAY_UNITS_PER_GPU`` -- how many units share one GPU when the cluster has GPUs (default 1).

Each result records where it ran (:meth:`Backend.describe`) in ``provenance.execution``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from benchmark.harness.outcomes import RunOutcome
from benchmark.harness.runspec import RunSpec
from benchmark.harness.supervisor import run_submissions
from benchmark.settings import ConfigError

__all__ = ["BACKEND_ENV", "BACKENDS", "Backend", "Job", "LocalBackend", "select_backend"]

BACKEND_ENV = "BENCHMARK_BACKEND"
BACKENDS: tuple[str, ...] = ("local", "ray")

Job = tuple[RunSpec, np.ndarray, np.ndarray]
"""One unit: the worker's specification, its clips ``(N, 3, T, H, W)`` and their baselines, float32."""


class Backend(Protocol):
    """Runs independent units and says where."""

    name: str

    @property
    def parallelism(self) -> int:
        """How many units run at once: the number of clip shards worth cutting."""

    def run(self, jobs: Sequence[Job], *, clip_time_budget_s: float) -> list[RunOutcome]:
        """Every job's outcome, in the order of ``jobs``; never raises for what a submission does."""

    def describe(self) -> dict[str, Any]:
        """The backend and the machines it used, for provenance."""

    def close(self) -> None:
        """Release what the backend started (a local Ray cluster)."""


class LocalBackend:
    """Units in worker processes on this machine, ``workers`` at a time (``evaluate.workers``; 1 on a GPU)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"LocalBackend: workers must be >= 1, got {workers}")
        self.workers = workers

    @property
    def parallelism(self) -> int:
        return self.workers

    def run(self, jobs: Sequence[Job], *, clip_time_budget_s: float) -> list[RunOutcome]:
        return run_submissions(list(jobs), workers=self.workers, clip_time_budget_s=clip_time_budget_s)

    def describe(self) -> dict[str, Any]:
        return {"backend": "local", "nodes": 1, "cpus": os.cpu_count(), "workers": self.workers}

    def close(self) -> None:
        pass


def select_backend(workers: int, *, threads: int, environ: Mapping[str, str] | None = None) -> Backend:
    """The backend ``BENCHMARK_BACKEND`` names (``local`` when unset), with ``workers`` local workers.

    Raises:
        ConfigError: an unknown backend, or ``ray`` without the ``ray`` package (``pip install .[ray]``).
    """
    environ = os.environ if environ is None else environ
    name = environ.get(BACKEND_ENV, "local").strip().lower() or "local"
    if name == "local":
        return LocalBackend(workers)
    if name == "ray":
        try:
            from benchmark.harness.ray_backend import RayBackend
        except ImportError as exc:
            raise ConfigError(f"{BACKEND_ENV}=ray needs the ray package: pip install '.[ray]' ({exc}).") from exc
        share = environ.get("BENCHMARK_RAY_UNITS_PER_GPU", "1")
        if not share.isdigit() or int(share) < 1:
            raise ConfigError(f"BENCHMARK_RAY_UNITS_PER_GPU={share!r}: a positive integer, please.")
        return RayBackend(address=environ.get("RAY_ADDRESS") or None, threads=threads, units_per_gpu=int(share))
    raise ConfigError(f"{BACKEND_ENV}={name!r}: use one of {list(BACKENDS)} (unset means local).")
