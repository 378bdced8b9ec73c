"""The rendered site: content, escaping, self-containment, atomic writes and publishing."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from benchmark.leaderboard import publish, render_site
from benchmark.leaderboard.paper import load_paper_table
from benchmark.leaderboard.render import PAPER_TABLES, main
from benchmark.metrics.spec import get_metric


class _Refs(HTMLParser):
    """Collects (tag, attribute, value, attrs) of every href/src, the ids and the data-sort cells."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str, dict]] = []
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if key in a:
                self.refs.append((tag, key, a[key], a))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def _parse(path: Path) -> _Refs:
    p = _Refs()
    p.feed(path.read_text())
    return p


@pytest.fixture
def site(fake_results: Path, tmp_path: Path) -> Path:
    return render_site(fake_results, tmp_path / "site", date="2025-01-01 00:00 UTC")


def test_site_has_index_and_one_page_per_submission(site: Path):
    assert (site / "index.html").is_file()
    for name in ("integrated_gradients", "lime", "hostile", "broken"):
        assert (site / "submissions" / f"{name}.html").is_file()
    assert (site / "static" / "style.css").is_file() and (site / "static" / "sort.js").is_file()
    # Each gallery clip's input frame once, and every submission's overlay of it.
    assert len(list((site / "assets" / "gallery").rglob("*.png"))) == 2 + 3 * 2
    assert (site / "submit.html").is_file()
    assert (site / "data" / "leaderboard.csv").is_file() and (site / "data" / "leaderboard.json").is_file()


def test_links_are_relative_and_resolve_and_no_asset_is_external(site: Path):
    for page in site.rglob("*.html"):
        refs = _parse(page)
        assert not refs.scripts, f"{page}: inline script"
        for tag, key, value, attrs in refs.refs:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                # Only a submission's own http(s) link may leave the site, as a plain <a>.
                assert (
                    tag == "a" and parts.scheme in ("http", "https") and "external" in attrs.get("class", "")
                ), f"{page}: external {tag} {key}={value}"
                continue
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file(), f"{page}: {key}={value} does not resolve"
            if parts.fragment:
                assert parts.fragment in _parse(target).ids, f"{page}: {value}: no such anchor"


def test_hostile_metadata_is_escaped_everywhere(site: Path):
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "<img src=x" not in text and "<b>Eve" not in text, page
        assert "javascript:" not in text, page
    hostile = (site / "submissions" / "hostile.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "&lt;img src=x onerror=alert(2)&gt;" in hostile
    assert "&lt;b&gt;Eve&lt;/b&gt;" in hostile
    index = (site / "index.html").read_text()
    assert index.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # table, gallery, charts
    assert "<script>alert(1)</script>" not in index


def _rows(index: str) -> list[tuple[str, str]]:
    """(name, cells html) of each ranked row, in page order."""
    return re.findall(r'<tr data-name="([^"]+)">(.*?)</tr>', index, flags=re.DOTALL)


def test_default_order_is_the_overall_rank_and_failed_are_listed_apart(site: Path):
    index = (site / "index.html").read_text()
    assert [n for n, _ in _rows(index)] == ["integrated_gradients", "lime", "hostile"]
    failed = index[index.index('id="failed"') :]
    assert (
        "Broken method" in failed
        and "timeout" in failed
        and "took longer than 900 s &lt;on purpose&gt;" in failed
    )
    assert 'data-name="broken"' not in index
    page = (site / "submissions" / "broken.html").read_text()
    assert "Failure" in page and "UCSDped2/Test001/000" in page and "Traceback" in page


def _cell_classes(row: str) -> list[set[str]]:
    """The class set of every <td>/<th> of a row, in order."""
    return [
        set((m.group(1) or "").split()) for m in re.finditer(r'<t[dh]\b(?:[^>]*?class="([^"]*)")?[^>]*>', row)
    ]


def test_best_marks_follow_the_spec_direction(site: Path):
    index = (site / "index.html").read_text()
    header = re.findall(r'data-metric="([a-z0-9_]+)"', index)
    rows = dict(_rows(index))
    # integrated_gradients scores highest everywhere; hostile lowest everywhere and is the fastest.
    for metric in ("clip_iou", "deletion", "insertion", "cv", "runtime_s"):
        col = header.index(metric) + 2  # the overall-rank and name cells come first
        best = sorted(n for n, cells in rows.items() if "best" in _cell_classes(cells)[col])
        if metric == "runtime_s":
            expected = "hostile" if get_metric(metric).direction == "lower" else "integrated_gradients"
        else:
            expected = {"higher": "integrated_gradients", "lower": "hostile"}[get_metric(metric).direction]
        assert best == [expected], (metric, best)
    assert 'aria-sort="ascending"' in index  # the default order is declared
    assert "Wilcoxon" in index and "Clip IoU" in index


def test_paper_figures_sit_next_to_ours(site: Path):
    index = (site / "index.html").read_text()
    section = index[index.index('id="paper"') :]
    paper = load_paper_table(PAPER_TABLES)
    assert "paper 0.1132" in section  # IG clip IoU, Table I
    assert "paper 623.2" in section  # Occlusion_sp runtime, Table II
    assert len(paper.rows) == 8 and "Zhang" in section


def test_provenance_is_shown_once_and_disagreement_is_flagged(
    fake_results: Path, tmp_path: Path, make_result
):
    quiet = render_site(fake_results, tmp_path / "a", date="d")
    text = (quiet / "index.html").read_text()
    assert "not comparable" not in text and text.count("c" * 64) == 1
    make_result(fake_results, "other_split", provenance={"split_id": "split-1"})
    loud = render_site(fake_results, tmp_path / "b", date="d")
    text = (loud / "index.html").read_text()
    assert "not comparable" in text and "Split id" in text and "split-1" in text


def test_render_replaces_the_site_atomically_and_keeps_it_on_error(fake_results: Path, tmp_path: Path):
    out = tmp_path / "site"
    render_site(fake_results, out, date="d")
    (out / "stale.html").write_text("old")
    render_site(fake_results, out, date="d")
    assert not (out / "stale.html").exists()
    (fake_results / "lime" / "gallery" / "index.json").write_text(
        '[{"clip_id": "x", "input": "../../evil.png", "overlay": "a.png"}]'
    )
    with pytest.raises(ValueError, match="index.json.*inside gallery"):
        render_site(fake_results, out, date="d")
    assert (out / "index.html").is_file()
    assert not list(tmp_path.glob(".tmp-site-*"))


def test_bad_inputs_raise_clear_errors(fake_results: Path, tmp_path: Path, make_result):
    with pytest.raises(ValueError, match="no such results folder"):
        render_site(tmp_path / "nope", tmp_path / "s")
    with pytest.raises(ValueError, match="missing templates"):
        render_site(fake_results, tmp_path / "s", templates=tmp_path)
    with pytest.raises(ValueError, match="paper_tables.csv: not found"):
        render_site(fake_results, tmp_path / "s", paper_tables=tmp_path / "paper_tables.csv")
    make_result(fake_results, "bad name")
    with pytest.raises(ValueError, match="cannot name a page"):
        render_site(fake_results, tmp_path / "s")


def test_publish_copies_the_site_with_nojekyll(site: Path, tmp_path: Path):
    dest = publish(site, tmp_path / "docs")
    assert (dest / ".nojekyll").is_file() and (dest / "index.html").read_text() == (
        site / "index.html"
    ).read_text()
    assert (dest / "submissions" / "lime.html").is_file()
    with pytest.raises(ValueError, match="no index.html"):
        publish(tmp_path / "empty", tmp_path / "docs2")
    with pytest.raises(ValueError, match="inside it"):
        publish(site, site / "docs")


def test_command_line_renders_and_publishes(fake_results: Path, tmp_path: Path, capsys):
    assert (
        main(["--results", str(fake_results), "--out", str(tmp_path / "s"), "--publish", str(tmp_path / "d")])
        == 0
    )
    assert (tmp_path / "d" / "index.html").is_file() and "rendered" in capsys.readouterr().out
