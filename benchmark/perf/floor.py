"""The cost floor of a model: the best per-sample forward and backward time over batch sizes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from benchmark.explain.batching import BACKWARD_ACTIVATION_FACTOR, FORWARD_ACTIVATION_FACTOR, batch_size_for


@dataclass(frozen=True)
class FloorTimes:
    """Best per-sample times of one model on one input shape.

    Attributes:
        forward_s: seconds per sample of a forward pass under ``torch.inference_mode`` (best batch).
        backward_s: seconds per sample of the backward pass alone: best (forward + backward) per
            sample minus ``forward_s`` (at least 0).
        forward_batch: the batch size that gave ``forward_s``.
        backward_batch: the batch size that gave the best forward + backward.
        forward_by_batch: median seconds per sample by batch size (forward only).
        train_by_batch: median seconds per sample by batch size (forward + backward).
    """

    forward_s: float
    backward_s: float
    forward_batch: int
    backward_batch: int
    forward_by_batch: dict[int, float] = field(default_factory=dict)
    train_by_batch: dict[int, float] = field(default_factory=dict)

    def floor(self, forward_samples: int, backward_samples: int) -> float:
        """``forward_samples * forward_s + backward_samples * backward_s`` seconds."""
        return forward_samples * self.forward_s + backward_samples * self.backward_s


def _batches(limit: int) -> list[int]:
    sizes, b = [], 1
    while b <= limit:
        sizes.append(b)
        b *= 2
    return sizes


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up (allocator, oneDNN primitive cache)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_floor(
    model: nn.Module,
    sample_shape: Sequence[int],
    *,
    target: int = 1,
    budget_bytes: float = 2 * 1024**3,
    max_batch: int = 64,
    repeats: int = 3,
    seed: int = 0,
) -> FloorTimes:
    """Time forward-only and forward + backward passes of ``model`` over batch sizes 1, 2, 4, ...

    Args:
        model: ``(B, *sample_shape) -> (B, classes)``; its parameters are not touched.
        sample_shape: one input sample, e.g. ``(3, T, H, W)``.
        target: the output column whose sum is back-propagated.
        budget_bytes: batch sizes whose estimated peak memory (see :mod:`benchmark.explain.batching`)
            exceeds it are skipped.
        max_batch: the largest batch tried.
        repeats: timed repeats per batch size (the median is kept) after one warm-up.
        seed: seeds the random inputs.

    Returns:
        :class:`FloorTimes`.
    """
    generator = torch.Generator().manual_seed(seed)
    forward, train = {}, {}
    fwd_limit = batch_size_for(sample_shape, budget_bytes=budget_bytes, activation_factor=FORWARD_ACTIVATION_FACTOR,
                               minimum=1, cap=max_batch)
    bwd_limit = batch_size_for(sample_shape, budget_bytes=budget_bytes, activation_factor=BACKWARD_ACTIVATION_FACTOR,
                               minimum=1, cap=max_batch)
    for b in _batches(fwd_limit):
        x = torch.rand((b, *sample_shape), generator=generator) * 2 - 1

        def run_forward(x=x):
            with torch.inference_mode():
                model(x)

        forward[b] = _median_time(run_forward, repeats) / b
    for b in _batches(bwd_limit):
        x = torch.rand((b, *sample_shape), generator=generator) * 2 - 1

        def run_train(x=x):
            inputs = x.clone().requires_grad_(True)
            model(inputs)[:, target].sum().backward()

        train[b] = _median_time(run_train, repeats) / b
    fb = min(forward, key=forward.get)
    tb = min(train, key=train.get)
    return FloorTimes(
        forward_s=forward[fb],
        backward_s=max(train[tb] - forward[fb], 0.0),
        forward_batch=fb,
        backward_batch=tb,
        forward_by_batch=forward,
        train_by_batch=train,
    )
