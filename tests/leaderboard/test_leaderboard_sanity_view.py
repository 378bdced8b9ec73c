"""The randomisation sanity check on the site: the main-table column, the cascade curves and "not run"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from benchmark.atomic import atomic_write_json as write_json
from benchmark.leaderboard import render_site
from benchmark.model.randomization import CASCADE
from benchmark.results.sanity import SANITY_FILE, SANITY_SCHEMA

HOSTILE = "<script>alert(1)</script>"  # the display name conftest gives `hostile`


def write_sanity(
    root: Path, name: str, full: float, *, verdict: str | None = None, status: str = "ok"
) -> Path:
    """``root/name/sanity.json`` shaped like :func:`benchmark.harness.sanity.sanity_check` writes it; the Spearman
    falls linearly from 1 to ``full`` along the cascade."""
    record: dict[str, Any] = {
        "schema": SANITY_SCHEMA,
        "submission": name,
        "display_name": name,
        "params": {},
        "status": status,
        "failure": None,
        "verdict": None,
        "basis": "scored",
        "threshold": 0.5,
        "full": None,
        "steps": [],
        "reference_constant": [False, False],
        "settings": {"clips": 2, "clip_ids": ["a", "b"], "seed": 0},
        "provenance": {},
    }
    if status != "ok":
        record["failure"] = {
            "clip_id": "a",
            "kind": "timeout",
            "message": "stopped <on purpose>",
            "traceback": "",
            "step": 3,
            "label": "Mixed_4f-4e",
        }
    else:
        k = len(CASCADE)
        for i, (label, blocks) in enumerate(CASCADE, 1):
            rho = 1 - (1 - full) * i / k
            interval = {"mean": rho, "ci_low": rho - 0.05, "ci_high": rho + 0.05}
            per_basis = {
                "spearman": interval,
                "ssim": {"mean": rho / 2, "ci_low": rho / 2 - 0.1, "ci_high": rho / 2 + 0.1},
                "constant": 0,
                "per_clip": {"spearman": [rho, rho], "ssim": [rho / 2, rho / 2]},
            }
            record["steps"].append(
                {
                    "step": i,
                    "label": label,
                    "blocks": list(blocks),
                    "randomized": [],
                    "scored": per_basis,
                    "absolute": per_basis,
                }
            )
        last = record["steps"][-1]["scored"]
        record.update(
            verdict=verdict or ("pass" if full < 0.5 else "fail"),
            full={"spearman": last["spearman"], "ssim": last["ssim"]},
        )
    write_json(root / name / SANITY_FILE, record)
    return root / name


@pytest.fixture
def sanity_site(fake_results: Path, tmp_path: Path) -> Path:
    root = tmp_path / "sanity"
    write_sanity(root, "integrated_gradients", 0.0625)
    write_sanity(root, "hostile", 0.875)
    write_sanity(root, "unrelated", 0.1)  # no result: never shown
    # lime: not run
    return render_site(fake_results, tmp_path / "site", date="d", sanity_root=root)


def _sanity_cells(index: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-name="([^"]+)">(.*?)</tr>', index, flags=re.DOTALL)
    out = {}
    for name, cells in rows:
        found = re.findall(r'<td class="num sanity ([^"]*)" data-sort="([^"]*)">(.*?)</td>', cells, re.DOTALL)
        assert len(found) == 1, name
        cls, sort, body = found[0]
        out[name] = f"{cls}|{sort}|{' '.join(re.sub(r'<[^>]+>', ' ', body).split())}"
    return out


def test_main_table_has_the_sanity_column_with_verdict_and_spearman(sanity_site: Path):
    index = (sanity_site / "index.html").read_text()
    assert "Sanity (randomisation)" in index and 'data-column="sanity"' in index
    cells = _sanity_cells(index)
    assert cells["integrated_gradients"] == "sanity-pass|0.0625|PASS &rho; 0.0625 [0.0125, 0.113]"
    assert cells["hostile"].startswith("sanity-fail|0.875|FAIL &rho; 0.875")
    assert cells["lime"] == "sanity-not-run||not run"
    # The metric columns are unchanged: the sanity column comes last and carries no data-metric.
    header = re.findall(r'data-metric="([a-z0-9_]+)"', index)
    assert "sanity" not in header


def test_pages_show_the_cascade_curve_and_the_steps(sanity_site: Path):
    page = (sanity_site / "submissions" / "integrated_gradients.html").read_text()
    section = page[page.index('id="sanity"') :]
    assert 'id="sanity-integrated_gradients"' in section and "<polyline" in section
    assert "PASS" in section and "below 0.5" in section
    for label, blocks in CASCADE:
        assert f"({label})" in section and ", ".join(blocks) in section
    assert ">trained<" in section  # step 0 is labelled on the axis
    lime = (sanity_site / "submissions" / "lime.html").read_text()
    assert "has not been run" in lime and 'id="sanity-lime"' not in lime
    index = (sanity_site / "index.html").read_text()
    multiples = index[index.index('<section id="sanity">') :]
    assert 'id="sanity-small-integrated_gradients"' in multiples and 'id="sanity-small-hostile"' in multiples
    assert "Not checked:" in multiples and "LIME" in multiples and "unrelated" not in index
    assert "random" in multiples and "model dependence" in multiples


def test_hostile_names_stay_escaped_in_the_sanity_charts(sanity_site: Path):
    for page in sanity_site.rglob("*.html"):
        assert "<script>alert" not in page.read_text(), page
    hostile = (sanity_site / "submissions" / "hostile.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile[hostile.index('id="sanity"') :]
    assert HOSTILE not in hostile


def test_a_failed_check_and_a_missing_folder_render(fake_results: Path, tmp_path: Path):
    root = tmp_path / "sanity"
    write_sanity(root, "lime", 0.0, status="failed")
    site = render_site(fake_results, tmp_path / "a", date="d", sanity_root=root)
    cells = _sanity_cells((site / "index.html").read_text())
    assert cells["lime"] == "sanity-failed||failed"
    page = (site / "submissions" / "lime.html").read_text()
    assert (
        "failed during the check" in page and "Mixed_4f-4e" in page and "stopped &lt;on purpose&gt;" in page
    )
    bare = render_site(fake_results, tmp_path / "b", date="d", sanity_root=tmp_path / "nowhere")
    assert set(_sanity_cells((bare / "index.html").read_text()).values()) == {"sanity-not-run||not run"}


def test_a_damaged_record_is_an_error_naming_the_file(fake_results: Path, tmp_path: Path):
    root = tmp_path / "sanity"
    (root / "lime").mkdir(parents=True)
    (root / "lime" / SANITY_FILE).write_text('{"schema": 99}')
    with pytest.raises(ValueError, match=r"lime/sanity.json: schema 99"):
        render_site(fake_results, tmp_path / "s", date="d", sanity_root=root)

