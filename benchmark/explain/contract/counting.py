"""Counting model passes: how many samples an explainer pushed forward and backward.

The count does not depend on the machine, which makes runtimes comparable across hardware.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn


class PassCounts(NamedTuple):
    """Samples the model was run on (sum of batch sizes), forward and backward separately."""

    forward: int
    backward: int


class PassCounter(nn.Module):
    """Wrap a model and count the samples it runs forward and backward.

    * forward: the batch size ``B`` of every call ``model(x)`` with ``x`` of shape ``(B, ...)``;
    * backward: the batch size of every output through which a gradient actually flows: when the
      output requires grad, a tensor hook on it adds ``B`` each time a gradient reaches it.
      A forward under ``torch.no_grad()``/``torch.inference_mode()`` therefore counts 0 backward.

    The wrapper is transparent otherwise: ``counter(x) == model(x)``, and the wrapped model's
    modules stay reachable (hooks such as Guided Backprop's find its ReLUs).

    Example:
        >>> counter = PassCounter(model)
        >>> attr = IntegratedGradients(counter).attribute(x, target=1, n_steps=30)
        >>> counter.counts
        PassCounts(forward=30, backward=30)
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self._forward = 0
        self._backward = 0

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """``(B, ...) -> model(x)``, counting ``B`` forward samples (and backward ones lazily)."""
        out = self.model(x, *args, **kwargs)
        batch = int(x.shape[0]) if x.dim() > 0 else 1
        self._forward += batch
        if isinstance(out, torch.Tensor) and out.requires_grad:
            out.register_hook(self._backward_hook(batch))
        return out

    def _backward_hook(self, batch: int):
        def hook(grad: torch.Tensor) -> None:
            self._backward += batch

        return hook

    def add(self, forward: int = 0, backward: int = 0) -> None:
        """Credit samples evaluated without calling this wrapper.

        For engines that run the wrapped network's layers themselves (the incremental occlusion
        engine), so that "forward samples" means the same for every engine.
        """
        if forward < 0 or backward < 0:
            raise ValueError(f"PassCounter.add: counts must be non-negative, got {forward}, {backward}.")
        self._forward += int(forward)
        self._backward += int(backward)

    def reset(self) -> None:
        """Set both counts back to zero."""
        self._forward = 0
        self._backward = 0

    @property
    def counts(self) -> PassCounts:
        """The samples counted since construction or the last :meth:`reset`."""
        return PassCounts(self._forward, self._backward)
