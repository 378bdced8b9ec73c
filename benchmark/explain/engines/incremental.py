"""The incremental occlusion engine: exact occlusion for the project's I3D, recomputing only what a window changes.

After one clean forward pass that keeps every early activation, each window only recomputes the
sub-volume of each early layer that the window can reach (its projective field, with the halo the next
kernel needs; :mod:`~benchmark.explain.engines.planning`), patched into the clean activations, and runs
the full network only from the first layer where that sub-volume stops being small (Nakandala et al.,
SIGMOD 2019). Eval-mode BatchNorm is a per-channel affine map and ReLU is pointwise, so every early
layer is local and the result is exact up to float summation order. TensorFlow ``SAME`` padding is
reproduced by reading the patches from zero-padded (convolutions) or ``-inf``-padded (max pools) copies
of the clean activations. The stopping layer is chosen to minimise the estimated multiply-adds.

The network is walked as :func:`benchmark.model.graph.i3d_graph` publishes it; the rest after the stop
layer runs with :func:`benchmark.model.graph.run_after`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from benchmark.explain.engines.batched import fast_clone, fast_layout, target_probability
from benchmark.explain.engines.layerwise import layerwise_support, unwrap_i3d
from benchmark.explain.engines.planning import Plan, make_plan, stop_costs
from benchmark.explain.engines.stats import OcclusionStats
from benchmark.explain.engines.windows import attribution_from_drops, check_clip_pair, occlusion_windows
from benchmark.model.graph import INPUT, LocalOp, i3d_graph, pass_macs, run_after
from benchmark.model.i3d import pad_same, same_padding


def incremental_support(model: nn.Module) -> str:
    """``""`` when :class:`IncrementalOcclusion` supports ``model``, else the reason it does not."""
    return layerwise_support(model)


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
        self.stages = i3d_graph(self.net)
        names = [name for name, _ in self.stages]
        if stop is not None and stop not in names:
            raise ValueError(f"IncrementalOcclusion: stop must be one of {names}, got {stop!r}.")
        self.requested_stop = stop
        self.stats = OcclusionStats(engine="incremental")

    def choose_stop(self, boxes: np.ndarray, volume: tuple[int, int, int]) -> str:
        """The stop layer with the fewest estimated multiply-adds per window (the requested one if set)."""
        if self.requested_stop is not None:
            return self.requested_stop
        estimates = stop_costs(self.net, self.stages, boxes, volume)
        return min(estimates, key=lambda name: sum(estimates[name]))

    # ---- the clean pass -------------------------------------------------------------------------

    def _clean_pass(self, x: torch.Tensor, target: int, stop: str) -> tuple[float, dict[str, torch.Tensor]]:
        """``p(x)[target]`` through ``self.model`` and the clean activations of every node up to ``stop``."""
        keep: dict[str, torch.Tensor] = {INPUT: x}
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
            p0 = float(target_probability(self.model, x, target)[0])
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

        Same arguments and result as :func:`~benchmark.explain.engines.batched.batched_occlusion`;
        :attr:`stats` accumulates the cost.
        """
        check_clip_pair(clips, baselines)
        channels, *volume_list = clips.shape[1:]
        volume = tuple(int(v) for v in volume_list)
        boxes = occlusion_windows(volume, window, stride)
        out = []
        for x, b in zip(clips, baselines):
            p0, p = self.probabilities(x, b, boxes, target=target, batch_size=batch_size)
            out.append(attribution_from_drops(boxes, p0 - p, channels, volume, clips.dtype))
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
        """``p(x)[target]`` and ``p(x_k)[target]`` for every box, incrementally (see
        :func:`~benchmark.explain.engines.batched.occluded_probabilities`).

        ``boxes`` plan the recomputed sub-volumes (pass the run's full set of windows); ``indices``
        selects the windows actually evaluated (default: all; a subset is for timing).
        :attr:`stats` accumulates the cost.
        """
        if batch_size < 1:
            raise ValueError(f"IncrementalOcclusion: batch_size must be >= 1, got {batch_size}.")
        volume = tuple(int(v) for v in clip.shape[1:])
        stop = self.choose_stop(boxes, volume)
        plan = make_plan(self.stages, boxes, volume, stop)
        estimates = stop_costs(self.net, self.stages, boxes, volume)
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
        full = pass_macs(self.net, clip.shape)
        self.stats.windows = len(indices)
        self.stats.stop = stop
        self.stats.forward_samples += 1 + len(indices)
        self.stats.macs += full + len(indices) * sum(estimates[stop])
        self.stats.plain_macs += (1 + len(indices)) * full
        return p0, p

    def _padded_sources(self, clean: dict[str, torch.Tensor], stop: str) -> dict[tuple[str, str], torch.Tensor]:
        """Each local op's source, SAME-padded with the op's pad value, keyed by ``(op, source)``."""
        padded = {}
        for name, nodes in self.stages:
            for node in nodes:
                if isinstance(node, LocalOp) and _needs_padding(node, clean[node.source]):
                    padded[(node.name, node.source)] = pad_same(
                        clean[node.source], node.kernel, node.stride, node.pad_value
                    )
            if name == stop:
                break
        return padded

    def _occluded(
        self,
        x: torch.Tensor,
        b: torch.Tensor,
        boxes: np.ndarray,
        idx: np.ndarray,
        plan: Plan,
        clean: dict[str, torch.Tensor],
        padded: dict[tuple[str, str], torch.Tensor],
        stop: str,
        target: int,
    ) -> torch.Tensor:
        """``p(x_k)[target]`` for the windows ``idx``: incremental up to ``stop``, then the full rest."""
        # the occluded input on each window's computed input box
        size = plan.size[INPUT]
        starts = plan.start[INPUT][idx]
        new = x.new_empty((len(idx), x.shape[0], *size))
        for slot, k, s in zip(new, idx, starts):
            slot.copy_(x[:, s[0] : s[0] + size[0], s[1] : s[1] + size[1], s[2] : s[2] + size[2]])
            (t0, t1), (h0, h1), (w0, w1) = boxes[k]
            slot[:, t0 - s[0] : t1 - s[0], h0 - s[1] : h1 - s[1], w0 - s[2] : w1 - s[2]] = b[:, t0:t1, h0:h1, w0:w1]
        values = {INPUT: new}
        for name, nodes in self.stages:
            for node in nodes:
                if isinstance(node, LocalOp):
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
        h = fast_clone(clean[stop].expand(len(idx), *clean[stop].shape[1:]))
        for slot, patch, s in zip(h, values[stop], starts):
            slot[:, s[0] : s[0] + size[0], s[1] : s[1] + size[1], s[2] : s[2] + size[2]] = patch
        return run_after(self.net, fast_layout(h), stop)[:, target]

    def _local(self, node: LocalOp, idx, plan: Plan, clean, padded, values) -> torch.Tensor:
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


def _needs_padding(node: LocalOp, source: torch.Tensor) -> bool:
    return any(
        sum(same_padding(n, k, s)) > 0 for n, k, s in zip(source.shape[2:], node.kernel, node.stride)
    )


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
