"""Checking what a submission's ``explain`` returned."""

from __future__ import annotations

import torch

from benchmark.explain.contract.errors import SubmissionError


def check_output(attr: object, clips: torch.Tensor, *, name: str = "submission") -> torch.Tensor:
    """Validate an attribution for ``clips`` and return it detached, as float32.

    Args:
        attr: what ``explain`` returned: expected ``(B, 3, T, H, W)`` (the clips' shape) or
            ``(B, T, H, W)``, a floating dtype, all values finite.
        clips: the ``(B, 3, T, H, W)`` clips that were explained.
        name: the submission's name, for the error message.

    Raises:
        SubmissionError: naming the submission's ``explainer.py`` and what to fix.
    """
    where = f"submissions/{name}/explainer.py: explain()"
    if not isinstance(attr, torch.Tensor):
        raise SubmissionError(
            f"{where} returned {type(attr).__name__}; "
            "return one torch.Tensor (B, 3, T, H, W) or (B, T, H, W)."
        )
    full = tuple(clips.shape)
    reduced = full[:1] + full[2:]
    if tuple(attr.shape) not in (full, reduced):
        raise SubmissionError(
            f"{where} returned shape {tuple(attr.shape)}; expected {full} (the clips' shape) or {reduced} "
            "(channels summed)."
        )
    if not attr.is_floating_point():
        raise SubmissionError(f"{where} returned dtype {attr.dtype}; return a floating-point tensor.")
    attr = attr.detach()
    if not bool(torch.isfinite(attr).all()):
        bad = int((~torch.isfinite(attr)).sum())
        raise SubmissionError(f"{where} returned {bad} NaN/inf value(s); every attribution must be finite.")
    return attr.to(torch.float32)
