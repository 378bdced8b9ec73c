"""Localisation scores from one sort against hand computations, sklearn and the plain 51-mask loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import roc_auc_score

from benchmark.metrics import max_attribution_frame, scored_map, thresholds
from benchmark.metrics._ranking import sort_keys
from benchmark.metrics.localization import localization_scores

SETTINGS = settings(max_examples=60, deadline=None)


def _localize(attribution, mask, n_thresholds: int = 50) -> dict[str, float]:
    """IoU, F1 and AUC over every voxel given, as :func:`benchmark.metrics.human_centric` computes them."""
    E = scored_map(attribution)
    keys = np.sort(sort_keys(E, np.asarray(mask, dtype=bool)).reshape(-1))
    return localization_scores(keys, thresholds(E, n_thresholds))


@st.composite
def map_and_mask(draw, channels: bool = False):
    """A small map with many ties and negatives, and a mask that is neither empty nor full."""
    shape = draw(st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(2, 5)))
    full_shape = (3, *shape) if channels else shape
    values = draw(arrays(np.float64, full_shape, elements=st.sampled_from([-2.0, -0.5, 0.0, 0.25, 1.0, 3.0, 7.5])))
    mask = draw(arrays(np.bool_, shape))
    flat = mask.reshape(-1)
    flat[draw(st.integers(0, flat.size - 1))] = True
    flat[draw(st.integers(0, flat.size - 1))] = False
    if mask.all() or not mask.any():  # both indices hit the same voxel
        flat[0], flat[-1] = True, False
    return values, mask


def test_hand_computed_scores():
    E = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.5])
    M = np.array([0, 0, 1, 1, 1, 0], dtype=bool)
    # tau = 0, .25, .5, .75, 1 -> IoU 3/6, 3/5, 3/4, 2/3, 1/3 and F1 6/9, 6/8, 6/7, 4/5, 2/4.
    scores = _localize(E.reshape(1, 2, 3), M.reshape(1, 2, 3), n_thresholds=4)
    assert scores["iou"] == 0.75
    assert scores["f1"] == 6 / 7
    assert scores["auc"] == 8.5 / 9  # the tie 0.5 vs 0.5 counts one half


@SETTINGS
@given(case=map_and_mask())
def test_equals_the_plain_loop_and_sklearn(naive_localization, case):
    values, mask = case
    got = _localize(values, mask)
    expected = naive_localization(np.maximum(values, 0), mask)
    assert got["iou"] == expected["iou"]
    assert got["f1"] == expected["f1"]
    assert got["auc"] == pytest.approx(expected["auc"], abs=1e-12)


def test_random_dense_map_matches_sklearn():
    rng = np.random.default_rng(0)
    E = rng.random((6, 20, 30))
    M = rng.random((6, 20, 30)) < 0.1
    assert _localize(E, M)["auc"] == pytest.approx(roc_auc_score(M.ravel(), E.ravel()), abs=1e-12)


@SETTINGS
@given(map_and_mask(), st.integers(-20, 20))
def test_invariant_to_positive_scaling(case, exponent):
    values, mask = case
    # Powers of two scale exactly, so every comparison E >= tau_i is unchanged.
    assert _localize(values * 2.0**exponent, mask) == _localize(values, mask)


@SETTINGS
@given(map_and_mask(), st.floats(1e-3, 1e3))
def test_auc_invariant_to_any_positive_scaling(case, scale):
    values, mask = case
    assert _localize(values * scale, mask)["auc"] == _localize(values, mask)["auc"]


@SETTINGS
@given(map_and_mask(), st.floats(-1e6, -1e-6))
def test_negative_attributions_are_ignored(case, negative):
    values, mask = case
    moved = np.where(values < 0, negative, values)
    assert _localize(moved, mask) == _localize(values, mask)


@SETTINGS
@given(map_and_mask())
def test_perfect_map_scores_one(case):
    _, mask = case
    scores = _localize(mask.astype(np.float64) * 0.37, mask)
    assert scores["iou"] == scores["f1"] == scores["auc"] == 1.0


@SETTINGS
@given(map_and_mask(channels=True))
def test_channels_are_summed(case):
    values, mask = case
    assert _localize(values, mask) == _localize(values.sum(axis=0), mask)


def test_all_zero_map_is_scored_as_it_falls():
    M = np.zeros((2, 3, 4), dtype=bool)
    M[0, :2, :2] = True  # 4 of 24 voxels
    scores = _localize(-np.ones((3, 2, 3, 4)), M)  # all negative: E is all zero
    assert scores["iou"] == 4 / 24  # tau_0 selects every voxel
    assert scores["f1"] == 2 * 4 / (2 * 4 + 20)
    assert scores["auc"] == 0.5


def test_max_attribution_frame_only_considers_anomalous_frames():
    E = np.zeros((4, 2, 2))
    E[0] = 10.0  # largest, but not anomalous
    E[1, 0, 0] = 3.0
    E[2] = 1.0  # sum 4: the largest anomalous frame
    M = np.zeros((4, 2, 2), dtype=bool)
    M[1:, 1, 1] = True
    assert max_attribution_frame(E, M) == 2
    # the frame sums use E: negative evidence does not count
    E[1] = np.array([[-100.0, 4.5], [0.0, 0.0]])
    assert max_attribution_frame(E, M) == 1


def test_max_attribution_frame_ties_go_to_the_earliest_frame():
    M = np.zeros((5, 3, 3), dtype=bool)
    M[2:, 0, 0] = True
    assert max_attribution_frame(np.zeros((5, 3, 3)), M) == 2
    E = np.ones((3, 5, 3, 3))
    assert max_attribution_frame(E, M) == 2


def test_max_attribution_frame_errors():
    with pytest.raises(ValueError, match="no frame"):
        max_attribution_frame(np.ones((2, 3, 3)), np.zeros((2, 3, 3), dtype=bool))
    with pytest.raises(ValueError, match="single frame"):
        max_attribution_frame(np.ones((3, 3)), np.ones((3, 3), dtype=bool))


def test_scored_map_is_what_is_scored():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 2, 5, 5))
    M = rng.random((2, 5, 5)) < 0.4
    assert _localize(a, M) == _localize(scored_map(a), M)
