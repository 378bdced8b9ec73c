"""How the pages print numbers: one formatter for every figure, interval and sort key.

The view models (:mod:`benchmark.leaderboard.views`, :mod:`benchmark.leaderboard.sanity_view`) keep
figures as numbers; these functions turn them into text when a page is rendered. :func:`fmt` prints a
figure for people (significant digits, thousands separators, an em dash when missing);
:func:`sort_text` writes the exact number for ``data-sort`` attributes, which ``static/sort.js``
parses back with ``parseFloat``.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "\u2014"
"""What a missing or non-finite figure prints as (an em dash)."""


def fmt(value: Any, digits: int = 4) -> str:
    """A figure as the tables print it: ``digits`` significant digits, scientific below 0.01.

    Values of magnitude 1000 or more print as whole numbers with thousands separators. Anything that
    is not a finite number (``None``, NaN, text) prints as :data:`MISSING`.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return MISSING
    if not math.isfinite(v):
        return MISSING
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) < 0.01:
        return f"{v:.{max(digits - 2, 1)}e}"
    return f"{v:.{digits}g}"


def fmt_interval(low: Any, high: Any, digits: int = 3) -> str:
    """A confidence interval ``[low, high]``, each end printed by :func:`fmt` with ``digits`` digits."""
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else ``None`` (``fmt`` prints both the same)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def sort_text(value: float | None) -> str:
    """The ``data-sort`` text of a number: its shortest round-trip form (``repr``), ``""`` for ``None``.

    ``""`` means "missing" to ``sort.js``, which sorts such rows last.
    """
    return "" if value is None else repr(value)
