"""The one-pass path equals the separate functions exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from benchmark.metrics import human_centric, localization, max_attribution_frame, robustness, scored_map


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
def test_equals_the_separate_functions(case):
    values, mask = case
    got = human_centric(values, mask)
    clip = localization(values, mask)
    t_star = max_attribution_frame(values, mask)
    frame = localization(scored_map(values)[t_star], mask[t_star])
    robust = robustness(values, mask)
    assert got == {
        "clip_iou": clip["iou"],
        "clip_f1": clip["f1"],
        "clip_auc": clip["auc"],
        "frame_index": t_star,
        "frame_iou": frame["iou"],
        "frame_f1": frame["f1"],
        "frame_auc": frame["auc"],
        "mauc": robust["mauc"],
        "stdauc": robust["stdauc"],
        "cv": robust["cv"],
        "degenerate": clip["degenerate"],
    }


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
