"""Plumbing shared by the engines that run the project's I3D layer by layer (occlusion, LIME/KernelSHAP).

They reach into ``ProbabilityModel(I3D)`` (possibly inside the harness's :class:`PassCounter`), run
some layers themselves and the rest with the network's own modules, and credit the samples they
evaluate on the counter, so that forward samples mean the same whichever engine ran.
"""

from __future__ import annotations

import torch
from torch import nn

from benchmark.explain.contract.counting import PassCounter


def i3d_types() -> tuple[type, type, type, type, type]:
    """``(I3D, ProbabilityModel, Unit3D, MaxPool3dSame, InceptionBlock)`` (imported lazily)."""
    from benchmark.model.i3d import I3D, InceptionBlock, MaxPool3dSame, ProbabilityModel, Unit3D

    return I3D, ProbabilityModel, Unit3D, MaxPool3dSame, InceptionBlock


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow ``SAME`` padding ``(before, after)`` of one axis: the I3D's own rule, which engines that
    run its layers piecewise must reproduce exactly."""
    from benchmark.model.i3d import _same_padding

    return _same_padding(size, kernel, stride)


def unwrap_i3d(model: nn.Module) -> tuple[nn.Module | None, str]:
    """``(I3D, "")`` when ``model`` is ``[PassCounter(]ProbabilityModel(I3D)[)]``, else ``(None, reason)``."""
    I3D, ProbabilityModel, *_ = i3d_types()
    inner = model
    while isinstance(inner, PassCounter):
        inner = inner.model
    if not isinstance(inner, ProbabilityModel):
        return None, (
            f"the model is a {type(inner).__name__}, not benchmark.model.i3d.ProbabilityModel(I3D) "
            "(optionally inside a PassCounter)"
        )
    if type(inner.net) is not I3D:
        return None, f"the wrapped network is a {type(inner.net).__name__}, not benchmark.model.i3d.I3D"
    return inner.net, ""


def layerwise_support(model: nn.Module) -> str:
    """``""`` when ``model`` is an eval-mode ``ProbabilityModel(I3D)`` (see :func:`unwrap_i3d`), else why not."""
    net, reason = unwrap_i3d(model)
    if net is None:
        return reason
    if any(m.training for m in net.modules()):
        return "the I3D is in training mode (BatchNorm then mixes the batch, so layers are not local); call .eval()"
    return ""


def run_after(net: nn.Module, h: torch.Tensor, layer: str) -> torch.Tensor:
    """The I3D from the layer after ``layer`` to the softmax, with the network's own modules.

    Args:
        net: the :class:`~benchmark.model.i3d.I3D`.
        h: the activations ``(N, C, T', H', W')`` that ``layer`` outputs.
        layer: the name of one of ``net``'s layers (``Conv3d_1a_7x7`` ... ``Mixed_5c``).

    Returns:
        Class probabilities ``(N, classes)``.
    """
    started = False
    for name, module in net.named_children():
        if name == "avg_pool":
            break
        if started:
            h = module(h)
        started = started or name == layer
    logits = net.logits(net.dropout(net.avg_pool(h))).flatten(1)
    return torch.softmax(logits, dim=1)


def credit_forward(model: nn.Module, samples: int) -> None:
    """Count ``samples`` model evaluations on every :class:`PassCounter` around ``model``.

    An engine that runs the network's layers itself is not seen by the wrapper; it credits its
    evaluations here.
    """
    while isinstance(model, PassCounter):
        model.add(forward=samples)
        model = model.model
