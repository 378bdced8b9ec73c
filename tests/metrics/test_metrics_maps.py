"""The scored map E and its thresholds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.metrics import scored_map, thresholds


def test_channels_are_summed_before_negatives_are_clipped():
    x = np.random.default_rng(0).normal(size=(4, 5, 6))
    attribution = np.stack([x, -x, np.zeros_like(x)])  # cancels exactly when summed first
    assert np.array_equal(scored_map(attribution), np.zeros((4, 5, 6)))
    clipped_first = np.clip(attribution, 0, None).sum(axis=0)
    assert clipped_first.max() > 0  # the other order would not be zero


def test_shapes_and_clipping():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 2, 4, 5))
    E = scored_map(a)
    assert E.shape == (2, 4, 5) and E.dtype == np.float64
    np.testing.assert_array_equal(E, np.maximum(a.sum(axis=0), 0))
    assert scored_map(a[0]).shape == (2, 4, 5)  # (T, H, W) kept as it is
    assert scored_map(a[0, 0]).shape == (4, 5)  # one frame


def test_tensor_input_with_grad_and_float32():
    t = torch.randn(3, 2, 4, 5, requires_grad=True)
    E = scored_map(t)
    expected = np.maximum(t.detach().numpy().astype(np.float64).sum(axis=0), 0)
    np.testing.assert_array_equal(E, expected)


def test_negative_zero_is_normalised():
    E = scored_map(np.array([[-0.0, -1.0, 2.0]]))
    assert not np.signbit(E).any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected(bad):
    a = np.ones((2, 3, 3))
    a[1, 1, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinite"):
        scored_map(a)


def test_channel_sum_overflow_is_rejected():
    big = np.full((3, 1, 2, 2), np.finfo(np.float64).max)
    with pytest.raises(ValueError, match="summed over channels"):
        scored_map(big)


@pytest.mark.parametrize("shape", [(5,), (1, 2, 3, 4, 5)])
def test_wrong_rank_is_rejected(shape):
    with pytest.raises(ValueError, match="expected shape"):
        scored_map(np.ones(shape))


def test_boolean_and_empty_inputs_are_rejected():
    with pytest.raises(ValueError, match="dtype"):
        scored_map(np.ones((2, 2, 2), dtype=bool))
    with pytest.raises(ValueError, match="empty"):
        scored_map(np.ones((0, 2, 2)))


def test_thresholds_follow_the_protocol():
    E = np.array([[0.0, 0.3], [1.7, 0.2]])
    taus = thresholds(E, 50)
    assert taus.shape == (51,)
    np.testing.assert_array_equal(taus, [i / 50 * 1.7 for i in range(51)])
    assert taus[0] == 0.0 and taus[-1] == E.max()
    assert np.all(np.diff(taus) > 0)


def test_thresholds_of_a_zero_map_are_zero():
    assert np.array_equal(thresholds(np.zeros((3, 3)), 4), np.zeros(5))


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_thresholds_reject_a_bad_count(n):
    with pytest.raises(ValueError, match="n_thresholds"):
        thresholds(np.ones((2, 2)), n)


def test_thresholds_reject_a_raw_attribution():
    with pytest.raises(ValueError, match="scored_map"):
        thresholds(np.array([-1.0, 2.0]))
