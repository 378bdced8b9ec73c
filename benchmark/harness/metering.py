"""Counting model passes at the network itself, and checking that nothing bypassed the count.

A *forward sample* is one evaluation of the network's output for one clip; a *backward sample* one
gradient that reached that output. :class:`PassMeter` counts both where every evaluation must go: the
network's final layer (the I3D's ``logits`` convolution). Whether a submission calls the model it was handed,
the network inside it, a block of the network, or an exact engine that runs the network piecewise
(incremental occlusion, the LIME/KernelSHAP first-convolution split), the output is computed by that layer
and the meter sees it; no wrapper around the model is involved, so unwrapping the model counts the same.

:meth:`PassMeter.tampering` checks, after every call, that the meter is still in place: its hook is still
registered on the same layer object, that layer is still the network's, no module has its ``forward``
replaced on the instance, and the ``torch.nn`` machinery that runs hooks (``Module.__call__``,
``Module._call_impl``, the layer class's ``forward``) is the one the worker started with. What it cannot see
is a submission that copies the weights out of the network and evaluates them with code of its own; the
threat model in ``submissions/README.md`` says so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

__all__ = ["PassCounts", "PassMeter"]


class PassCounts(NamedTuple):
    """Samples the network was run on (sum of batch sizes), forward and backward separately."""

    forward: int
    backward: int


def _machinery(head: nn.Module) -> dict[str, Any]:
    return {
        "Module.__call__": nn.Module.__call__,
        "Module._call_impl": nn.Module._call_impl,
        f"{type(head).__name__}.forward": type(head).forward,
    }


class PassMeter:
    """Count the samples ``net`` evaluates, at its final layer ``head`` (default ``net.logits``).

    Args:
        net: the network (e.g. :class:`benchmark.model.i3d.I3D`); its modules are left as they are.
        head: the layer every evaluation ends in; ``net.logits`` by default.

    Example:
        >>> meter = PassMeter(net)
        >>> attr = IntegratedGradients(ProbabilityModel(net)).attribute(x, target=1, n_steps=30)
        >>> meter.counts
        PassCounts(forward=30, backward=30)
    """

    def __init__(self, net: nn.Module, head: nn.Module | None = None) -> None:
        self.net = net
        self.head = head if head is not None else net.logits
        self.head_name = next((n for n, m in net.named_modules() if m is self.head), None)
        if self.head_name is None:
            raise ValueError("PassMeter: `head` must be a module of `net`.")
        self._forward = 0
        self._backward = 0
        self._handle = self.head.register_forward_hook(self._on_forward)
        self._machinery = _machinery(self.head)
        self._head_type = type(self.head)

    def _on_forward(self, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        x = inputs[0] if inputs else None
        batch = int(x.shape[0]) if isinstance(x, torch.Tensor) and x.dim() > 0 else 1
        self._forward += batch
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(self._backward_hook(batch))

    def _backward_hook(self, batch: int):
        def hook(grad: torch.Tensor) -> None:
            self._backward += batch

        return hook

    def reset(self) -> None:
        """Set both counts back to zero."""
        self._forward = 0
        self._backward = 0

    @property
    def counts(self) -> PassCounts:
        """The samples counted since construction or the last :meth:`reset`."""
        return PassCounts(self._forward, self._backward)

    def tampering(self) -> str:
        """``""`` when the meter still sees every evaluation, else what was changed (see the module docstring)."""
        if dict(self.net.named_modules()).get(self.head_name) is not self.head or type(self.head) is not \
                self._head_type:
            return f"the network's `{self.head_name}` layer was replaced"
        if self._handle.id not in self.head._forward_hooks:
            return f"the pass meter's hook was removed from the network's `{self.head_name}` layer"
        for name, module in self.net.named_modules():
            if "forward" in vars(module) or "__call__" in vars(module):
                return f"the forward of module `{name or type(module).__name__}` was replaced on the instance"
        for what, original in self._machinery.items():
            if _machinery(self.head)[what] is not original:
                return f"torch's `{what}` was replaced"
        return ""

    def detach(self) -> None:
        """Remove the hook (the network is then as it was)."""
        self._handle.remove()
