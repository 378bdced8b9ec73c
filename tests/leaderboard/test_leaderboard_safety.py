"""Names, links and gallery file names from results: only safe ones reach the site."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmark.leaderboard.safety import check_name, is_bare_file_name, safe_url


@pytest.mark.parametrize("name", ["lime", "occlusion_small", "ig-2.0", "0abc"])
def test_plain_folder_names_name_pages(name):
    assert check_name(SimpleNamespace(name=name, folder=Path("results") / name)) == name


@pytest.mark.parametrize("name", ["bad name", ".hidden", "-x", "_x", "a/b", "caf\u00e9", ""])
def test_other_folder_names_are_rejected_naming_the_folder(name):
    with pytest.raises(ValueError, match="cannot name a page"):
        check_name(SimpleNamespace(name=name, folder=Path("results") / name))


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/x", "https://example.org/x"),
        ("  HTTP://example.org  ", "HTTP://example.org"),
        ("javascript:alert(1)", None),
        ("//example.org", None),
        ("https:///nohost", None),
        ("ftp://example.org", None),
        (None, None),
        (42, None),
    ],
)
def test_only_absolute_http_links_are_kept(url, kept):
    assert safe_url(url) == kept


@pytest.mark.parametrize(
    ("name", "ok"),
    [("a.png", True), ("./a.png", True), ("../a.png", False), ("sub/a.png", False), ("/a.png", False),
     ("..", False), ("", False), (".", False)],
)
def test_gallery_files_must_be_bare_file_names(name, ok):
    assert is_bare_file_name(name) is ok
