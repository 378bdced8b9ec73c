"""The board as a researcher reads it: controls, seed means, rank intervals, definitions, downloads,
citation, the data/model card, stability, the gallery and the curves (issue #17)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.leaderboard import render_site
from benchmark.leaderboard.ranking import NOT_IN_OVERALL, column_value
from benchmark.results import load_results

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def board(board_results: Path, tmp_path: Path) -> Path:
    return render_site(
        board_results,
        tmp_path / "site",
        date="2025-01-01 00:00 UTC",
        model_card=FIXTURES / "model_card.json",
        stability=FIXTURES / "stability.json",
        train_metrics=FIXTURES / "train_metrics.json",
        rank_resamples=300,
    )


def _rows(index: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-name="([^"]+)"[^>]*>(.*?)</tr>', index, flags=re.DOTALL))


def _cells(row: str) -> list[str]:
    return re.findall(r"<td\b[^>]*>.*?</td>", row, flags=re.DOTALL)


def _header(index: str) -> list[str]:
    return re.findall(r'data-metric="([a-z0-9_]+)"', index[: index.index("</thead>")])


def test_sections_separate_the_papers_baselines_the_added_methods_and_the_controls(board: Path):
    index = (board / "index.html").read_text()
    bands = re.findall(r'<tbody class="section section-(\w+)">', index)
    assert bands == ["paper", "added", "control"]
    paper = index[index.index("section-paper") : index.index("section-added")]
    added = index[index.index("section-added") : index.index("section-control")]
    control = index[index.index("section-control") : index.index("</table>")]
    assert 'data-name="integrated_gradients"' in paper and 'data-name="my_method"' in added
    assert 'data-name="random"' in control and 'data-name="random"' not in paper + added


def test_a_control_is_marked_never_ranked_never_starred(board: Path):
    index = (board / "index.html").read_text()
    row = _rows(index)["random"]
    assert "control, not ranked" in row and "best-mark" not in row and 'class="rank"' not in row.split("sanity")[0]
    # random has the lowest stdAUC/Cv here too, yet a ranked method holds the star.
    header = _header(index)
    for metric in ("stdauc", "cv"):
        col = header.index(metric)
        starred = [n for n, r in _rows(index).items() if "best-mark" in _cells(r)[col + 1]]
        assert starred and "random" not in starred, (metric, starred)


def test_no_better_than_random_is_marked(board: Path):
    index = (board / "index.html").read_text()
    rows = _rows(index)
    header = _header(index)
    col = header.index("clip_iou") + 1
    # guided_backprop sits at the control's level; integrated_gradients far above it.
    assert 'class="num nb"' in _cells(rows["guided_backprop"])[col] or " nb" in _cells(rows["guided_backprop"])[col]
    assert " nb" not in _cells(rows["integrated_gradients"])[col]
    assert "no better than random" in index


def test_overall_rank_leaves_cv_out_and_carries_a_bootstrap_interval(board: Path, board_results: Path):
    index = (board / "index.html").read_text()
    assert "cv: " + NOT_IN_OVERALL["cv"] in index
    data = json.loads((board / "data" / "leaderboard.json").read_text())
    assert "cv" not in data["overall_rank"]["metrics"] and "clip_iou" in data["overall_rank"]["metrics"]
    ranked = [s for s in data["submissions"] if s["overall_rank"] is not None]
    assert {s["submission"] for s in ranked} == {"integrated_gradients", "lime", "guided_backprop", "kernel_shap",
                                                 "my_method"}
    for s in ranked:
        lo, hi = s["overall_rank_ci_low"], s["overall_rank_ci_high"]
        assert 1 <= lo <= s["overall_rank"] <= hi <= len(ranked), s
    assert re.search(r"95% CI \d(\u2013\d)?", index)


def test_a_stochastic_method_headlines_its_seed_mean(board: Path, board_results: Path):
    results = {r.name: r for r in load_results(board_results)}
    data = {s["submission"]: s for s in json.loads((board / "data" / "leaderboard.json").read_text())["submissions"]}
    kshap = results["kernel_shap"]  # 2 seeds, no per-clip seed means: the mean of seeds.means
    expected = float(np.mean(kshap.summary["seeds"]["means"]["clip_iou"]))
    assert data["kernel_shap"]["clip_iou"] == pytest.approx(expected)
    assert expected != pytest.approx(kshap.summary["metrics"]["clip_iou"]["mean"])
    lime = results["lime"]  # 3 seeds with seeds.mean: its figure and interval
    assert data["lime"]["clip_iou"] == pytest.approx(lime.summary["seeds"]["mean"]["clip_iou"]["mean"])
    assert data["lime"]["clip_iou_ci_low"] == pytest.approx(lime.summary["seeds"]["mean"]["clip_iou"]["ci_low"])
    index = (board / "index.html").read_text()
    assert "3 seeds, sd" in _rows(index)["lime"] and "2 seeds, sd" in _rows(index)["kernel_shap"]
    # An interval that is seed 0's is marked as such.
    assert "]*" in _rows(index)["kernel_shap"] and "]*" not in _rows(index)["lime"]


def test_every_header_links_to_a_visible_definition(board: Path):
    index = (board / "index.html").read_text()
    ids = set(re.findall(r'id="([^"]+)"', index))
    for metric in _header(index):
        assert f'href="index.html#def-{metric}"' in index and f"def-{metric}" in ids
    section = index[index.index('<section id="definitions">') :]
    assert "p(x) \u2212 p(x_del" in section and "reverse of the usual one" in section and "def-convention" in ids
    page = (board / "submissions" / "lime.html").read_text()
    assert 'href="../index.html#def-deletion"' in page and 'href="../index.html#def-convention"' in page


def test_downloads_match_the_table(board: Path, board_results: Path):
    results = {r.name: r for r in load_results(board_results)}
    rows = list(csv.DictReader(io.StringIO((board / "data" / "leaderboard.csv").read_text())))
    by_name = {r["submission"]: r for r in rows}
    assert set(by_name) == set(results)
    for name, r in results.items():
        if not r.ok:
            assert by_name[name]["status"] == "failed"
            continue
        for metric in ("clip_iou", "deletion", "insertion", "runtime_s"):
            assert float(by_name[name][metric]) == pytest.approx(column_value(r, metric))
        copied = board / "data" / name / "per_clip.csv"
        assert copied.read_bytes() == (r.folder / "per_clip.csv").read_bytes()
        page = (board / "submissions" / f"{name}.html").read_text()
        assert f'href="../data/{name}/per_clip.csv"' in page


def test_citation_links_licence_and_version(board: Path):
    index = (board / "index.html").read_text()
    assert "@inproceedings{zhang2023quantitative" in index and "10.23919/EUSIPCO58844.2023.10290127" in index
    assert "@misc{videoxai2025leaderboard" in index and "version     = {0.1.0}" in index
    assert 'href="submit.html"' in index and "Licence:" in index and "benchmark v0.1.0" in index
    submit = (board / "submit.html").read_text()
    assert "benchmark new-submission my_method --from" in submit and "benchmark remove" in submit


def test_the_model_card_stability_and_training_curve_are_shown(board: Path):
    index = (board / "index.html").read_text()
    card = index[index.index('<section id="card"') : index.index('<section id="leaderboard">')]
    assert "I3D (Inception-v1 inflated), width 0.25" in card and "0.684 (95% CI clips [0.551, 0.807]" in card
    assert "22/40 evaluation clips (55%)" in card and 'id="training-curve"' in card
    assert "0.114 on the baselines of the anomalous training clips (the clips themselves: 0.918)" in card
    assert (board / "data" / "training.csv").read_text().splitlines()[0] == "epoch,train_loss,lr,epoch_time_s"
    stability = index[index.index('<section id="stability">') : index.index('<section id="sanity">')]
    assert "Kendall" in stability and "0.810" in stability and "occlusion_small" in stability
    page = (board / "submissions" / "lime.html").read_text()
    assert "Across model instances" in page


def test_without_a_model_card_the_page_says_not_available(board_results: Path, tmp_path: Path):
    site = render_site(board_results, tmp_path / "s", date="d", rank_resamples=50)
    index = (site / "index.html").read_text()
    assert "Model card: not available" in index and "Not available: no model-instance stability" in index


def test_the_gallery_is_evidence(board: Path, board_results: Path):
    index = (board / "index.html").read_text()
    gallery = index[index.index('<section id="gallery">') : index.index('<section id="paper">')]
    assert gallery.count('<div class="gallery-row">') == 2
    assert "one colour scale for every method" in gallery and "linearGradient" in gallery
    assert "p(anomalous) 0.300 (missed at 0.5)" in gallery and "p(anomalous) 0.900 (detected at 0.5)" in gallery
    lime = pd.read_csv(board_results / "lime" / "per_clip.csv").set_index("clip_id")
    first = re.search(r"<h3>Clip ([^,<]+)", gallery).group(1)
    assert f"clip IoU {lime.loc[first, 'clip_iou']:.3f}" in gallery
    for src, width, height in re.findall(r'<img src="([^"]+)" width="(\d+)" height="(\d+)"', gallery):
        w, h = Image.open(board / src).size
        assert int(width) % w == 0 and int(height) % h == 0 and int(width) // w == int(height) // h, src
        anchor = re.search(rf'<a href="#(zoom-[^"]+)"><img src="{re.escape(src)}"', gallery)
        assert anchor and f'id="{anchor.group(1)}"' in gallery
    # Tiles of one clip share the scale: the same raw map draws to the same colours.
    tiles = sorted((board / "assets" / "gallery").rglob("*_scored.png"))
    assert len(tiles) == 6 * 2


def test_the_gallery_falls_back_to_the_harness_pngs_and_says_so(fake_results: Path, tmp_path: Path):
    site = render_site(fake_results, tmp_path / "s", date="d", rank_resamples=50)
    gallery = (site / "index.html").read_text()
    gallery = gallery[gallery.index('<section id="gallery">') :]
    assert "each tile at its own contrast" in gallery and "linearGradient" not in gallery


def test_curves_use_the_fraction_of_voxels_and_are_told_apart_without_colour(board: Path, fake_results, tmp_path):
    index = (board / "index.html").read_text()
    curves = index[index.index('<section id="curves">') : index.index('<section id="stability">')]
    assert "fraction of the clip&#39;s voxels removed" in curves and "1 \u2212 \u03c4 / max E" not in curves
    assert "stroke-dasharray" in curves and "<polygon" in curves  # dashes and markers
    assert curves.count('<svg class="chart" id="panel-deletion-') == 6
    old = render_site(fake_results, tmp_path / "old", date="d", rank_resamples=50)
    assert "voxel fractions not recorded" in (old / "index.html").read_text()


def test_numbers_are_never_in_scientific_notation_in_the_table(board: Path):
    index = (board / "index.html").read_text()
    table = index[index.index('<table class="board') : index.index("</table>")]
    values = re.findall(r'<span class="value">([^<]*)</span>', table)
    assert values and not [v for v in values if re.search(r"\de[-+]\d", v)]


def test_orphaned_results_are_left_off_the_page(board_results: Path, tmp_path: Path):
    subs = tmp_path / "submissions"
    for name in ("integrated_gradients", "lime", "guided_backprop", "kernel_shap", "random", "broken"):
        (subs / name).mkdir(parents=True)
        (subs / name / "submission.yaml").write_text("group: paper\n")
    site = render_site(board_results, tmp_path / "s", date="d", submissions_root=subs, rank_resamples=50)
    index = (site / "index.html").read_text()
    assert 'data-name="my_method"' not in index and "my_method" in index  # named in the note
    assert not (site / "submissions" / "my_method.html").exists()


def test_registered_submissions_without_results_are_named(board_results: Path, tmp_path: Path):
    subs = tmp_path / "submissions"
    for name in ("integrated_gradients", "lime", "not_run_yet"):
        (subs / name).mkdir(parents=True)
        (subs / name / "submission.yaml").write_text("group: added\n")
    index = (render_site(board_results, tmp_path / "s", date="d", submissions_root=subs,
                         rank_resamples=50) / "index.html").read_text()
    note = index[index.index("Registered but not scored") :][:300]
    assert "not_run_yet" in note and "lime" not in note
    plain = (render_site(board_results, tmp_path / "t", date="d", rank_resamples=50) / "index.html").read_text()
    assert "Registered but not scored" not in plain


def test_results_without_a_group_take_it_from_the_submission_yaml(fake_results: Path, tmp_path: Path):
    subs = tmp_path / "submissions"
    for name, group in (("integrated_gradients", "paper"), ("lime", "paper"), ("hostile", "control"),
                        ("broken", "added")):
        (subs / name).mkdir(parents=True)
        (subs / name / "submission.yaml").write_text(f"group: {group}\n")
    site = render_site(fake_results, tmp_path / "s", date="d", submissions_root=subs, rank_resamples=50)
    index = (site / "index.html").read_text()
    control = index[index.index("section-control") : index.index("</table>")]
    assert 'data-name="hostile"' in control
