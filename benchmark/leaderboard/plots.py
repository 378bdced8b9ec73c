"""Charts as inline SVG, generated at build time (no plotting library, nothing loaded at view time).

Each function returns :class:`markupsafe.Markup` that the templates insert as-is. Every piece of text
that reaches the SVG (titles, labels, submission names) goes through :func:`markupsafe.escape` here,
so user-supplied names cannot inject markup.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE: tuple[str, ...] = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#000000",
    "#7f3c8d",
)
"""Colour-blind-friendly line colours (Okabe-Ito, without its yellow, and a purple)."""
DASHES: tuple[str, ...] = ("", "7 3", "2 2.5", "10 3 2 3", "4 4")
"""Dash patterns; style ``i`` takes colour ``i mod 8`` and dash ``i mod 5``, so neighbours differ in both."""
MARKERS: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "cross", "plus", "ring", "down")
"""Marker shapes drawn every few points along a line and in its legend entry: a line can be told apart
from the others without its colour."""

_MARGIN = {"left": 64, "right": 16, "top": 34, "bottom": 48}
_LEGEND_ROW = 18
_LEGEND_COL = 190
_LABEL_CHARS = 26


@dataclass(frozen=True)
class Style:
    """How one submission is drawn: ``color`` (CSS colour), ``dash`` (SVG ``stroke-dasharray``) and
    ``marker`` (one of :data:`MARKERS`, or ``""`` for none)."""

    color: str
    dash: str = ""
    marker: str = ""


@dataclass(frozen=True)
class Series:
    """One line: ``xs`` and ``ys`` of equal length ``(n,)``; non-finite points break the line.

    With ``upper``, the series is a band: the area between ``ys`` (lower edge) and ``upper``, filled.
    ``marker_every``: draw the style's marker at every that many points (0: none).
    """

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    style: Style
    in_legend: bool = True
    upper: Sequence[float] | None = None
    marker_every: int = 0
    width: float = 2.0


@dataclass(frozen=True)
class Point:
    """One marker of a scatter plot, labelled ``label`` (legend and hover text)."""

    label: str
    x: float
    y: float
    style: Style


def styles(n: int) -> list[Style]:
    """``n`` distinct styles: colour, dash pattern and marker cycle with coprime periods (8, 5, 8 shifted)."""
    if n < 0:
        raise ValueError(f"n={n}: expected a non-negative number of styles.")
    return [
        Style(PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], MARKERS[(i + i // len(MARKERS)) % len(MARKERS)])
        for i in range(n)
    ]


def marker_svg(marker: str, x: float, y: float, color: str, size: float = 4.0) -> str:
    """One marker of shape ``marker`` centred on ``(x, y)`` ("" for no marker)."""
    r = size
    if marker == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * 0.9:.1f}" fill="{color}"/>'
    if marker == "ring":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * 0.9:.1f}" fill="#fff" stroke="{color}" stroke-width="1.6"/>'
    if marker == "square":
        side, x0, y0 = r * 1.6, x - r * 0.8, y - r * 0.8
        return f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{side:.1f}" height="{side:.1f}" fill="{color}"/>'
    if marker in ("triangle", "down"):
        s = -1 if marker == "triangle" else 1
        pts = f"{x:.1f},{y + s * r:.1f} {x - r:.1f},{y - s * r * 0.8:.1f} {x + r:.1f},{y - s * r * 0.8:.1f}"
        return f'<polygon points="{pts}" fill="{color}"/>'
    if marker == "diamond":
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon points="{pts}" fill="{color}"/>'
    if marker in ("cross", "plus"):
        if marker == "cross":
            d = f"M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}L{x + r:.1f},{y - r:.1f}"
        else:
            d = f"M{x - r:.1f},{y:.1f}L{x + r:.1f},{y:.1f}M{x:.1f},{y - r:.1f}L{x:.1f},{y + r:.1f}"
        return f'<path d="{d}" stroke="{color}" stroke-width="2" fill="none"/>'
    return ""


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"nice_ticks: bounds must be finite, got [{lo}, {hi}].")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    k = 0
    while True:
        t = start + k * step
        ticks.append(round(t, 12))
        if t >= hi - 1e-12 * max(1.0, abs(hi)):
            break
        k += 1
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten spanning ``[lo, hi]`` (both > 0), one decade beyond each end when needed."""
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"log_ticks: bounds must be finite and positive, got [{lo}, {hi}].")
    a, b = math.floor(math.log10(min(lo, hi))), math.ceil(math.log10(max(lo, hi)))
    if a == b:
        b += 1
    return [10.0**e for e in range(a, b + 1)]


def _fmt_tick(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")
    return f"{v:g}"


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"


class _Frame:
    """Maps data to pixel coordinates inside the plot area."""

    def __init__(self, width: int, plot_h: int, xt: list[float], yt: list[float], log_x: bool) -> None:
        self.x0, self.x1 = _MARGIN["left"], width - _MARGIN["right"]
        self.y0, self.y1 = _MARGIN["top"] + plot_h, _MARGIN["top"]
        self.log_x = log_x
        self.xlo, self.xhi = self._tx(xt[0]), self._tx(xt[-1])
        self.ylo, self.yhi = yt[0], yt[-1]

    def _tx(self, x: float) -> float:
        return math.log10(x) if self.log_x else x

    def px(self, x: float) -> float:
        return self.x0 + (self._tx(x) - self.xlo) / (self.xhi - self.xlo) * (self.x1 - self.x0)

    def py(self, y: float) -> float:
        return self.y0 - (y - self.ylo) / (self.yhi - self.ylo) * (self.y0 - self.y1)


def _axes(
    f: _Frame,
    xt: list[float],
    yt: list[float],
    x_label: str,
    y_label: str,
    x_tick_labels: Sequence[str] | None = None,
) -> list[str]:
    out = [f'<rect class="plot-area" x="{f.x0}" y="{f.y1}" width="{f.x1 - f.x0}" height="{f.y0 - f.y1}"/>']
    for t in yt:
        y = f.py(t)
        out.append(f'<line class="grid" x1="{f.x0}" y1="{y:.1f}" x2="{f.x1}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="tick" x="{f.x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt_tick(t)}</text>'
        )
    for i, t in enumerate(xt):
        x = f.px(t)
        text = escape(x_tick_labels[i]) if x_tick_labels is not None else _fmt_tick(t)
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{f.y1}" x2="{x:.1f}" y2="{f.y0}"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{f.y0 + 16}" text-anchor="middle">{text}</text>')
    out.append(
        f'<text class="axis-label" x="{(f.x0 + f.x1) / 2:.1f}" y="{f.y0 + 36}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    cy = (f.y0 + f.y1) / 2
    out.append(
        f'<text class="axis-label" x="16" y="{cy:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {cy:.1f})">{escape(y_label)}</text>'
    )
    return out


def _legend(entries: Sequence[tuple[str, Style]], top: float, width: int, marker: str) -> list[str]:
    per_row = max(1, (width - _MARGIN["left"]) // _LEGEND_COL)
    out = []
    for i, (label, style) in enumerate(entries):
        x = _MARGIN["left"] + (i % per_row) * _LEGEND_COL
        y = top + (i // per_row) * _LEGEND_ROW
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        if marker == "line":
            out.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 22}" y2="{y - 4}" stroke="{style.color}" '
                f'stroke-width="2.5"{dash}/>'
            )
            if style.marker:
                out.append(marker_svg(style.marker, x + 11, y - 4, style.color))
        else:
            out.append(marker_svg(style.marker or "circle", x + 11, y - 4, style.color, 5.0))
        out.append(
            f'<text class="legend" x="{x + 28}" y="{y}"><title>{escape(label)}</title>'
            f"{escape(_short(label))}</text>"
        )
    return out


def _legend_height(n: int, width: int) -> int:
    per_row = max(1, (width - _MARGIN["left"]) // _LEGEND_COL)
    return math.ceil(n / per_row) * _LEGEND_ROW + (8 if n else 0)


def _svg(chart_id: str, title: str, description: str, width: int, height: int, body: list[str]) -> Markup:
    cid = escape(chart_id)
    head = (
        f'<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(description)}</desc>'
        f'<text class="chart-title" x="{_MARGIN["left"]}" y="20">{escape(title)}</text>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _bounds(values: Sequence[float]) -> tuple[float, float] | None:
    finite = [v for v in values if math.isfinite(v)]
    return (min(finite), max(finite)) if finite else None


def line_chart(
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    description: str = "",
    width: int = 560,
    plot_height: int = 240,
    include_zero: bool = True,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> Markup:
    """Lines of ``series`` on shared linear axes, with a legend under the plot.

    ``x_ticks``: explicit ``(position, label)`` ticks, ascending (e.g. named steps); they also fix the
    x range. By default the ticks are round numbers covering the data.
    """
    for s in series:
        if len(s.xs) != len(s.ys):
            raise ValueError(f"series {s.label!r}: {len(s.xs)} x values but {len(s.ys)} y values.")
    yb = _bounds([float(y) for s in series for y in (*s.ys, *(s.upper or ()))]) or (0.0, 1.0)
    if include_zero:
        yb = (min(yb[0], 0.0), max(yb[1], 0.0))
    tick_labels: list[str] | None = None
    if x_ticks is not None:
        xt = [float(t) for t, _ in x_ticks]
        tick_labels = [str(label) for _, label in x_ticks]
        if len(xt) < 2 or any(b <= a for a, b in itertools.pairwise(xt)) or not all(map(math.isfinite, xt)):
            raise ValueError(f"x_ticks: expected at least two ascending finite positions, got {xt}.")
    else:
        xt = nice_ticks(*(_bounds([float(x) for s in series for x in s.xs]) or (0.0, 1.0)))
    yt = nice_ticks(*yb)
    legend = [(s.label, s.style) for s in series if s.in_legend]
    height = _MARGIN["top"] + plot_height + _MARGIN["bottom"] + _legend_height(len(legend), width)
    f = _Frame(width, plot_height, xt, yt, log_x=False)
    body = _axes(f, xt, yt, x_label, y_label, tick_labels)
    for s in series:
        if s.upper is not None:
            pts = [
                (float(x), float(lo), float(hi))
                for x, lo, hi in zip(s.xs, s.ys, s.upper)
                if math.isfinite(float(x)) and math.isfinite(float(lo)) and math.isfinite(float(hi))
            ]
            if pts:
                edge = [f"{f.px(x):.1f},{f.py(hi):.1f}" for x, _, hi in pts]
                edge += [f"{f.px(x):.1f},{f.py(lo):.1f}" for x, lo, _ in reversed(pts)]
                body.append(
                    f'<polygon class="band" points="{" ".join(edge)}" fill="{s.style.color}">'
                    f"<title>{escape(s.label)}</title></polygon>"
                )
            continue
        runs: list[list[str]] = [[]]
        marks: list[str] = []
        for i, (x, y) in enumerate(zip(s.xs, s.ys)):
            x, y = float(x), float(y)
            if math.isfinite(x) and math.isfinite(y):
                runs[-1].append(f"{f.px(x):.1f},{f.py(y):.1f}")
                if s.marker_every and s.style.marker and i % s.marker_every == 0:
                    marks.append(marker_svg(s.style.marker, f.px(x), f.py(y), s.style.color))
            elif runs[-1]:
                runs.append([])
        dash = f' stroke-dasharray="{s.style.dash}"' if s.style.dash else ""
        stroke = f' stroke-width="{s.width:g}"' if s.width != 2.0 else ""
        for pts in runs:
            if pts:
                body.append(
                    f'<polyline class="series" points="{" ".join(pts)}" stroke="{s.style.color}"{dash}{stroke}>'
                    f"<title>{escape(s.label)}</title></polyline>"
                )
        body.extend(marks)
    body += _legend(legend, f.y0 + _MARGIN["bottom"] + 6, width, "line")
    return _svg(chart_id, title, description, width, height, body)


def scatter_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    description: str = "",
    log_x: bool = True,
    width: int = 560,
    plot_height: int = 280,
) -> Markup:
    """Labelled markers; with ``log_x`` the x axis is logarithmic and points with ``x <= 0`` are left out."""
    shown = [p for p in points if math.isfinite(p.x) and math.isfinite(p.y) and (p.x > 0 or not log_x)]
    xb = _bounds([p.x for p in shown])
    yb = _bounds([p.y for p in shown]) or (0.0, 1.0)
    if log_x:
        xt = log_ticks(*xb) if xb else [0.1, 1.0, 10.0]
    else:
        xt = nice_ticks(*(xb or (0.0, 1.0)))
    yt = nice_ticks(*yb)
    height = _MARGIN["top"] + plot_height + _MARGIN["bottom"] + _legend_height(len(shown), width)
    f = _Frame(width, plot_height, xt, yt, log_x=log_x)
    body = _axes(f, xt, yt, x_label, y_label)
    for p in shown:
        body.append(
            f'<g class="point" data-cx="{f.px(p.x):.1f}" data-cy="{f.py(p.y):.1f}">'
            f"<title>{escape(p.label)}: {escape(x_label)} {p.x:.4g}, {escape(y_label)} {p.y:.4g}"
            f"</title>{marker_svg(p.style.marker or 'circle', f.px(p.x), f.py(p.y), p.style.color, 6.0)}</g>"
        )
    body += _legend([(p.label, p.style) for p in shown], f.y0 + _MARGIN["bottom"] + 6, width, "point")
    return _svg(chart_id, title, description, width, height, body)
