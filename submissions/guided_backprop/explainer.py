"""Guided Backpropagation: needs the model's ReLUs as separate, non-inplace ``nn.ReLU`` modules.

Captum's ``GuidedBackprop`` puts a full backward hook on every ``nn.ReLU`` (two extra autograd nodes
and a Python call per ReLU, with tuple bookkeeping) that replaces the gradient with
``relu(threshold_backward(grad_out, out))``. Here a forward hook on each ``nn.ReLU`` passes its output
through :class:`_PositiveGradient`, an identity whose backward is ``clamp(grad_out, min=0)``; the
ReLU's own backward then keeps the entries where its output is positive. Both orders give
``grad_out`` where ``out > 0`` and ``grad_out > 0``, else 0, element for element: the attributions
equal Captum's bit for bit (``tests/submissions/test_guided_backprop.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from benchmark.explain.batching import batch_memory_format


class _PositiveGradient(torch.autograd.Function):
    """Identity ``x -> x`` (any shape) whose backward lets only the positive part of the gradient through."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.clamp(min=0)


def _guide(module: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
    return _PositiveGradient.apply(output)


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """Guided Backprop attributions ``(B, 3, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    The gradient of ``model(clips)[:, target]`` with every ``nn.ReLU`` module passing back only
    positive gradients (functional ReLUs are not seen, as in Captum). No baseline, no parameters,
    deterministic. The hooks are removed before returning, also on errors; ``clips`` is not touched.
    Cost: 1 forward + 1 backward sample per clip, all clips in one pass (channels-last from 16 clips on
    a CPU, where the I3D then runs in oneDNN; the harness passes one clip at a time).
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError(
            "guided_backprop: the model has no nn.ReLU modules, so Guided Backprop would be a plain "
            "gradient; build the model with one nn.ReLU module per activation."
        )
    if any(m.inplace for m in relus):
        raise ValueError("guided_backprop: the model uses nn.ReLU(inplace=True); use non-inplace ReLUs.")
    # a copy (the caller's clips stay untouched); channels-last for batches that run in oneDNN on a CPU
    inputs = clips.detach().clone(memory_format=batch_memory_format(clips)).requires_grad_(True)
    handles: list[RemovableHandle] = [m.register_forward_hook(_guide) for m in relus]
    try:
        with torch.enable_grad():
            outputs = model(inputs)[:, target]
            (gradients,) = torch.autograd.grad(outputs, inputs, grad_outputs=torch.ones_like(outputs))
    finally:
        for handle in handles:
            handle.remove()
    return gradients.detach().contiguous()
