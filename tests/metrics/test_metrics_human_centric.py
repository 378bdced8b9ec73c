"""The one-pass path: equal to the plain 51-mask loop and sklearn, and to robustness() exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from benchmark.metrics import human_centric, max_attribution_frame, robustness, scored_map


@st.composite
def clip_case(draw):
    T, H, W = draw(st.integers(1, 5)), draw(st.integers(2, 5)), draw(st.integers(2, 5))
    channels = draw(st.booleans())
    shape = (3, T, H, W) if channels else (T, H, W)
    dense = draw(st.booleans())
    elements = (
        st.floats(-3, 3, allow_nan=False, width=32)
        if dense
        else st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])
    )
    values = draw(arrays(np.float64, shape, elements=elements))
    mask = np.zeros((T, H, W), dtype=bool)
    # every frame gets an anomalous pixel and a normal one, so t* and robustness are defined
    for t in range(T):
        mask[t] = draw(arrays(np.bool_, (H, W)))
        mask[t, draw(st.integers(0, H - 1)), 0] = True
        mask[t, draw(st.integers(0, H - 1)), W - 1] = False
    return values, mask


@settings(max_examples=80, deadline=None)
@given(clip_case())
def test_equals_the_plain_loop_sklearn_and_robustness(naive_localization, case):
    values, mask = case
    got = human_centric(values, mask)
    E = scored_map(values)
    clip = naive_localization(E, mask)
    t_star = max_attribution_frame(values, mask)
    frame = naive_localization(E[t_star], mask[t_star])
    assert (got["clip_iou"], got["clip_f1"]) == (clip["iou"], clip["f1"])
    assert (got["frame_iou"], got["frame_f1"]) == (frame["iou"], frame["f1"])
    assert got["clip_auc"] == pytest.approx(clip["auc"], abs=1e-12)
    assert got["frame_auc"] == pytest.approx(frame["auc"], abs=1e-12)
    assert got["frame_index"] == t_star and got["degenerate"] == (E.max() == 0)
    robust = robustness(values, mask)
    assert (got["mauc"], got["stdauc"], got["cv"]) == (robust["mauc"], robust["stdauc"], robust["cv"])


def test_frame_thresholds_come_from_the_frame():
    # Frame 1 peaks at 1, far below the clip's max 100: with the clip's thresholds every pixel of
    # frame 1 would only be selected at tau_0 and its IoU could not reach 1.
    E = np.zeros((2, 2, 2))
    E[0] = 100.0
    E[1, 0, 0] = 1.0
    M = np.zeros((2, 2, 2), dtype=bool)
    M[1, 0, 0] = True
    got = human_centric(E, M)
    assert got["frame_index"] == 1
    assert got["frame_iou"] == got["frame_f1"] == got["frame_auc"] == 1.0


def test_degenerate_map_is_flagged():
    M = np.zeros((2, 3, 3), dtype=bool)
    M[:, 0, 0] = True
    got = human_centric(np.zeros((2, 3, 3)), M)
    assert got["degenerate"] is True
    assert got["frame_index"] == 0
    assert got["clip_auc"] == got["frame_auc"] == got["mauc"] == 0.5


def test_full_max_attribution_frame_is_rejected():
    M = np.zeros((2, 2, 2), dtype=bool)
    M[0] = True  # t* = 0 (ties go to the earliest frame) has a full mask
    M[1, 0, 0] = True
    with pytest.raises(ValueError, match="max-attribution frame 0"):
        human_centric(np.ones((2, 2, 2)), M)


def test_needs_a_time_axis():
    with pytest.raises(ValueError, match="single frame"):
        human_centric(np.ones((3, 3)), np.eye(3, dtype=bool))


def test_accepts_tensors_and_integer_masks():
    rng = np.random.default_rng(2)
    E = rng.random((2, 4, 4))
    M = rng.random((2, 4, 4)) < 0.3
    M[:, 0, 0], M[:, 0, 1] = True, False
    reference = human_centric(E, M)
    assert human_centric(torch.from_numpy(E), torch.from_numpy(M)) == reference
    assert human_centric(E, M.astype(np.uint8)) == reference


def test_empty_and_full_masks_are_rejected():
    E = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match="empty"):
        human_centric(E, np.zeros((2, 3, 3), dtype=bool))
    with pytest.raises(ValueError, match="full"):
        human_centric(E, np.ones((2, 3, 3), dtype=bool))


def test_shape_mismatch_non_binary_masks_and_nan_are_rejected():
    with pytest.raises(ValueError, match="does not match"):
        human_centric(np.ones((3, 2, 3, 3)), np.ones((3, 3, 3), dtype=bool))
    with pytest.raises(ValueError, match="only 0 and 1"):
        human_centric(np.ones((1, 2, 2)), np.array([[[0, 2], [1, 0]]]))
    values = np.ones((1, 2, 2))
    values[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        human_centric(values, np.array([[[True, False], [False, False]]]))
