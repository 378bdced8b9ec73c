"""The inline SVG charts: valid XML, escaped text, sensible axes."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest

from benchmark.leaderboard import plots

SVG = "{http://www.w3.org/2000/svg}"


def test_nice_ticks_cover_the_range_with_round_steps():
    ticks = plots.nice_ticks(0.013, 0.87)
    assert ticks[0] <= 0.013 and ticks[-1] >= 0.87
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() in (0.1, 0.2, 0.25, 0.5)
    flat = plots.nice_ticks(2.0, 2.0)
    assert flat[0] < 2.0 < flat[-1]
    with pytest.raises(ValueError, match="finite"):
        plots.nice_ticks(0.0, math.nan)


def test_log_ticks_are_decades_spanning_the_data():
    assert plots.log_ticks(0.5, 623.2) == [0.1, 1.0, 10.0, 100.0, 1000.0]
    assert plots.log_ticks(3.0, 3.0) == [1.0, 10.0]
    with pytest.raises(ValueError, match="positive"):
        plots.log_ticks(0.0, 1.0)


def test_styles_are_distinct_beyond_the_palette():
    s = plots.styles(25)
    assert len(set(s)) == 25


def test_line_chart_is_valid_svg_and_escapes_labels():
    style = plots.styles(1)[0]
    svg = plots.line_chart(
        [plots.Series("<script>alert(1)</script>", [0, 0.5, 1], [0.9, math.nan, 0.1], style)],
        chart_id="c1",
        title="T & <b>",
        x_label="x",
        y_label="p",
        description="d",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    # The NaN breaks the line in two pieces of one point each... so two polylines.
    assert len(root.findall(f".//{SVG}polyline")) == 2
    with pytest.raises(ValueError, match="2 x values but 3 y values"):
        plots.line_chart(
            [plots.Series("s", [0, 1], [1, 2, 3], style)], chart_id="c", title="", x_label="", y_label=""
        )


def test_scatter_chart_uses_a_log_axis_and_drops_non_positive_x():
    st = plots.styles(3)
    svg = plots.scatter_chart(
        [
            plots.Point("a", 0.5, 0.2, st[0]),
            plots.Point("b", 600.0, 0.3, st[1]),
            plots.Point("c", 0.0, 0.4, st[2]),
        ],
        chart_id="s",
        title="t",
        x_label="runtime",
        y_label="deletion",
    )
    root = ET.fromstring(str(svg))
    points = [g for g in root.iter(f"{SVG}g") if g.get("class") == "point"]
    assert len(points) == 2 and all(len(list(g)) == 2 for g in points)  # a title and a marker each
    xs = sorted(float(g.get("data-cx")) for g in points)
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert "0.1" in ticks and "1000" in ticks
    assert xs[0] < xs[1]


def test_line_chart_takes_named_ticks():
    svg = str(
        plots.line_chart(
            [plots.Series("a", [0, 1, 2], [1.0, 0.5, 0.0], plots.Style("#000"))],
            chart_id="c",
            title="t",
            x_label="x",
            y_label="y",
            x_ticks=[(0, "trained"), (1, "1"), (2, "<2>")],
        )
    )
    assert ">trained<" in svg and "&lt;2&gt;" in svg
    with pytest.raises(ValueError, match="ascending"):
        plots.line_chart(
            [], chart_id="c", title="t", x_label="x", y_label="y", x_ticks=[(1, "a"), (0, "b")]
        )
