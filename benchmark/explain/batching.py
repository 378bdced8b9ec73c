"""Batch sizes from a memory budget.

Captum evaluates many perturbed or interpolated clips per explanation; ``internal_batch_size``
(IG) and ``perturbations_per_eval`` (Occlusion, Lime, KernelShap) set how many go through the model
at once. Captum's defaults are "all at once" (IG: 12 GB at the paper's size) or "one at a time"
(slow). Here the batch is sized so that its estimated peak memory fits a budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

DEFAULT_MEMORY_BUDGET_GB = 2.0
"""The budget when ``params`` has no ``memory_budget_gb`` (the harness may set it)."""

DEFAULT_MAX_BATCH = 64
"""The largest batch by default: batching buys at most ~1.4x on a CPU, and Captum's perturbation
methods slow down when ``perturbations_per_eval`` exceeds the perturbations there are."""

CPU_MAX_BATCH = 16
"""The largest batch worth running on a CPU (see :func:`max_batch_for`). Measured with
``python -m benchmark.perf`` (I3D width 0.25, 20x48x72, one thread): 13-14 ms per forward sample at
batch 8-32 but ~23 ms at 64, where ``max_pool3d`` alone took half the time; forward + backward
32 ms per sample at 16 and 50 ms at 32."""


def max_batch_for(device: torch.device | str) -> int:
    """The ``cap`` to pass to :func:`batch_size_for` on ``device``: :data:`CPU_MAX_BATCH` on a CPU,
    :data:`DEFAULT_MAX_BATCH` elsewhere (accelerators gain from larger batches)."""
    return CPU_MAX_BATCH if torch.device(device).type == "cpu" else DEFAULT_MAX_BATCH


ONEDNN_MIN_BATCH = 16
"""On one CPU thread PyTorch sends a 1x1x1 convolution to oneDNN only from batch 16 on; below, its
native kernel returns contiguous activations, and ``max_pool3d`` on those is slow. A channels-last
forward (:func:`model_memory_format`) is therefore fast only in batches
of at least this many samples. Measured (I3D width 0.25, 20x48x72, one thread, ``torch.inference_mode``):
7.0-8.1 ms per sample channels-last at batch 16-64, 13.4-14.2 ms at batch 8-15, and 14.3 ms at batch 16
contiguous."""

CPU_CHANNELS_LAST_MAX_BATCH = 32
"""The largest channels-last batch on a CPU: per-sample time is flat from 16 to 40 (see
:data:`ONEDNN_MIN_BATCH`); the room above 16 lets :func:`forward_batch_size` avoid a short last batch."""

def model_memory_format(clip: torch.Tensor) -> torch.memory_format:
    """The memory layout to run the I3D in for ``clip`` (5-D): ``torch.channels_last_3d`` on a CPU
    (from batch :data:`ONEDNN_MIN_BATCH` on about twice as fast, and no slower below), else
    ``torch.contiguous_format`` (not measured on accelerators). The values are the same either way."""
    if clip.dim() == 5 and clip.device.type == "cpu":
        return torch.channels_last_3d
    return torch.contiguous_format


def batch_memory_format(batch: torch.Tensor) -> torch.memory_format:
    """The layout to hand ``batch`` ``(N, C, T, H, W)`` to the I3D in: :func:`model_memory_format` from
    :data:`ONEDNN_MIN_BATCH` samples on (where channels-last pays), else ``torch.contiguous_format``."""
    if batch.shape[0] >= ONEDNN_MIN_BATCH:
        return model_memory_format(batch)
    return torch.contiguous_format


FORWARD_ACTIVATION_FACTOR = 8.0
"""Peak memory of a no-grad forward, in multiples of the input sample's size (I3D, measured order)."""

BACKWARD_ACTIVATION_FACTOR = 48.0
"""Peak memory of a forward + backward, in multiples of the input sample's size (I3D at width 1.0:
30 IG steps at 20x158x237 took 12.3 GB, about 46x the 9 MB per clip)."""


def batch_size_for(
    sample_shape: Sequence[int],
    *,
    budget_bytes: float,
    activation_factor: float,
    bytes_per_element: int = 4,
    minimum: int = 2,
    maximum: int | None = None,
    cap: int | None = DEFAULT_MAX_BATCH,
) -> int:
    """How many samples of ``sample_shape`` to run at once within the budget.

    ``floor(budget_bytes / (prod(sample_shape) * bytes_per_element * activation_factor))``, raised to
    ``minimum`` and lowered to ``maximum`` and ``cap``. The default minimum of 2 means no batch of 1
    by default (Captum's default for perturbation methods, and the slowest choice).

    Args:
        sample_shape: the shape of one model input sample, e.g. ``(3, T, H, W)``.
        budget_bytes: memory the batch may take (e.g. ``memory_budget_bytes(params)``).
        activation_factor: estimated peak memory per sample in multiples of its input size
            (:data:`FORWARD_ACTIVATION_FACTOR` for no-grad methods,
            :data:`BACKWARD_ACTIVATION_FACTOR` for gradient methods).
        bytes_per_element: 4 for float32.
        minimum: the smallest batch returned (>= 1) unless ``maximum`` is smaller.
        maximum: the number of samples there are to run (a batch never exceeds it), or ``None``.
        cap: an upper bound regardless of memory (default :data:`DEFAULT_MAX_BATCH`), or ``None``.

    Example:
        >>> batch_size_for((3, 20, 158, 237), budget_bytes=2 * 1024**3, activation_factor=48)
        4
    """
    if not sample_shape or any(int(s) < 1 for s in sample_shape):
        raise ValueError(f"batch_size_for: sample_shape must be positive sizes, got {tuple(sample_shape)}.")
    if budget_bytes <= 0 or activation_factor <= 0 or bytes_per_element < 1:
        raise ValueError(
            "batch_size_for: budget_bytes, activation_factor and bytes_per_element must be positive, got "
            f"{budget_bytes}, {activation_factor}, {bytes_per_element}."
        )
    if minimum < 1 or any(v is not None and v < 1 for v in (maximum, cap)):
        raise ValueError(
            f"batch_size_for: minimum, maximum and cap must be >= 1, got {minimum}, {maximum}, {cap}."
        )
    per_sample = math.prod(int(s) for s in sample_shape) * bytes_per_element * activation_factor
    size = max(minimum, int(budget_bytes // per_sample))
    for bound in (maximum, cap):
        if bound is not None:
            size = min(size, bound)
    return size


def memory_budget_bytes(params: Mapping[str, Any]) -> float:
    """``params['memory_budget_gb']`` (default :data:`DEFAULT_MEMORY_BUDGET_GB`) in bytes."""
    gb = params.get("memory_budget_gb", DEFAULT_MEMORY_BUDGET_GB)
    if not isinstance(gb, (int, float)) or isinstance(gb, bool) or gb <= 0:
        raise ValueError(f"params: memory_budget_gb must be a positive number of GB, got {gb!r}.")
    return float(gb) * 1024**3


def forward_batch_size(
    sample_shape: Sequence[int],
    n_samples: int,
    *,
    budget_bytes: float,
    device: torch.device | str,
    channels_last: bool,
) -> int:
    """Samples per no-grad model call when ``n_samples`` perturbed samples are evaluated.

    Contiguous, or not on a CPU: :func:`batch_size_for` with :data:`FORWARD_ACTIVATION_FACTOR`,
    ``maximum=n_samples`` and ``cap=max_batch_for(device)``. Channels-last on a CPU: the same memory
    limit with ``cap=CPU_CHANNELS_LAST_MAX_BATCH``, then the smallest size from
    :data:`ONEDNN_MIN_BATCH` up to that limit that leaves no batch, the last one included, below
    :data:`ONEDNN_MIN_BATCH` (200 samples: 10 batches of 20 rather than 12 of 16 and one of 8).

    Args:
        sample_shape: one model input sample, e.g. ``(3, T, H, W)``.
        n_samples: the samples to evaluate (>= 1).
        budget_bytes: memory the batch may take.
        device: where the model runs.
        channels_last: whether the model gets its batches in ``torch.channels_last_3d``.

    Example:
        >>> forward_batch_size((3, 20, 48, 72), 200, budget_bytes=2 * 1024**3, device="cpu", channels_last=True)
        20
    """
    if n_samples < 1:
        raise ValueError(f"forward_batch_size: n_samples must be >= 1, got {n_samples}.")
    on_cpu = torch.device(device).type == "cpu"
    cap = CPU_CHANNELS_LAST_MAX_BATCH if on_cpu and channels_last else max_batch_for(device)
    limit = batch_size_for(
        sample_shape, budget_bytes=budget_bytes, activation_factor=FORWARD_ACTIVATION_FACTOR,
        maximum=n_samples, cap=cap,
    )
    if not (on_cpu and channels_last) or n_samples <= limit:
        return limit
    for size in range(ONEDNN_MIN_BATCH, limit + 1):
        if n_samples % size == 0 or n_samples % size >= ONEDNN_MIN_BATCH:
            return size
    return limit


def step_batch_size(
    sample_shape: Sequence[int],
    n_steps: int,
    examples: int,
    *,
    budget_bytes: float,
    device: torch.device | str,
    channels_last: bool,
) -> int:
    """Captum's ``internal_batch_size`` for a path method (Integrated Gradients, also under NoiseTunnel).

    Captum evaluates ``internal_batch_size // examples`` integration steps of all ``examples`` inputs
    per forward + backward call, so the answer is a multiple of ``examples``. It is the largest that the
    memory budget allows (with :data:`BACKWARD_ACTIVATION_FACTOR`), capped like :func:`forward_batch_size`;
    channels-last on a CPU, the smallest number of steps per call that keeps every call, the last one
    included, at :data:`ONEDNN_MIN_BATCH` samples or more, where that is possible.

    Args:
        sample_shape: one model input sample, e.g. ``(3, T, H, W)``.
        n_steps: integration steps (>= 1).
        examples: inputs integrated together (clips x noise samples; >= 1).
        budget_bytes, device, channels_last: as for :func:`forward_batch_size`.

    Example:
        >>> step_batch_size((3, 20, 48, 72), 30, 5, budget_bytes=2 * 1024**3, device="cpu", channels_last=True)
        25
    """
    if n_steps < 1 or examples < 1:
        raise ValueError(f"step_batch_size: n_steps and examples must be >= 1, got {n_steps}, {examples}.")
    on_cpu = torch.device(device).type == "cpu"
    cl_cpu = on_cpu and channels_last
    cap = CPU_CHANNELS_LAST_MAX_BATCH if cl_cpu else max_batch_for(device)
    limit = batch_size_for(
        sample_shape, budget_bytes=budget_bytes, activation_factor=BACKWARD_ACTIVATION_FACTOR,
        maximum=n_steps * examples, cap=max(cap, examples),
    )
    max_steps = max(1, min(n_steps, limit // examples))
    if cl_cpu and n_steps > max_steps:
        first = -(-ONEDNN_MIN_BATCH // examples)
        for steps in range(first, max_steps + 1):
            rest = n_steps % steps
            if rest == 0 or rest * examples >= ONEDNN_MIN_BATCH:
                return steps * examples
    return max_steps * examples
