"""The worker's run specification, and the one place that builds it.

A :class:`RunSpec` is plain data (it pickles into a spawned process): the submission folder, the checkpoint,
the clip ids, the merged params, the seed, the limits and the scratch folder. The clips themselves never go
into it: the supervisor hands them to the worker one at a time. The
evaluate stage, the sanity stage and ``benchmark validate`` all build it with :func:`build_run_spec`, so
the memory cap, the thread count and the sandbox mode mean the same everywhere. Importing this module
imports no torch (the worker imports it before it enters the sandbox).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.settings import EvaluateSettings

__all__ = ["RunSpec", "build_run_spec"]


@dataclass(frozen=True)
class RunSpec:
    """Everything the worker needs; plain data so that it pickles for a spawned process.

    ``sandbox`` is a :data:`benchmark.settings.SANDBOX_MODES` value: the worker can then read only the Python
    runtime, ``submission_dir``, ``checkpoint`` and ``read_only_paths``, and write only ``out_dir``, its scratch
    folder (see :mod:`benchmark.harness.sandbox`), which the caller deletes after the run.
    """

    submission_dir: str
    checkpoint: str
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


def build_run_spec(
    *,
    submission_dir: Path,
    checkpoint: Path,
    clip_ids: Sequence[str],
    params: Mapping[str, Any],
    seed: int,
    evaluate: EvaluateSettings,
    device: str,
    out_dir: Path,
    warmup: bool = True,
) -> RunSpec:
    """A :class:`RunSpec` for explaining ``clip_ids`` with target :data:`~benchmark.model.i3d.ANOMALOUS`,
    with the thread count, memory cap and sandbox mode of ``evaluate`` (paths are resolved)."""
    from benchmark.model.i3d import ANOMALOUS  # not at the top: the worker imports this module before torch

    return RunSpec(
        submission_dir=str(Path(submission_dir).resolve()),
        checkpoint=str(Path(checkpoint).resolve()),
        clip_ids=tuple(clip_ids),
        params=dict(params),
        seed=int(seed),
        target=ANOMALOUS,
        threads=evaluate.threads,
        device=device,
        memory_cap_bytes=evaluate.memory_cap_bytes,
        out_dir=str(Path(out_dir).resolve()),
        warmup=warmup,
        sandbox=evaluate.sandbox,
    )
