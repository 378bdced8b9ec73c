"""Batch sizes from a memory budget."""

from __future__ import annotations

import pytest

from benchmark.explain.batching import (
    CPU_MAX_BATCH,
    DEFAULT_MAX_BATCH,
    ONEDNN_MIN_BATCH,
    batch_size_for,
    forward_batch_size,
    memory_budget_bytes,
)

GB = 1024**3


def test_budget_arithmetic():
    # one sample: 3*20*158*237 floats = 8.99 MB; x48 = 431 MB; 2 GB holds 4 of them
    assert batch_size_for((3, 20, 158, 237), budget_bytes=2 * GB, activation_factor=48) == 4
    assert batch_size_for((3, 20, 158, 237), budget_bytes=4 * GB, activation_factor=48) == 9


def test_bounds():
    assert batch_size_for((3, 20, 158, 237), budget_bytes=1, activation_factor=48) == 2, "no batch of 1"
    assert batch_size_for((3, 20, 158, 237), budget_bytes=1, activation_factor=48, minimum=1) == 1
    assert batch_size_for((4,), budget_bytes=GB, activation_factor=1) == DEFAULT_MAX_BATCH
    assert batch_size_for((4,), budget_bytes=GB, activation_factor=1, maximum=30) == 30
    assert batch_size_for((4,), budget_bytes=GB, activation_factor=1, cap=None) > 10**6
    assert batch_size_for((4,), budget_bytes=1, activation_factor=1, maximum=1) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"budget_bytes": 0, "activation_factor": 1},
        {"budget_bytes": GB, "activation_factor": -1},
        {"budget_bytes": GB, "activation_factor": 1, "minimum": 0},
        {"budget_bytes": GB, "activation_factor": 1, "maximum": 0},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="batch_size_for"):
        batch_size_for((3, 4), **kwargs)


def test_memory_budget_from_params():
    assert memory_budget_bytes({}) == 2 * GB
    assert memory_budget_bytes({"memory_budget_gb": 0.5}) == GB / 2
    for bad in (0, -1, "2", True):
        with pytest.raises(ValueError, match="memory_budget_gb"):
            memory_budget_bytes({"memory_budget_gb": bad})


@pytest.mark.parametrize("n_samples", [17, 33, 47, 100, 200, 500, 1000])
def test_channels_last_batches_on_a_cpu_leave_no_short_batch(n_samples):
    size = forward_batch_size((3, 20, 48, 72), n_samples, budget_bytes=2 * GB, device="cpu", channels_last=True)
    assert ONEDNN_MIN_BATCH <= size <= 32
    assert n_samples % size == 0 or n_samples % size >= ONEDNN_MIN_BATCH


def test_forward_batch_size_cases():
    kwargs = {"budget_bytes": 2 * GB, "device": "cpu"}
    assert forward_batch_size((3, 20, 48, 72), 200, channels_last=True, **kwargs) == 20
    assert forward_batch_size((3, 20, 48, 72), 8, channels_last=True, **kwargs) == 8, "all in one batch"
    assert forward_batch_size((3, 20, 48, 72), 200, channels_last=False, **kwargs) == CPU_MAX_BATCH
    assert forward_batch_size((3, 20, 48, 72), 200, channels_last=True, budget_bytes=2 * GB, device="meta") == 64
    # the memory budget still rules: 9 MB samples x 8 in 0.5 GB -> 7, below the oneDNN batch
    assert forward_batch_size((3, 20, 158, 237), 200, channels_last=True, budget_bytes=GB / 2, device="cpu") == 7
    with pytest.raises(ValueError, match="forward_batch_size"):
        forward_batch_size((3, 4), 0, channels_last=True, **kwargs)


@pytest.mark.parametrize("n_steps,examples", [(30, 1), (30, 5), (50, 2), (7, 3), (1, 1), (30, 40)])
@pytest.mark.parametrize("channels_last", [True, False])
def test_step_batch_size_is_a_whole_number_of_steps_within_the_cap(n_steps, examples, channels_last):
    from benchmark.explain.batching import CPU_CHANNELS_LAST_MAX_BATCH, ONEDNN_MIN_BATCH, step_batch_size

    size = step_batch_size((3, 20, 48, 72), n_steps, examples, budget_bytes=2 * 1024**3, device="cpu",
                           channels_last=channels_last)
    assert size % examples == 0 and 1 <= size // examples <= n_steps
    assert size <= max(examples, CPU_CHANNELS_LAST_MAX_BATCH if channels_last else 16)
    if channels_last and n_steps * examples > CPU_CHANNELS_LAST_MAX_BATCH:
        steps = size // examples
        calls = [min(steps, n_steps - s) * examples for s in range(0, n_steps, steps)]
        assert min(calls) >= ONEDNN_MIN_BATCH or examples >= ONEDNN_MIN_BATCH


def test_step_batch_size_respects_the_memory_budget():
    from benchmark.explain.batching import step_batch_size

    small = step_batch_size((3, 20, 158, 237), 30, 5, budget_bytes=0.5 * 1024**3, device="cpu", channels_last=True)
    assert small == 5  # one step of the five noisy copies per call
    with pytest.raises(ValueError, match="n_steps"):
        step_batch_size((3, 4, 8, 8), 0, 1, budget_bytes=1e9, device="cpu", channels_last=True)
