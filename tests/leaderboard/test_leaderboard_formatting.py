"""How the pages print numbers: figures, intervals and the exact ``data-sort`` text."""

from __future__ import annotations

import math

import pytest

from benchmark.leaderboard.formatting import MISSING, finite_or_none, fmt, fmt_interval, sort_text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0, 4, "0"),
        (0.123456, 4, "0.1235"),
        (0.123456, 3, "0.123"),
        (12.5, 4, "12.5"),
        (1234.6, 4, "1,235"),
        (-2000, 4, "-2,000"),
        (0.001234, 4, "1.23e-03"),
        (0.001234, 2, "1.2e-03"),
        ("0.5", 4, "0.5"),
        (None, 4, MISSING),
        (math.nan, 4, MISSING),
        (math.inf, 4, MISSING),
        ("n/a", 4, MISSING),
    ],
)
def test_fmt_prints_significant_digits_and_a_dash_when_missing(value, digits, text):
    assert fmt(value, digits) == text


def test_an_interval_prints_both_ends_at_three_digits():
    assert fmt_interval(0.12345, 0.6789) == "[0.123, 0.679]"
    assert fmt_interval(None, 1) == f"[{MISSING}, 1]"


@pytest.mark.parametrize("value", [0.1, 1 / 3, -0.0, 2.5e-17, 1e300, 123456789.123])
def test_sort_text_round_trips_the_exact_number(value):
    assert sort_text(value) == repr(value) and float(sort_text(value)) == value


def test_sort_text_of_a_missing_figure_is_empty():
    assert sort_text(None) == ""


@pytest.mark.parametrize("value", [0.25, "0.25", 3, None, math.nan, -math.inf, "x", [1]])
def test_finite_or_none_prints_like_the_raw_value(value):
    kept = finite_or_none(value)
    assert kept is None or math.isfinite(kept)
    assert fmt(kept, 3) == fmt(value, 3)


def test_a_column_prints_every_figure_with_the_same_decimals():
    from benchmark.leaderboard.formatting import column_decimals, fmt_fixed

    values = [0.00517, 0.0678, 0.309, None, float("nan")]
    d = column_decimals(values)
    assert d == 4 and [fmt_fixed(v, d) for v in values[:3]] == ["0.0052", "0.0678", "0.3090"]
    assert column_decimals([0.5, 0.7]) == 3 and column_decimals([]) == 3 and column_decimals([1e-9]) == 6
    assert fmt_fixed(-0.0105, 3) == "\u22120.011" and fmt_fixed(-1e-9, 3) == "0.000" and fmt_fixed(None, 3) == "\u2014"


def test_durations_print_with_a_unit():
    from benchmark.leaderboard.formatting import fmt_seconds

    assert [fmt_seconds(v) for v in (0.000552, 0.0721, 4.523, 1234.0, 0, None)] == [
        "0.552 ms", "72.1 ms", "4.52 s", "1,234 s", "0 s", "\u2014"]
