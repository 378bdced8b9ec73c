"""The incremental occlusion engine's plan: what each window reaches in every layer, and what it costs.

A window changes the input on a box; a local operation (:class:`~benchmark.model.graph.LocalOp`) spreads
a changed box of its source to the output box whose receptive fields touch it (its projective field),
and a concatenation changes the union of its sources' boxes. :func:`make_plan` follows every window's
box through the I3D's graph up to a stop layer and fixes one computed box size per node (the largest
over the windows, so that the windows of a batch stack), placed inside the node's output.
:func:`stop_costs` estimates, per candidate stop layer, the multiply-adds of the incremental part per
window and of the full rest of the network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from benchmark.model.graph import INPUT, LOGITS, Layer, LocalOp, conv_macs, output_sizes
from benchmark.model.i3d import same_padding


@dataclass
class Plan:
    """Per node: the true affected boxes of every window and the fixed computed box size.

    Attributes:
        lo, hi: per node, int ``(K, 3)``: each window's affected box ``[lo, hi)`` in the node's output.
        size: per node, the computed box size ``(T, H, W)``, the same for every window.
        start: per node, int ``(K, 3)``: each window's computed box ``[start, start + size)``.
    """

    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]
    size: dict[str, tuple[int, int, int]]
    start: dict[str, np.ndarray]


def affected(lo: np.ndarray, hi: np.ndarray, n_in: Sequence[int], node: LocalOp, n_out: Sequence[int]):
    """Output boxes ``[lo, hi)`` (per window, per axis) a local op's input boxes can reach."""
    new_lo, new_hi = np.empty_like(lo), np.empty_like(hi)
    for a in range(3):
        k, s = node.kernel[a], node.stride[a]
        before = same_padding(n_in[a], k, s)[0]
        # output o reads inputs [o*s - before, o*s - before + k)
        new_lo[:, a] = np.maximum(np.floor_divide(lo[:, a] + before - k, s) + 1, 0)
        new_hi[:, a] = np.minimum(np.floor_divide(hi[:, a] + before - 1, s) + 1, n_out[a])
    return new_lo, new_hi


def make_plan(layers: Sequence[Layer], boxes: np.ndarray, volume: tuple[int, int, int], stop: str) -> Plan:
    """The :class:`Plan` of the windows ``boxes`` ``(K, 3, 2)`` over an input ``volume``, up to layer ``stop``."""
    sizes = output_sizes(layers, volume)
    lo = {INPUT: boxes[:, :, 0].copy()}
    hi = {INPUT: boxes[:, :, 1].copy()}
    for name, nodes in layers:
        for node in nodes:
            if isinstance(node, LocalOp):
                lo[node.name], hi[node.name] = affected(
                    lo[node.source], hi[node.source], sizes[node.source], node, sizes[node.name]
                )
            else:
                lo[node.name] = np.minimum.reduce([lo[s] for s in node.sources])
                hi[node.name] = np.maximum.reduce([hi[s] for s in node.sources])
        if name == stop:
            break
    size, start = {}, {}
    for key in lo:
        extent = hi[key] - lo[key]
        s = tuple(int(v) for v in extent.max(axis=0))
        n = np.asarray(sizes[key])
        size[key] = s
        start[key] = np.clip(lo[key], 0, n - np.asarray(s))
    return Plan(lo, hi, size, start)


def stop_costs(
    net: nn.Module, layers: Sequence[Layer], boxes: np.ndarray, volume: tuple[int, int, int]
) -> dict[str, tuple[int, int]]:
    """Per candidate stop layer: (incremental MACs per window, full-pass MACs after the stop)."""
    sample = (net.in_channels, *volume)
    macs = conv_macs(net, sample)
    plan = make_plan(layers, boxes, volume, stop=layers[-1][0])
    estimates, partial = {}, 0
    names = [name for name, _ in layers]
    for i, (name, nodes) in enumerate(layers):
        for node in nodes:
            if isinstance(node, LocalOp):
                partial += node.weight_macs * math.prod(plan.size[node.name])
        tail = sum(
            m for key, m in macs.items() if key == LOGITS or key.split(".")[0] in names[i + 1 :]
        )
        estimates[name] = (partial, tail)
    return estimates
