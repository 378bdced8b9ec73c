"""Batch sizes from a memory budget."""

from __future__ import annotations

import pytest

from benchmark.explain.batching import DEFAULT_MAX_BATCH, batch_size_for, memory_budget_bytes

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
