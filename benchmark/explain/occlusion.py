"""Occlusion attributions, fast: a batched engine for any model and an exact incremental engine for the I3D.

Both engines compute exactly what Captum's :class:`~captum.attr.Occlusion` computes for one clip
``x`` ``(3, T, H, W)``, a baseline ``b`` of the same shape, a window spanning all channels and a stride:

* window positions per axis ``start_i = i * s`` for ``i = 0 .. ceil((D - w) / s)``, each window
  ``[start_i, min(start_i + w, D))`` (Captum crops the last one when ``s`` does not divide ``D - w``);
* ``d_k = p(x) - p(x_k)`` where ``x_k`` is ``x`` with window ``k`` replaced by ``b``;
* the attribution of a voxel is the mean of ``d_k`` over the windows that contain it, the same for
  every channel.

They differ only in how ``p(x_k)`` is obtained:

* :func:`batched_occlusion` (any model): the occluded clips are built in place in a reused batch and
  run through the model under ``torch.inference_mode``; the windows' contributions are summed with a
  3-D difference array in float64 (8 corner updates per window and three cumulative sums, instead of
  one full-size masked add per window as in Captum).
* :class:`IncrementalOcclusion` (the project's :class:`~benchmark.model.i3d.I3D` in eval mode):
  after one clean forward pass that keeps every early activation, each window only recomputes the
  sub-volume of each early layer that the window can reach (its projective field, with the halo the
  next kernel needs), patched into the clean activations, and runs the full network only from the
  first layer where that sub-volume stops being small (Nakandala et al., SIGMOD 2019). Eval-mode
  BatchNorm is a per-channel affine map and ReLU is pointwise, so every early layer is local and the
  result is exact up to float summation order. TensorFlow ``SAME`` padding is reproduced by reading
  the patches from zero-padded (convolutions) or ``-inf``-padded (max pools) copies of the clean
  activations. The stopping layer is chosen to minimise the estimated multiply-adds.

:func:`occlusion` picks the incremental engine when the model is supported and large enough for it to pay
(:data:`AUTO_INCREMENTAL_MIN_GMACS`), and says why not otherwise.
Every engine reports the multiply-adds its convolutions ran (:class:`OcclusionStats`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmark.explain._i3d import (
    credit_forward,
    i3d_types,
    layerwise_support,
    run_after,
    same_padding,
    unwrap_i3d,
)
from benchmark.explain.batching import ONEDNN_MIN_BATCH, batch_memory_format
from benchmark.explain.geometry import count_windows

__all__ = [
    "IncrementalOcclusion",
    "OcclusionStats",
    "batched_occlusion",
    "conv_macs",
    "incremental_support",
    "occluded_probabilities",
    "occlusion",
    "occlusion_windows",
]

_LOG = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("auto", "incremental", "batched")

AUTO_INCREMENTAL_MIN_GMACS = 1.0
"""``engine="auto"`` runs the incremental engine only when a full pass of the I3D costs at least this many
GMACs: below, its many small per-window kernels cost as much as the multiply-adds they save. Measured with
``python -m benchmark.perf --engines-only`` (one thread, plain batches of 16-32 channels-last, none short),
incremental over plain wall time per window, large and small windows: 0.84x and 1.04x at 0.26 GMAC (default
profile, width 0.25 at 20x48x72), 1.00x and 1.22x at 2.5 GMAC (width 1 at 20x48x72), 1.6x and 2.5x at
26.6 GMAC (the paper's 158x237)."""


@dataclass
class OcclusionStats:
    """What an occlusion run cost (filled in by the engines).

    Attributes:
        engine: ``"incremental"`` or ``"batched"``.
        reason: why the batched engine was used when ``auto`` was asked ("" otherwise).
        windows: window positions per clip.
        forward_samples: model evaluations, full or incremental (``clips * (1 + windows)``).
        macs: multiply-adds of every convolution run (clean passes included).
        plain_macs: what plain occlusion would run: ``clips * (1 + windows) * full-pass MACs``
            (0 when the model's MACs are unknown, e.g. for a model that is not an I3D).
        stop: the last layer computed incrementally (incremental engine only).
    """

    engine: str = ""
    reason: str = ""
    windows: int = 0
    forward_samples: int = 0
    macs: int = 0
    plain_macs: int = 0
    stop: str = ""

    @property
    def mac_ratio(self) -> float:
        """``plain_macs / macs`` (how many times fewer multiply-adds than plain occlusion); NaN if unknown."""
        return self.plain_macs / self.macs if self.macs and self.plain_macs else float("nan")


# --------------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------------


def occlusion_windows(
    shape: Sequence[int], window: Sequence[int], stride: Sequence[int]
) -> np.ndarray:
    """Captum's window positions over a ``(T, H, W)`` volume, as boxes.

    Args:
        shape: ``(T, H, W)``.
        window: ``(wT, wH, wW)``, each ``1 <= w <= D``.
        stride: ``(sT, sH, sW)``, each ``1 <= s <= w`` (Captum's rule, unless ``w == D``).

    Returns:
        int64 ``(K, 3, 2)``: ``[lo, hi)`` per axis for each of the ``K`` windows, in Captum's order
        (the first axis varies fastest); the last window per axis is cropped at ``D``.
    """
    shape, window, stride = (tuple(int(v) for v in a) for a in (shape, window, stride))
    if not len(shape) == len(window) == len(stride) == 3:
        raise ValueError(
            f"occlusion_windows: shape, window and stride must be (T, H, W) triples, got {shape}, {window}, {stride}."
        )
    count_windows(shape, window, stride)  # validates 1 <= w <= D, s >= 1
    if any(s > w and d != w for d, w, s in zip(shape, window, stride)):
        raise ValueError(
            f"occlusion_windows: stride {stride} may not exceed the window {window} (Captum's rule); "
            "choose a stride no larger than the window."
        )
    axes = []
    for d, w, s in zip(shape, window, stride):
        starts = np.arange(math.ceil((d - w) / s) + 1, dtype=np.int64) * s
        axes.append(np.stack([starts, np.minimum(starts + w, d)], axis=1))  # (n, 2)
    # Captum's feature number k decomposes with the first axis fastest.
    grids = np.meshgrid(*(np.arange(len(a)) for a in axes), indexing="ij")
    order = [g.transpose(2, 1, 0).reshape(-1) for g in grids]  # axis 0 varies fastest
    return np.stack([axes[a][order[a]] for a in range(3)], axis=1)


def _box_sum(boxes: np.ndarray, values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """``sum_k values[k] * 1[box_k]`` over a ``(T, H, W)`` grid in float64, by a 3-D difference array."""
    diff = np.zeros(tuple(d + 1 for d in shape), dtype=np.float64)
    for corner in range(8):
        bits = [(corner >> a) & 1 for a in range(3)]
        idx = tuple(boxes[:, a, bits[a]] for a in range(3))
        np.add.at(diff, idx, values * (-1.0) ** sum(bits))
    return diff.cumsum(0).cumsum(1).cumsum(2)[: shape[0], : shape[1], : shape[2]]


def _attribution_from_drops(
    boxes: np.ndarray, drops: np.ndarray, channels: int, shape: tuple[int, int, int], dtype: torch.dtype
) -> torch.Tensor:
    """The mean drop over the windows containing each voxel, ``(channels, T, H, W)`` of ``dtype``."""
    total = _box_sum(boxes, drops, shape)
    count = _box_sum(boxes, np.ones(len(boxes)), shape)
    mean = torch.from_numpy(total / count).to(dtype)
    return mean.unsqueeze(0).expand(channels, *shape).contiguous()


def _check_clip_pair(clips: torch.Tensor, baselines: torch.Tensor) -> None:
    if not isinstance(clips, torch.Tensor) or clips.dim() != 5:
        raise ValueError(f"occlusion: clips must be a (B, C, T, H, W) tensor, got {getattr(clips, 'shape', clips)}.")
    if not isinstance(baselines, torch.Tensor) or baselines.shape != clips.shape:
        raise ValueError(
            f"occlusion: baselines must have the clips' shape {tuple(clips.shape)}, "
            f"got {tuple(getattr(baselines, 'shape', ()))}."
        )


def _fast_layout(x: torch.Tensor) -> torch.Tensor:
    """``x`` in ``torch.channels_last_3d`` for a CPU batch of at least :data:`ONEDNN_MIN_BATCH` samples
    (the I3D's pooling runs about twice as fast there), else unchanged; the values are the same."""
    return x.contiguous(memory_format=batch_memory_format(x)) if x.shape[0] >= ONEDNN_MIN_BATCH else x


def _fast_clone(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` already in the layout :func:`_fast_layout` would give it (saves a second copy)."""
    return x.clone(memory_format=batch_memory_format(x))


def _target_probability(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    out = model(_fast_layout(x))
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or not 0 <= target < out.shape[1]:
        raise ValueError(
            f"occlusion: the model must map (B, C, T, H, W) to (B, classes) with target {target} < classes, "
            f"got {tuple(getattr(out, 'shape', ()))}."
        )
    return out[:, target]


# --------------------------------------------------------------------------------------------------
# The batched engine (any model)
# --------------------------------------------------------------------------------------------------


def occluded_probabilities(
    model: nn.Module,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    boxes: np.ndarray,
    *,
    target: int,
    batch_size: int,
) -> tuple[float, np.ndarray]:
    """``p(x)[target]`` and ``p(x_k)[target]`` for every box ``k``, by full batched forward passes.

    Args:
        model: ``(N, C, T, H, W) -> (N, classes)``.
        clip: ``x``, ``(C, T, H, W)``.
        baseline: ``b``, the same shape.
        boxes: int ``(K, 3, 2)`` ``[lo, hi)`` boxes over ``(T, H, W)`` (see :func:`occlusion_windows`).
        target: the output column.
        batch_size: clips per model call; the clean clip is the first sample of the first call.

    Returns:
        ``(p0, p)`` with ``p`` float64 ``(K,)``.
    """
    if batch_size < 1:
        raise ValueError(f"occlusion: batch_size must be >= 1, got {batch_size}.")
    # item 0 is the clean clip, item j > 0 is box j - 1: the clean pass shares the first batch, so that
    # 1 + K samples run in full batches (no separate batch-1 call, which costs ~3 samples on a CPU)
    total = 1 + len(boxes)
    q = np.empty(total)
    with torch.inference_mode():
        buffer = _fast_clone(clip.unsqueeze(0).expand(min(batch_size, total), *clip.shape))
        for start in range(0, total, batch_size):
            stop = min(start + batch_size, total)
            batch = buffer[: stop - start]
            occluded = [(slot, boxes[j - 1]) for slot, j in zip(batch, range(start, stop)) if j > 0]
            for slot, ((t0, t1), (h0, h1), (w0, w1)) in occluded:
                slot[:, t0:t1, h0:h1, w0:w1] = baseline[:, t0:t1, h0:h1, w0:w1]
            q[start:stop] = _target_probability(model, batch, target).double().cpu().numpy()
            for slot, ((t0, t1), (h0, h1), (w0, w1)) in occluded:  # undo, for the next chunk
                slot[:, t0:t1, h0:h1, w0:w1] = clip[:, t0:t1, h0:h1, w0:w1]
    p0, p = float(q[0]), q[1:]
    return p0, p


def batched_occlusion(
    model: nn.Module,
    clips: torch.Tensor,
    baselines: torch.Tensor,
    *,
    window: Sequence[int],
    stride: Sequence[int],
    target: int,
    batch_size: int,
    stats: OcclusionStats | None = None,
) -> torch.Tensor:
    """Occlusion with windows spanning all channels, batched, for any model.

    Args:
        model: ``(N, C, T, H, W) -> (N, classes)``.
        clips: ``(B, C, T, H, W)``.
        baselines: the same shape; window contents are replaced by it.
        window: ``(wT, wH, wW)`` voxels.
        stride: ``(sT, sH, sW)`` voxels.
        target: the output column explained.
        batch_size: occluded clips per model call.
        stats: filled in when given.

    Returns:
        ``(B, C, T, H, W)`` attributions of the clips' dtype, equal to Captum's ``Occlusion`` with
        ``sliding_window_shapes=(C, *window)``, ``strides=(C, *stride)`` up to float rounding.
    """
    _check_clip_pair(clips, baselines)
    channels, *volume = clips.shape[1:]
    shape = tuple(int(v) for v in volume)
    boxes = occlusion_windows(shape, window, stride)
    out = []
    for x, b in zip(clips, baselines):
        p0, p = occluded_probabilities(model, x, b, boxes, target=target, batch_size=batch_size)
        out.append(_attribution_from_drops(boxes, p0 - p, channels, shape, clips.dtype))
    if stats is not None:
        stats.engine = stats.engine or "batched"
        stats.windows = len(boxes)
        stats.forward_samples += clips.shape[0] * (1 + len(boxes))
        net = unwrap_i3d(model)[0]
        if net is not None:
            full = _full_pass_macs(net, tuple(clips.shape[1:]))
            stats.macs += clips.shape[0] * (1 + len(boxes)) * full
            stats.plain_macs += clips.shape[0] * (1 + len(boxes)) * full
    return torch.stack(out).to(clips.device)


# --------------------------------------------------------------------------------------------------
# The incremental engine (the project's I3D)
# --------------------------------------------------------------------------------------------------


def incremental_support(model: nn.Module) -> str:
    """``""`` when :class:`IncrementalOcclusion` supports ``model``, else the reason it does not."""
    return layerwise_support(model)


@dataclass(frozen=True)
class _Local:
    """A local op: ``apply`` on a VALID window of its (SAME-padded) source."""

    name: str
    source: str
    kernel: tuple[int, int, int]
    stride: tuple[int, int, int]
    pad_value: float
    apply: Callable[[torch.Tensor], torch.Tensor] = field(compare=False)
    weight_macs: int = 0  # multiply-adds per output position (0 for pools)


@dataclass(frozen=True)
class _Concat:
    name: str
    sources: tuple[str, ...]


_Node = _Local | _Concat


def _unit_apply(unit: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: unit.relu(unit.bn(unit.conv(x)))


def _unit_node(name: str, source: str, unit: nn.Module) -> _Local:
    conv = unit.conv
    macs = conv.in_channels * conv.out_channels * math.prod(conv.kernel_size) // conv.groups
    return _Local(name, source, tuple(unit.kernel), tuple(unit.stride), 0.0, _unit_apply(unit), macs)


def _pool_node(name: str, source: str, pool: nn.Module) -> _Local:
    return _Local(name, source, tuple(pool.kernel), tuple(pool.stride), -math.inf, pool.pool, 0)


def _i3d_graph(net: nn.Module) -> list[tuple[str, list[_Node]]]:
    """The I3D's feature layers as ``[(child name, nodes)]``; each child ends with a node of its name."""
    _, _, Unit3D, MaxPool3dSame, InceptionBlock = i3d_types()
    stages: list[tuple[str, list[_Node]]] = []
    source = "input"
    for name, child in net.named_children():
        if name == "avg_pool":
            break
        if isinstance(child, Unit3D):
            nodes: list[_Node] = [_unit_node(name, source, child)]
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
                _Concat(name, (p + "b0", p + "b1b", p + "b2b", p + "b3b")),
            ]
        else:
            raise ValueError(f"IncrementalOcclusion: unexpected I3D layer {name} ({type(child).__name__}).")
        stages.append((name, nodes))
        source = name
    return stages


def _output_size(n: int, stride: int) -> int:
    return -(-n // stride)


def _shapes(stages: list[tuple[str, list[_Node]]], volume: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    """The ``(T, H, W)`` of every node's output for an input volume."""
    sizes: dict[str, tuple[int, ...]] = {"input": volume}
    for _, nodes in stages:
        for node in nodes:
            if isinstance(node, _Local):
                sizes[node.name] = tuple(_output_size(n, s) for n, s in zip(sizes[node.source], node.stride))
            else:
                sizes[node.name] = sizes[node.sources[0]]
    return sizes


def conv_macs(net: nn.Module, sample_shape: Sequence[int]) -> dict[str, int]:
    """Multiply-adds of every convolution of an I3D for one sample ``(C, T, H, W)``, by node name.

    Node names are the I3D's child names, with ``.b0`` .. ``.b3b`` for the branches of an inception
    block; the final 1x1x1 ``logits`` convolution is listed as ``logits``.
    """
    stages = _i3d_graph(net)
    sizes = _shapes(stages, tuple(int(v) for v in sample_shape[1:]))
    macs = {
        node.name: node.weight_macs * math.prod(sizes[node.name])
        for _, nodes in stages
        for node in nodes
        if isinstance(node, _Local) and node.weight_macs
    }
    macs["logits"] = net.logits.in_channels * net.logits.out_channels
    return macs


def _full_pass_macs(net: nn.Module, sample_shape: Sequence[int]) -> int:
    return sum(conv_macs(net, sample_shape).values())


def _affected(lo: np.ndarray, hi: np.ndarray, n_in: Sequence[int], node: _Local, n_out: Sequence[int]):
    """Output boxes ``[lo, hi)`` (per window, per axis) a local op's input boxes can reach."""
    new_lo, new_hi = np.empty_like(lo), np.empty_like(hi)
    for a in range(3):
        k, s = node.kernel[a], node.stride[a]
        before = same_padding(n_in[a], k, s)[0]
        # output o reads inputs [o*s - before, o*s - before + k)
        new_lo[:, a] = np.maximum(np.floor_divide(lo[:, a] + before - k, s) + 1, 0)
        new_hi[:, a] = np.minimum(np.floor_divide(hi[:, a] + before - 1, s) + 1, n_out[a])
    return new_lo, new_hi


@dataclass
class _Plan:
    """Per node: the true affected boxes of every window and the fixed computed box size."""

    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]
    size: dict[str, tuple[int, int, int]]
    start: dict[str, np.ndarray]  # computed box start per window (box = [start, start + size))


class IncrementalOcclusion:
    """Exact incremental occlusion for ``ProbabilityModel(I3D)`` in eval mode (see the module docstring).

    Args:
        model: ``ProbabilityModel(I3D)``, optionally inside a :class:`PassCounter` (its forward count
            is credited ``1 + windows`` per clip, as for plain occlusion).
        stop: the last I3D layer computed incrementally (e.g. ``"Mixed_3c"``), or ``None`` to choose
            the layer that minimises the estimated multiply-adds.

    Raises:
        ValueError: the model is not supported (the message says why; see :func:`incremental_support`).

    Example:
        >>> engine = IncrementalOcclusion(model)
        >>> attr = engine.attribute(clips, baselines, window=(4, 16, 24), stride=(2, 8, 8), target=1,
        ...                         batch_size=16)
        >>> engine.stats.mac_ratio   # multiply-adds of plain occlusion / incremental
    """

    def __init__(self, model: nn.Module, *, stop: str | None = None) -> None:
        reason = incremental_support(model)
        if reason:
            raise ValueError(f"IncrementalOcclusion: unsupported model: {reason}.")
        self.model = model
        self.net = unwrap_i3d(model)[0]
        self.stages = _i3d_graph(self.net)
        names = [name for name, _ in self.stages]
        if stop is not None and stop not in names:
            raise ValueError(f"IncrementalOcclusion: stop must be one of {names}, got {stop!r}.")
        self.requested_stop = stop
        self.stats = OcclusionStats(engine="incremental")

    # ---- planning -------------------------------------------------------------------------------

    def _plan(self, boxes: np.ndarray, volume: tuple[int, int, int], stop: str) -> _Plan:
        sizes = _shapes(self.stages, volume)
        lo = {"input": boxes[:, :, 0].copy()}
        hi = {"input": boxes[:, :, 1].copy()}
        for name, nodes in self.stages:
            for node in nodes:
                if isinstance(node, _Local):
                    lo[node.name], hi[node.name] = _affected(
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
        return _Plan(lo, hi, size, start)

    def _estimate(self, boxes: np.ndarray, volume: tuple[int, int, int]) -> dict[str, tuple[int, int]]:
        """Per candidate stop: (incremental MACs per window, full-pass MACs after the stop)."""
        sample = (self.net.in_channels, *volume)
        macs = conv_macs(self.net, sample)
        plan = self._plan(boxes, volume, stop=self.stages[-1][0])
        estimates, partial = {}, 0
        names = [name for name, _ in self.stages]
        for i, (name, nodes) in enumerate(self.stages):
            for node in nodes:
                if isinstance(node, _Local):
                    partial += node.weight_macs * math.prod(plan.size[node.name])
            tail = sum(
                m for key, m in macs.items() if key == "logits" or key.split(".")[0] in names[i + 1 :]
            )
            estimates[name] = (partial, tail)
        return estimates

    def choose_stop(self, boxes: np.ndarray, volume: tuple[int, int, int]) -> str:
        """The stop layer with the fewest estimated multiply-adds per window (the requested one if set)."""
        if self.requested_stop is not None:
            return self.requested_stop
        estimates = self._estimate(boxes, volume)
        return min(estimates, key=lambda name: sum(estimates[name]))

    # ---- the clean pass -------------------------------------------------------------------------

    def _clean_pass(self, x: torch.Tensor, target: int, stop: str) -> tuple[float, dict[str, torch.Tensor]]:
        """``p(x)[target]`` through ``self.model`` and the clean activations of every node up to ``stop``."""
        keep: dict[str, torch.Tensor] = {"input": x}
        wanted: dict[nn.Module, str] = {}
        for name, nodes in self.stages:
            child = getattr(self.net, name)
            wanted[child] = name
            for node in nodes:
                if node.name.startswith(name + "."):
                    wanted[getattr(child, node.name.split(".", 1)[1])] = node.name
            if name == stop:
                break

        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            keep[wanted[module]] = output

        handles = [m.register_forward_hook(hook) for m in wanted]
        try:
            p0 = float(_target_probability(self.model, x, target)[0])
        finally:
            for handle in handles:
                handle.remove()
        return p0, keep

    # ---- the engine -----------------------------------------------------------------------------

    def attribute(
        self,
        clips: torch.Tensor,
        baselines: torch.Tensor,
        *,
        window: Sequence[int],
        stride: Sequence[int],
        target: int,
        batch_size: int,
    ) -> torch.Tensor:
        """Occlusion attributions ``(B, C, T, H, W)`` of ``clips`` ``(B, C, T, H, W)``.

        Same arguments and result as :func:`batched_occlusion`; :attr:`stats` accumulates the cost.
        """
        _check_clip_pair(clips, baselines)
        channels, *volume_list = clips.shape[1:]
        volume = tuple(int(v) for v in volume_list)
        boxes = occlusion_windows(volume, window, stride)
        out = []
        for x, b in zip(clips, baselines):
            p0, p = self.probabilities(x, b, boxes, target=target, batch_size=batch_size)
            out.append(_attribution_from_drops(boxes, p0 - p, channels, volume, clips.dtype))
        return torch.stack(out).to(clips.device)

    def probabilities(
        self,
        clip: torch.Tensor,
        baseline: torch.Tensor,
        boxes: np.ndarray,
        *,
        target: int,
        batch_size: int,
        indices: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """``p(x)[target]`` and ``p(x_k)[target]`` for every box, incrementally (see :func:`occluded_probabilities`).

        ``boxes`` plan the recomputed sub-volumes (pass the run's full set of windows); ``indices``
        selects the windows actually evaluated (default: all; a subset is for timing).
        :attr:`stats` accumulates the cost.
        """
        if batch_size < 1:
            raise ValueError(f"IncrementalOcclusion: batch_size must be >= 1, got {batch_size}.")
        volume = tuple(int(v) for v in clip.shape[1:])
        stop = self.choose_stop(boxes, volume)
        plan = self._plan(boxes, volume, stop)
        estimates = self._estimate(boxes, volume)
        indices = np.arange(len(boxes)) if indices is None else np.asarray(indices, dtype=np.int64)
        p = np.empty(len(indices))
        with torch.inference_mode():
            p0, clean = self._clean_pass(clip.unsqueeze(0), target, stop)
            padded = self._padded_sources(clean, stop)
            for begin in range(0, len(indices), batch_size):
                idx = indices[begin : begin + batch_size]
                p[begin : begin + len(idx)] = (
                    self._occluded(clip, baseline, boxes, idx, plan, clean, padded, stop, target).double().cpu()
                )
        full = _full_pass_macs(self.net, clip.shape)
        self.stats.windows = len(indices)
        self.stats.stop = stop
        self.stats.forward_samples += 1 + len(indices)
        self.stats.macs += full + len(indices) * sum(estimates[stop])
        self.stats.plain_macs += (1 + len(indices)) * full
        credit_forward(self.model, len(indices))
        return p0, p

    def _padded_sources(self, clean: dict[str, torch.Tensor], stop: str) -> dict[tuple[str, str], torch.Tensor]:
        """Each local op's source, SAME-padded with the op's pad value, keyed by ``(op, source)``."""
        padded = {}
        for name, nodes in self.stages:
            for node in nodes:
                if isinstance(node, _Local) and _needs_padding(node, clean[node.source]):
                    padded[(node.name, node.source)] = _pad_same(clean[node.source], node)
            if name == stop:
                break
        return padded

    def _occluded(
        self,
        x: torch.Tensor,
        b: torch.Tensor,
        boxes: np.ndarray,
        idx: np.ndarray,
        plan: _Plan,
        clean: dict[str, torch.Tensor],
        padded: dict[tuple[str, str], torch.Tensor],
        stop: str,
        target: int,
    ) -> torch.Tensor:
        """``p(x_k)[target]`` for the windows ``idx``: incremental up to ``stop``, then the full rest."""
        # the occluded input on each window's computed input box
        size = plan.size["input"]
        starts = plan.start["input"][idx]
        new = x.new_empty((len(idx), x.shape[0], *size))
        for slot, k, s in zip(new, idx, starts):
            slot.copy_(x[:, s[0] : s[0] + size[0], s[1] : s[1] + size[1], s[2] : s[2] + size[2]])
            (t0, t1), (h0, h1), (w0, w1) = boxes[k]
            slot[:, t0 - s[0] : t1 - s[0], h0 - s[1] : h1 - s[1], w0 - s[2] : w1 - s[2]] = b[:, t0:t1, h0:h1, w0:w1]
        values = {"input": new}
        for name, nodes in self.stages:
            for node in nodes:
                if isinstance(node, _Local):
                    values[node.name] = self._local(node, idx, plan, clean, padded, values)
                else:
                    parts = [
                        _gather(clean[s], (0, 0, 0), plan.start[node.name][idx], plan.size[node.name],
                                values[s], plan.start[s][idx], plan.size[s])
                        for s in node.sources
                    ]
                    values[node.name] = torch.cat(parts, dim=1)
            if name == stop:
                break
        # patch the clean activation of `stop` and run the rest of the network in full
        size, starts = plan.size[stop], plan.start[stop][idx]
        h = _fast_clone(clean[stop].expand(len(idx), *clean[stop].shape[1:]))
        for slot, patch, s in zip(h, values[stop], starts):
            slot[:, s[0] : s[0] + size[0], s[1] : s[1] + size[1], s[2] : s[2] + size[2]] = patch
        return self._tail(h, stop)[:, target]

    def _local(self, node: _Local, idx, plan: _Plan, clean, padded, values) -> torch.Tensor:
        out_size, out_start = plan.size[node.name], plan.start[node.name][idx]
        src_size, src_start = plan.size[node.source], plan.start[node.source][idx]
        befores = [
            same_padding(n, k, s)[0] for n, k, s in zip(clean[node.source].shape[2:], node.kernel, node.stride)
        ]
        in_size = tuple((o - 1) * s + k for o, s, k in zip(out_size, node.stride, node.kernel))
        in_start = out_start * np.asarray(node.stride) - np.asarray(befores)  # in the source's coordinates
        if tuple(in_size) == tuple(src_size) and np.array_equal(in_start, src_start):
            patch = values[node.source]  # a pointwise op on exactly the recomputed box
        else:
            key = (node.name, node.source)
            base, offset = (padded[key], befores) if key in padded else (clean[node.source], (0, 0, 0))
            patch = _gather(base, offset, in_start, in_size, values[node.source], src_start, src_size)
        return node.apply(patch)

    def _tail(self, h: torch.Tensor, stop: str) -> torch.Tensor:
        """The I3D from the layer after ``stop`` to the softmax (the network's own modules)."""
        return run_after(self.net, _fast_layout(h), stop)


def _needs_padding(node: _Local, source: torch.Tensor) -> bool:
    return any(
        sum(same_padding(n, k, s)) > 0 for n, k, s in zip(source.shape[2:], node.kernel, node.stride)
    )


def _pad_same(x: torch.Tensor, node: _Local) -> torch.Tensor:
    pads: list[int] = []
    for axis in (4, 3, 2):
        pads.extend(same_padding(x.shape[axis], node.kernel[axis - 2], node.stride[axis - 2]))
    return F.pad(x, pads, mode="constant", value=node.pad_value)


def _gather(
    base: torch.Tensor,
    offset: Sequence[int],
    starts: np.ndarray,
    size: Sequence[int],
    new: torch.Tensor,
    new_starts: np.ndarray,
    new_size: Sequence[int],
) -> torch.Tensor:
    """Per window, ``base`` on the box ``[start, start + size)`` with ``new`` written over its own box.

    ``base`` is ``(1, C, ...)`` (possibly padded: index = coordinate + ``offset``); ``new`` is
    ``(n, C, *new_size)`` at ``new_starts``. Returns ``(n, C, *size)``.
    """
    out = base.new_empty((len(starts), base.shape[1], *size))
    for slot, s, patch, ns in zip(out, starts, new, new_starts):
        p = [int(v) + int(o) for v, o in zip(s, offset)]
        slot.copy_(base[0, :, p[0] : p[0] + size[0], p[1] : p[1] + size[1], p[2] : p[2] + size[2]])
        lo = np.maximum(s, ns)
        hi = np.minimum(s + np.asarray(size), ns + np.asarray(new_size))
        if (hi > lo).all():
            slot[:, lo[0] - s[0] : hi[0] - s[0], lo[1] - s[1] : hi[1] - s[1], lo[2] - s[2] : hi[2] - s[2]] = patch[
                :, lo[0] - ns[0] : hi[0] - ns[0], lo[1] - ns[1] : hi[1] - ns[1], lo[2] - ns[2] : hi[2] - ns[2]
            ]
    return out


# --------------------------------------------------------------------------------------------------
# The front door
# --------------------------------------------------------------------------------------------------


def occlusion(
    model: nn.Module,
    clips: torch.Tensor,
    baselines: torch.Tensor,
    *,
    window: Sequence[int],
    stride: Sequence[int],
    target: int,
    batch_size: int,
    engine: str = "auto",
    stop: str | None = None,
    stats: OcclusionStats | None = None,
    min_incremental_gmacs: float = AUTO_INCREMENTAL_MIN_GMACS,
) -> torch.Tensor:
    """Occlusion attributions ``(B, C, T, H, W)`` with the fastest exact engine for ``model``.

    Args:
        model: any ``(N, C, T, H, W) -> (N, classes)`` model; ``ProbabilityModel(I3D)`` in eval mode
            (optionally in a :class:`PassCounter`) gets the incremental engine.
        clips, baselines: ``(B, C, T, H, W)``.
        window, stride: ``(T, H, W)`` voxels; windows span all channels.
        target: the explained output column.
        batch_size: occluded clips per model call.
        engine: ``"auto"`` (incremental when supported and a full pass costs at least
            ``min_incremental_gmacs``, else batched), ``"incremental"`` (an error when unsupported) or
            ``"batched"``. Both engines give the same result to float rounding.
        stop: the incremental engine's last incremental layer (``None``: chosen by estimated MACs).
        stats: an :class:`OcclusionStats` filled in with the engine used, the reason and the cost.
        min_incremental_gmacs: see :data:`AUTO_INCREMENTAL_MIN_GMACS` (``auto`` only).
    """
    if engine not in ENGINES:
        raise ValueError(f"occlusion: engine must be one of {ENGINES}, got {engine!r}.")
    stats = stats if stats is not None else OcclusionStats()
    reason = incremental_support(model) if engine != "batched" else "the batched engine was asked for"
    if engine == "auto" and not reason:
        gmacs = _full_pass_macs(unwrap_i3d(model)[0], tuple(clips.shape[1:])) / 1e9
        if gmacs < min_incremental_gmacs:
            reason = (f"a full pass costs {gmacs:.2f} GMAC (< {min_incremental_gmacs:g}), where the incremental "
                      "engine saves no time")
    if engine == "incremental" and reason:
        raise ValueError(f"occlusion: the incremental engine does not support this model: {reason}.")
    if reason:
        if engine == "auto":
            _LOG.info("occlusion: using the batched engine because %s.", reason)
        stats.engine, stats.reason = "batched", reason if engine == "auto" else ""
        return batched_occlusion(
            model, clips, baselines, window=window, stride=stride, target=target, batch_size=batch_size, stats=stats
        )
    inc = IncrementalOcclusion(model, stop=stop)
    result = inc.attribute(clips, baselines, window=window, stride=stride, target=target, batch_size=batch_size)
    for key in ("engine", "windows", "stop"):
        setattr(stats, key, getattr(inc.stats, key))
    stats.forward_samples += inc.stats.forward_samples
    stats.macs += inc.stats.macs
    stats.plain_macs += inc.stats.plain_macs
    return result

