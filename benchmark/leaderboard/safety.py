"""Checks on the names, links and file names that results put into the site.

A result folder's name becomes a page's file name, its ``url`` becomes a link, and its gallery index
names files that are copied into the site. Everything else a result supplies reaches the pages only
through autoescaped templates or :func:`markupsafe.escape`; these three need a check of their own so
that no result can write outside the site or plant a ``javascript:`` link.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from benchmark.results import SubmissionResult

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""A submission name that is safe as a file name: letters, digits, ``_``, ``.`` and ``-``."""

URL_RE = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
"""An absolute http(s) address with a host."""


def check_name(result: SubmissionResult) -> str:
    """The submission's folder name, which becomes a file name of the site.

    Raises:
        ValueError: naming the folder, when the name has other characters or starts with ``.``/``-``/``_``.
    """
    if not NAME_RE.match(result.name):
        raise ValueError(
            f"{result.folder}: the folder name {result.name!r} cannot name a page; rename it to "
            "letters, digits, '_', '.' and '-' (starting with a letter or digit)."
        )
    return result.name


def safe_url(url: Any) -> str | None:
    """``url`` (stripped) when it is an absolute http(s) address, else ``None`` (never a ``javascript:`` link)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    return url if URL_RE.match(url) else None


def is_bare_file_name(name: str) -> bool:
    """Whether ``name`` is one relative path component (no folder, no ``..``, not absolute)."""
    rel = PurePosixPath(name)
    return not (rel.is_absolute() or ".." in rel.parts or len(rel.parts) != 1)
