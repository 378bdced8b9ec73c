"""The I3D as a graph of local operations: what engines that run it piecewise walk.

An engine that recomputes only part of the network (``benchmark.explain.engines``: incremental occlusion,
the first-convolution split of LIME / KernelSHAP) needs the network's layer order, the kernel, stride and
padding of every local operation, and a way to run the rest of the network from a given layer with the
network's own modules. This module publishes them, so that no engine reads private parts of
:mod:`benchmark.model.i3d`:

* :func:`i3d_graph` -- the feature layers in order, each as its :data:`Node` s: a :class:`LocalOp` (a
  convolution unit or a max pool applied to a VALID window of its SAME-padded source) or a
  :class:`Concat` (an inception block joining its branches);
* :func:`output_sizes` -- the ``(T, H, W)`` every node outputs for an input volume;
* :func:`conv_macs` / :func:`pass_macs` -- multiply-adds of every convolution of a forward pass;
* :func:`run_after` -- the network from the layer after a given one to the softmax.

Padding follows :func:`benchmark.model.i3d.same_padding` (TensorFlow ``SAME``); convolutions pad with 0,
max pools with ``-inf``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from benchmark.model.i3d import InceptionBlock, MaxPool3dSame, Unit3D

__all__ = [
    "INPUT", "LOGITS", "Concat", "Layer", "LocalOp", "Node", "conv_macs", "i3d_graph", "output_sizes",
    "pass_macs", "run_after",
]

INPUT = "input"
"""The name of the network's input in the graph (the source of the first layer)."""

LOGITS = "logits"
"""The name under which :func:`conv_macs` lists the final 1x1x1 convolution."""


@dataclass(frozen=True)
class LocalOp:
    """A local operation: ``apply`` on a VALID window of its source, SAME-padded with ``pad_value``.

    Attributes:
        name: the node's name (a child of the I3D, or ``<block>.<branch>`` inside an inception block).
        source: the name of the node it reads (``"input"`` for the first layer).
        kernel: ``(kT, kH, kW)``.
        stride: ``(sT, sH, sW)``; the output has ``ceil(n / s)`` positions per axis.
        pad_value: 0 for convolutions, ``-inf`` for max pools.
        apply: the operation on an already padded input (the network's own modules).
        weight_macs: multiply-adds per output position (0 for pools).
    """

    name: str
    source: str
    kernel: tuple[int, int, int]
    stride: tuple[int, int, int]
    pad_value: float
    apply: Callable[[torch.Tensor], torch.Tensor] = field(compare=False)
    weight_macs: int = 0


@dataclass(frozen=True)
class Concat:
    """Channel concatenation of ``sources`` (the end of an inception block), named ``name``."""

    name: str
    sources: tuple[str, ...]


Node = LocalOp | Concat


class Layer(NamedTuple):
    """One child of the I3D (``Conv3d_1a_7x7`` ... ``Mixed_5c``) as nodes; the last node bears its name."""

    name: str
    nodes: list[Node]


def _unit_node(name: str, source: str, unit: nn.Module) -> LocalOp:
    conv = unit.conv
    macs = conv.in_channels * conv.out_channels * math.prod(conv.kernel_size) // conv.groups
    return LocalOp(name, source, tuple(unit.kernel), tuple(unit.stride), 0.0, unit.apply_padded, macs)


def _pool_node(name: str, source: str, pool: nn.Module) -> LocalOp:
    return LocalOp(name, source, tuple(pool.kernel), tuple(pool.stride), -math.inf, pool.pool, 0)


def i3d_graph(net: nn.Module) -> list[Layer]:
    """The I3D's feature layers (every child before the final pool), in order, as nodes.

    Raises:
        ValueError: a child that is neither a ``Unit3D``, a ``MaxPool3dSame`` nor an ``InceptionBlock``.
    """
    layers: list[Layer] = []
    source = INPUT
    for name, child in net.named_children():
        if name == "pool":
            break
        if isinstance(child, Unit3D):
            nodes: list[Node] = [_unit_node(name, source, child)]
        elif isinstance(child, MaxPool3dSame):
            nodes = [_pool_node(name, source, child)]
        elif isinstance(child, InceptionBlock):
            p = f"{name}."
            nodes = [
                _unit_node(p + "b0", source, child.b0),
                _unit_node(p + "b1a", source, child.b1a),
                _unit_node(p + "b1b", p + "b1a", child.b1b),
                _unit_node(p + "b2a", source, child.b2a),
                _unit_node(p + "b2b", p + "b2a", child.b2b),
                _pool_node(p + "b3a", source, child.b3a),
                _unit_node(p + "b3b", p + "b3a", child.b3b),
                Concat(name, (p + "b0", p + "b1b", p + "b2b", p + "b3b")),
            ]
        else:
            raise ValueError(f"i3d_graph: unexpected I3D layer {name} ({type(child).__name__}).")
        layers.append(Layer(name, nodes))
        source = name
    return layers


def output_sizes(layers: Sequence[Layer], volume: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    """The ``(T, H, W)`` of every node's output (and of ``"input"``) for an input ``volume``."""
    sizes: dict[str, tuple[int, ...]] = {INPUT: volume}
    for _, nodes in layers:
        for node in nodes:
            if isinstance(node, LocalOp):
                sizes[node.name] = tuple(-(-n // s) for n, s in zip(sizes[node.source], node.stride))
            else:
                sizes[node.name] = sizes[node.sources[0]]
    return sizes


def conv_macs(net: nn.Module, sample_shape: Sequence[int]) -> dict[str, int]:
    """Multiply-adds of every convolution of an I3D for one sample ``(C, T, H, W)``, by node name.

    Node names are the I3D's child names, with ``.b0`` .. ``.b3b`` for the branches of an inception
    block; the final 1x1x1 ``logits`` convolution is listed as :data:`LOGITS`.
    """
    layers = i3d_graph(net)
    sizes = output_sizes(layers, tuple(int(v) for v in sample_shape[1:]))
    macs = {
        node.name: node.weight_macs * math.prod(sizes[node.name])
        for _, nodes in layers
        for node in nodes
        if isinstance(node, LocalOp) and node.weight_macs
    }
    macs[LOGITS] = net.logits.in_channels * net.logits.out_channels
    return macs


def pass_macs(net: nn.Module, sample_shape: Sequence[int]) -> int:
    """Multiply-adds of one full forward pass of one sample ``(C, T, H, W)`` (the sum of :func:`conv_macs`)."""
    return sum(conv_macs(net, sample_shape).values())


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
        if name == "pool":
            break
        if started:
            h = module(h)
        started = started or name == layer
    logits = net.head(h)
    return torch.softmax(logits, dim=1)
