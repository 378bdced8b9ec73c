"""The cost floor of a model: the best per-sample forward and backward time over batch sizes.

Two floors come out of one measurement (:class:`FloorTimes`):

* :meth:`FloorTimes.floor`, the **best-batch floor**: every sample at the best per-sample time over all
  batch sizes tried. A method that runs few samples per clip cannot reach it on one clip.
* :meth:`FloorTimes.own_batch_floor`, the **own-batch floor** (a latency floor): a clip's samples at the
  per-sample time of a batch of ``min(samples, best batch)``, the largest batch one clip can fill. It needs
  the model timed at that batch size: pass the sample counts as ``extra_batches`` to :func:`measure_floor`.
"""

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

    The batch sizes are the powers of two and the ``extra_batches`` that :func:`measure_floor` timed; the
    best batch is the best over all of them.

    Attributes:
        forward_s: seconds per sample of a forward pass under ``torch.inference_mode`` (best batch).
        backward_s: seconds per sample of the backward pass alone: best (forward + backward) per
            sample minus ``forward_s`` (at least 0).
        forward_batch: the batch size that gave ``forward_s``.
        backward_batch: the batch size that gave the best forward + backward.
        forward_by_batch: median seconds per sample by batch size (forward only).
        train_by_batch: median seconds per sample by batch size (forward + backward).
        forward_layout, backward_layout: the memory layout (``contiguous`` or ``channels_last_3d``, both
            tried on a CPU; each batch size keeps its faster layout) that gave ``forward_s`` and the best
            forward + backward.
    """

    forward_s: float
    backward_s: float
    forward_batch: int
    backward_batch: int
    forward_by_batch: dict[int, float] = field(default_factory=dict)
    train_by_batch: dict[int, float] = field(default_factory=dict)
    forward_layout: str = "contiguous"
    backward_layout: str = "contiguous"

    def floor(self, forward_samples: int, backward_samples: int) -> float:
        """``forward_samples * forward_s + backward_samples * backward_s`` seconds (the best-batch floor)."""
        return forward_samples * self.forward_s + backward_samples * self.backward_s

    def own_batch_floor(self, forward_samples: int, backward_samples: int) -> float:
        """The floor of one clip's samples run in batches of ``min(samples, best batch)`` (seconds).

        ``backward_samples * train(b_b) + (forward_samples - backward_samples) * forward(b_f)`` with the
        per-sample times of :attr:`train_by_batch` (forward + backward) and :attr:`forward_by_batch` at
        ``b_b = min(backward_samples, backward_batch)`` and ``b_f = min(forward_samples, forward_batch)``:
        each backward sample costs a forward + backward pass at its batch size, the forward-only samples
        a forward pass. At least :meth:`floor` (the best batch is the best over every size timed).

        Raises:
            ValueError: if a count is negative, ``backward_samples > forward_samples``, or ``b_f``/``b_b``
                was not timed (pass it to :func:`measure_floor` in ``extra_batches``).
        """
        if forward_samples < 0 or backward_samples < 0 or backward_samples > forward_samples:
            raise ValueError(
                f"FloorTimes.own_batch_floor: need 0 <= backward_samples <= forward_samples, got "
                f"{forward_samples} forward and {backward_samples} backward samples."
            )
        seconds = 0.0
        if backward_samples:
            seconds += backward_samples * self._per_sample(self.train_by_batch, backward_samples,
                                                           self.backward_batch, "train_by_batch")
        if forward_samples > backward_samples:
            seconds += (forward_samples - backward_samples) * self._per_sample(
                self.forward_by_batch, forward_samples, self.forward_batch, "forward_by_batch")
        return seconds

    @staticmethod
    def _per_sample(by_batch: dict[int, float], samples: int, best: int, name: str) -> float:
        batch = min(samples, best)
        if batch not in by_batch:
            raise ValueError(
                f"FloorTimes.own_batch_floor: batch size {batch} was not timed ({name} has "
                f"{sorted(by_batch)}); pass it to measure_floor(..., extra_batches=[{batch}])."
            )
        return by_batch[batch]


def _batches(limit: int, extras: Sequence[int] = ()) -> list[int]:
    """The powers of two up to ``limit`` and the ``extras`` up to ``limit``, ascending, each once."""
    sizes, b = {e for e in extras if e <= limit}, 1
    while b <= limit:
        sizes.add(b)
        b *= 2
    return sorted(sizes)


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
    extra_batches: Sequence[int] = (),
) -> FloorTimes:
    """Time forward-only and forward + backward passes of ``model`` over batch sizes 1, 2, 4, ... (and extras).

    On a CPU every batch size is timed in both memory layouts and keeps the faster one: the floor is
    the best the model can do, whatever layout an explainer picks.

    Args:
        model: ``(B, *sample_shape) -> (B, classes)``; its parameters are not touched.
        sample_shape: one input sample, e.g. ``(3, T, H, W)``.
        target: the output column whose sum is back-propagated.
        budget_bytes: batch sizes whose estimated peak memory (see :mod:`benchmark.explain.batching`)
            exceeds it are skipped.
        max_batch: the largest batch tried.
        repeats: timed repeats per batch size (the median is kept) after one warm-up.
        seed: seeds the random inputs.
        extra_batches: batch sizes to time besides the powers of two (e.g. a method's samples per clip,
            for :meth:`FloorTimes.own_batch_floor`); sizes above ``max_batch`` or the memory budget are
            skipped like the powers of two.

    Returns:
        :class:`FloorTimes`; the best batch is the best over every size timed.

    Raises:
        ValueError: if an extra batch size is not a positive integer.
    """
    if not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in extra_batches):
        raise ValueError(f"measure_floor: extra_batches must be positive integers, got {list(extra_batches)}.")
    extras = sorted(set(extra_batches))
    generator = torch.Generator().manual_seed(seed)
    forward, train = {}, {}
    fwd_limit = batch_size_for(sample_shape, budget_bytes=budget_bytes, activation_factor=FORWARD_ACTIVATION_FACTOR,
                               minimum=1, cap=max_batch)
    bwd_limit = batch_size_for(sample_shape, budget_bytes=budget_bytes, activation_factor=BACKWARD_ACTIVATION_FACTOR,
                               minimum=1, cap=max_batch)
    layouts = [torch.contiguous_format]
    if torch.device(next(model.parameters()).device).type == "cpu" and len(sample_shape) == 4:
        layouts.append(torch.channels_last_3d)  # faster from batch 16 on (benchmark.explain.batching)
    forward_layout, train_layout = {}, {}
    for b in _batches(fwd_limit, extras):
        x = torch.rand((b, *sample_shape), generator=generator) * 2 - 1
        for layout in layouts:
            xl = x.contiguous(memory_format=layout)

            def run_forward(x=xl):
                with torch.inference_mode():
                    model(x)

            t = _median_time(run_forward, repeats) / b
            if t < forward.get(b, float("inf")):
                forward[b], forward_layout[b] = t, _layout_name(layout)
    for b in _batches(bwd_limit, extras):
        x = torch.rand((b, *sample_shape), generator=generator) * 2 - 1
        for layout in layouts:

            def run_train(x=x, layout=layout):
                inputs = x.clone().requires_grad_(True)
                model(inputs.contiguous(memory_format=layout))[:, target].sum().backward()

            t = _median_time(run_train, repeats) / b
            if t < train.get(b, float("inf")):
                train[b], train_layout[b] = t, _layout_name(layout)
    fb = min(forward, key=forward.get)
    tb = min(train, key=train.get)
    return FloorTimes(
        forward_s=forward[fb],
        backward_s=max(train[tb] - forward[fb], 0.0),
        forward_batch=fb,
        backward_batch=tb,
        forward_by_batch=forward,
        train_by_batch=train,
        forward_layout=forward_layout[fb],
        backward_layout=train_layout[tb],
    )


def _layout_name(layout: torch.memory_format) -> str:
    return "channels_last_3d" if layout == torch.channels_last_3d else "contiguous"
