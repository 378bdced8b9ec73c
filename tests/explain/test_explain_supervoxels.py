"""3-D SLIC supervoxels: contiguous labels, determinism, the cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.explain.supervoxels import SupervoxelCache, relabel_contiguous, slic_supervoxels


@pytest.fixture
def clip() -> torch.Tensor:
    """A ``(3, 20, 24, 36)`` grayscale clip replicated to three channels, in [-1, 1]."""
    gray = torch.rand((1, 20, 24, 36), generator=torch.Generator().manual_seed(3)) * 2 - 1
    return gray.expand(3, -1, -1, -1).contiguous()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-5, 40), min_size=1, max_size=60))
def test_relabel_is_contiguous_and_keeps_the_partition(values):
    labels = np.array(values)
    out = relabel_contiguous(labels)
    k = len(np.unique(labels))
    assert out.dtype == np.int64 and set(out.tolist()) == set(range(k))
    assert out[0] == 0
    for a in range(len(values)):  # same label before <=> same label after
        assert np.array_equal(labels == labels[a], out == out[a])


def test_supervoxels_are_contiguous_and_deterministic(clip):
    labels = slic_supervoxels(clip, n_segments=80, compactness=60)
    assert labels.shape == (20, 24, 36) and labels.dtype == torch.int64
    k = int(labels.max()) + 1
    assert 10 < k <= 80
    assert torch.equal(torch.unique(labels), torch.arange(k))
    assert torch.equal(labels, slic_supervoxels(clip, n_segments=80, compactness=60))
    gray = slic_supervoxels(clip[0], n_segments=80, compactness=60)
    assert torch.equal(labels, gray), "a (T, H, W) clip == its three identical channels"


def test_more_segments_asked_gives_more(clip):
    few = int(slic_supervoxels(clip, n_segments=8).max()) + 1
    many = int(slic_supervoxels(clip, n_segments=80).max()) + 1
    assert few < many


def test_bad_clips_are_refused():
    with pytest.raises(ValueError, match="slic_supervoxels"):
        slic_supervoxels(torch.zeros(2, 3, 4, 5, 6))


def test_cache_hits_on_the_same_bytes_and_is_bounded(clip):
    cache = SupervoxelCache(maxsize=2)
    first = cache.get(clip, 80, 60)
    first[0, 0, 0] = 999  # callers get copies: the cache cannot be corrupted
    again = cache.get(clip.clone(), 80, 60)
    assert (cache.hits, cache.misses) == (1, 1)
    assert torch.equal(again, slic_supervoxels(clip, 80, 60))
    cache.get(clip, 40, 60)  # other settings: another entry
    cache.get(-clip, 80, 60)  # another clip: evicts the oldest
    assert len(cache) == 2 and cache.misses == 3
    cache.get(clip, 80, 60)
    assert cache.misses == 4
