"""The error type every data-layer failure raises."""

from __future__ import annotations


class DataError(ValueError):
    """Input data is missing, malformed or inconsistent.

    The message names the offending file or argument and says how to fix it.
    """
