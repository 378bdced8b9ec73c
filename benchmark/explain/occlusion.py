"""Occlusion attributions, fast and exact: :func:`occlusion` picks the engine.

Both engines compute exactly what Captum's :class:`~captum.attr.Occlusion` computes for one clip
``x`` ``(3, T, H, W)``, a baseline ``b`` of the same shape, a window spanning all channels and a stride:
the attribution of a voxel is the mean of ``p(x) - p(x_k)`` over the windows ``k`` that contain it
(``x_k``: ``x`` with window ``k`` replaced by ``b``; see :mod:`benchmark.explain.engines.windows`). They
differ only in how ``p(x_k)`` is obtained:

* ``batched`` (any model; :mod:`benchmark.explain.engines.batched`): full forward passes of the occluded
  clips, built in place in a reused batch;
* ``incremental`` (the project's :class:`~benchmark.model.i3d.I3D` in eval mode;
  :mod:`benchmark.explain.engines.incremental`): each window recomputes only the sub-volume of each early
  layer it can reach, then runs the rest of the network in full (Nakandala et al., SIGMOD 2019).

:func:`occlusion` picks the incremental engine when the model is supported and large enough for it to pay
(:data:`AUTO_INCREMENTAL_MIN_GMACS`), and says why not otherwise. Every engine reports the multiply-adds
its convolutions ran (:class:`OcclusionStats`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn

from benchmark.explain.engines.batched import batched_occlusion
from benchmark.explain.engines.incremental import IncrementalOcclusion, incremental_support
from benchmark.explain.engines.layerwise import unwrap_i3d
from benchmark.explain.engines.stats import OcclusionStats
from benchmark.model.graph import pass_macs

__all__ = ["AUTO_INCREMENTAL_MIN_GMACS", "ENGINES", "OcclusionStats", "occlusion"]

_LOG = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("auto", "incremental", "batched")

AUTO_INCREMENTAL_MIN_GMACS = 1.0
"""``engine="auto"`` runs the incremental engine only when a full pass of the I3D costs at least this many
GMACs: below, its many small per-window kernels cost as much as the multiply-adds they save. Measured with
``python -m benchmark.perf --engines-only`` (one thread, plain batches of 16-32 channels-last, none short),
incremental over plain wall time per window, large and small windows: 0.84x and 1.04x at 0.26 GMAC (default
profile, width 0.25 at 20x48x72), 1.00x and 1.22x at 2.5 GMAC (width 1 at 20x48x72), 1.6x and 2.5x at
26.6 GMAC (the paper's 158x237)."""


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
        gmacs = pass_macs(unwrap_i3d(model)[0], tuple(clips.shape[1:])) / 1e9
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
