"""What a worker run produced: each clip's attribution and cost, or the failure that ended it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FAILURE_KINDS", "ClipRun", "Failure", "RunOutcome"]

FAILURE_KINDS = ("invalid_submission", "exception", "invalid_output", "timeout", "memory", "crash", "tampering",
                 "sandbox")
"""Every way a run can fail; a failed result names one."""


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
    """Why a run ended early: the clip (``None`` before the first clip), one of :data:`FAILURE_KINDS`, a
    message saying what to fix, and the submission's traceback when there is one."""

    clip_id: str | None
    kind: str
    message: str
    traceback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"clip_id": self.clip_id, "kind": self.kind, "message": self.message, "traceback": self.traceback}


@dataclass
class RunOutcome:
    """The runs of the clips explained, in order, and the failure that stopped the rest (``None``: all ran)."""

    runs: list[ClipRun] = field(default_factory=list)
    failure: Failure | None = None
    device: str = "cpu"
    threads: int = 1
    sandbox: dict[str, Any] | None = None
    """What :func:`benchmark.harness.sandbox.enter_sandbox` reported in the worker (``None`` before it reported)."""
    output_bytes: int = 0
    """How many bytes the worker wrote to its standard output and error (at most 32 KB of them were kept)."""
