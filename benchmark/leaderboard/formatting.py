"""How the pages print numbers: one formatter for every figure, interval and sort key.

The view models (:mod:`benchmark.leaderboard.views`, :mod:`benchmark.leaderboard.sanity_view`) keep
figures as numbers; these functions turn them into text when a page is rendered. :func:`fmt` prints a
figure for people (significant digits, thousands separators, an em dash when missing);
:func:`sort_text` writes the exact number for ``data-sort`` attributes, which ``static/sort.js``
parses back with ``parseFloat``.

The tables print every figure of one column with the same number of decimals
(:func:`column_decimals`, :func:`fmt_fixed`): no scientific notation, so ``0.0052`` and ``0.0678`` line
up and read alike. Runtimes print with a unit (:func:`fmt_seconds`: ``0.55 ms``, ``72 ms``, ``4.52 s``).
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "\u2014"
"""What a missing or non-finite figure prints as (an em dash)."""
MINUS = "\u2212"
"""The minus sign the fixed-decimal figures print (not a hyphen)."""
MIN_DECIMALS = 3
MAX_DECIMALS = 6


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


def column_decimals(values: Any, significant: int = 2) -> int:
    """Decimals that show the smallest non-zero magnitude of ``values`` with ``significant`` digits.

    At least :data:`MIN_DECIMALS` and at most :data:`MAX_DECIMALS`; values that are missing, not finite
    or zero are ignored (``[]`` gives :data:`MIN_DECIMALS`). Magnitudes of 1 or more need no more than
    the minimum.
    """
    mags = [abs(v) for v in (finite_or_none(x) for x in values) if v is not None and v != 0.0]
    if not mags:
        return MIN_DECIMALS
    smallest = min(mags)
    needed = -math.floor(math.log10(smallest)) + significant - 1 if smallest < 1 else 0
    return max(MIN_DECIMALS, min(MAX_DECIMALS, needed))


def fmt_fixed(value: Any, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals and a true minus sign (:data:`MISSING` when not finite).

    A value that rounds to zero prints as ``0.000...`` without a sign.
    """
    v = finite_or_none(value)
    if v is None:
        return MISSING
    text = f"{v:.{decimals}f}"
    if float(text) == 0.0:
        return f"{0.0:.{decimals}f}"
    return text.replace("-", MINUS)


def fmt_fixed_interval(low: Any, high: Any, decimals: int) -> str:
    """``[low, high]`` with both ends printed by :func:`fmt_fixed`."""
    return f"[{fmt_fixed(low, decimals)}, {fmt_fixed(high, decimals)}]"


def fmt_seconds(value: Any) -> str:
    """A duration with a unit, three significant digits: ``0.552 ms``, ``72.1 ms``, ``4.52 s``, ``1,234 s``."""
    v = finite_or_none(value)
    if v is None:
        return MISSING
    if v == 0:
        return "0 s"
    if abs(v) < 1.0:
        ms = v * 1000.0
        return f"{ms:.3g} ms" if abs(ms) >= 0.001 else f"{ms:.1e} ms"
    if abs(v) >= 1000:
        return f"{v:,.0f} s"
    return f"{v:.3g} s"
