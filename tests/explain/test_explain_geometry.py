"""Windows given at the paper's geometry, scaled to another input size."""

from __future__ import annotations

import pytest

from benchmark.explain.geometry import count_windows, scale_window


def test_identity_at_the_paper_size():
    assert scale_window((10, 52, 78), (158, 237)) == (10, 52, 78)


@pytest.mark.parametrize(
    "size, hw, expected",
    [
        ((10, 52, 78), (48, 72), (10, 16, 24)),  # 15.8 -> 16, 23.7 -> 24
        ((10, 32, 32), (48, 72), (10, 10, 10)),  # 9.72 -> 10
        ((4, 16, 24), (48, 72), (4, 5, 7)),
        ((2, 8, 8), (24, 36), (2, 1, 1)),  # 1.22 -> 1
        ((2, 1, 1), (24, 36), (2, 1, 1)),  # never below 1
        ((4, 16, 24), (316, 474), (4, 32, 48)),  # larger grids scale up
    ],
)
def test_scaling(size, hw, expected):
    assert scale_window(size, hw) == expected


def test_rounds_half_up():
    assert scale_window((1, 1, 3), (10, 10), paper_hw=(4, 4)) == (1, 3, 8)  # 2.5 -> 3, 7.5 -> 8


@pytest.mark.parametrize("size, hw", [((10, 52), (48, 72)), ((10, 0, 78), (48, 72)), ((10, 52, 78), (0, 72))])
def test_bad_input(size, hw):
    with pytest.raises(ValueError, match="scale_window"):
        scale_window(size, hw)


def test_window_counts_match_the_paper():
    assert count_windows((3, 20, 158, 237), (3, 10, 52, 78), (3, 10, 32, 32)) == 60
    assert count_windows((3, 20, 158, 237), (3, 4, 16, 24), (3, 2, 8, 8)) == 4788
    shape = (3, 20, 48, 72)
    window, stride = scale_window((10, 52, 78), (48, 72)), scale_window((10, 32, 32), (48, 72))
    large = count_windows(shape, (3, *window), (3, *stride))
    assert large == 60
    with pytest.raises(ValueError, match="count_windows"):
        count_windows((3, 20, 8, 8), (3, 4, 16, 24), (3, 2, 8, 8))
