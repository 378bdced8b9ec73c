"""Render the static leaderboard site from ``results/`` and publish it.

``render_site`` reads result folders only (:func:`benchmark.results.load_results`), plus the optional
model card, stability record and training metrics: it never runs a model or MLflow. The site is one
self-contained folder with relative links only::

    index.html                  data/model card, the main table (paper baselines, added methods, controls),
                                definitions, curves, scatter, sanity check, gallery, paper tables, citation
    submit.html                 how to add an explainer
    submissions/<name>.html     one page per submission
    static/                     style.css, sort.js, favicon.svg (copied from leaderboard/static)
    assets/gallery/<name>/      the gallery images of each submission (and _clips/: the input frames)
    data/leaderboard.csv|json   the table as data; data/<name>/per_clip.csv; data/training.csv

Command line: ``python -m benchmark.leaderboard.render --results results --out leaderboard/site``
(or ``benchmark leaderboard``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from benchmark import __version__
from benchmark.atomic import atomic_dir
from benchmark.layout import RepoLayout
from benchmark.leaderboard.about import (
    PAPER_BIBTEX,
    benchmark_bibtex,
    load_site_info,
    table_csv,
    table_json,
    table_rows,
)
from benchmark.leaderboard.baseline_check import baseline_check
from benchmark.leaderboard.card import (
    build_card,
    build_stability,
    read_json,
    training_chart,
    training_history,
)
from benchmark.leaderboard.charts import curve_charts, curve_panels, runtime_scatter
from benchmark.leaderboard.columns import column_groups, columns_from_spec
from benchmark.leaderboard.definitions import CONVENTION, NOTATION, definitions
from benchmark.leaderboard.gallery import colorbar_stops, gallery_rows, write_gallery_assets
from benchmark.leaderboard.paper import load_paper_table
from benchmark.leaderboard.paper_comparison import paper_comparison
from benchmark.leaderboard.ranking import (
    RANK_RESAMPLES,
    RANK_SEED,
    TieTest,
    compute_standings,
)
from benchmark.leaderboard.sanity_view import attach_sanity
from benchmark.leaderboard.tables import provenance_rows
from benchmark.leaderboard.views import GROUPS, SEED0_MARK, build_views, fmt_rank
from benchmark.results import PER_CLIP_FILE, load_results
from benchmark.results.sanity import load_sanity

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "leaderboard" / "templates"
STATIC = REPO_ROOT / "leaderboard" / "static"
PAPER_TABLES = REPO_ROOT / "leaderboard" / "data" / "paper_tables.csv"
SITE_INFO = REPO_ROOT / "leaderboard" / "data" / "site.yaml"
DEFAULT_ALPHA = 0.05
PAGES = ("base.html", "index.html", "submission.html", "submit.html")


def default_metrics() -> list[Any]:
    """Every declared metric (:data:`benchmark.metrics.spec.METRICS`), grouped by family in display order."""
    import benchmark.metrics  # noqa: F401  (importing the package declares every metric)
    from benchmark.metrics.spec import METRIC_FAMILIES, METRICS

    return sorted(METRICS.values(), key=lambda spec: METRIC_FAMILIES.index(spec.family))


def default_tie_test(alpha: float = DEFAULT_ALPHA) -> tuple[TieTest, str]:
    """``benchmark.metrics.statistics.tied`` at level ``alpha``, and how the page names that test.

    The test's name is the first clause of ``paired_test``'s docstring (e.g. "two-sided Wilcoxon
    signed-rank test"), so the page follows the statistics module if the test changes.
    """
    from benchmark.metrics import statistics

    first = (statistics.paired_test.__doc__ or "paired test").strip().split("\n")[0]
    name = first.split(" of ")[0].rstrip(". ").replace("``", "")
    name = name[:1].lower() + name[1:]
    return (
        functools.partial(statistics.tied, alpha=alpha),
        f"a {name} (p \u2265 \u03b1 = {alpha:g}, benchmark.metrics.statistics.tied)",
    )


def build_date() -> str:
    """UTC build time; ``SOURCE_DATE_EPOCH`` (seconds) pins it for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            stamp = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        except ValueError as exc:
            raise ValueError(
                f"SOURCE_DATE_EPOCH={epoch!r}: expected whole seconds since 1970 ({exc})."
            ) from exc
    else:
        stamp = dt.datetime.now(tz=dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _environment(templates: Path) -> Environment:
    missing = [p for p in PAGES if not (templates / p).is_file()]
    if missing:
        raise ValueError(
            f"{templates}: missing templates {missing}; pass templates= the leaderboard/templates folder."
        )
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def submission_groups(results: Sequence[Any], submissions_root: Path | None) -> dict[str, str]:
    """``paper`` | ``added`` | ``control`` of each result: ``metrics.json: group``; for results written
    before that key existed, the group in ``submissions/<name>/submission.yaml`` (read as data); else
    ``added``."""
    out = {}
    for r in results:
        group = r.summary.get("group")
        if not group and submissions_root is not None:
            meta = Path(submissions_root) / r.name / "submission.yaml"
            if meta.is_file():
                try:
                    raw = yaml.safe_load(meta.read_text()) or {}
                except yaml.YAMLError:
                    raw = {}
                group = raw.get("group") if isinstance(raw, dict) else None
        out[r.name] = str(group) if group in GROUPS else "added"
    return out


def orphaned(results_root: Path, submissions_root: Path | None) -> list[str]:
    """Result folders without a submission folder (``submissions/<name>/submission.yaml``): deleted
    submissions whose results are still on disk. Empty when ``submissions_root`` is ``None`` or missing."""
    if submissions_root is None or not Path(submissions_root).is_dir():
        return []
    return sorted(
        p.name
        for p in Path(results_root).iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and not (Path(submissions_root) / p.name / "submission.yaml").is_file()
    )


def unscored(results_root: Path, submissions_root: Path | None) -> list[str]:
    """Registered submissions (``submissions/<name>/submission.yaml``) without a result folder: not scored on
    this board (not run yet, or left out of it). Empty when ``submissions_root`` is ``None`` or missing."""
    if submissions_root is None or not Path(submissions_root).is_dir():
        return []
    return sorted(
        p.name
        for p in Path(submissions_root).iterdir()
        if (p / "submission.yaml").is_file() and not (Path(results_root) / p.name).is_dir()
    )


def render_site(
    results_root: Path,
    out_dir: Path,
    *,
    templates: Path = TEMPLATES,
    static: Path = STATIC,
    paper_tables: Path = PAPER_TABLES,
    site_info: Path = SITE_INFO,
    metrics: Sequence[Any] | None = None,
    tie_test: TieTest | None = None,
    tie_statement: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    date: str | None = None,
    sanity_root: Path = RepoLayout().sanity,
    submissions_root: Path | None = None,
    model_card: Path | None = None,
    stability: Path | None = None,
    train_metrics: Path | None = None,
    rank_resamples: int = RANK_RESAMPLES,
) -> Path:
    """Render the leaderboard of every result under ``results_root`` into ``out_dir`` (replaced atomically).

    Args:
        results_root: the ``results/`` folder (one sub-folder per submission).
        out_dir: the site folder to write; it is built in a temporary sibling and swapped in whole.
        templates: folder with the page templates (Jinja2, autoescaped).
        static: folder copied to ``<out_dir>/static`` (must hold ``style.css`` and ``sort.js``).
        paper_tables: the paper's Tables I and II (see :mod:`benchmark.leaderboard.paper`).
        site_info: ``site.yaml`` (repository, licence, citation; :mod:`benchmark.leaderboard.about`).
        metrics: metric declarations in display order; default :func:`default_metrics`.
        tie_test: ``tie_test(a, b) -> bool`` for paired per-clip scores; default
            ``benchmark.metrics.statistics.tied`` at ``alpha``.
        tie_statement: how the page names the test (required with a custom ``tie_test``).
        alpha: the test's level (used by the default test).
        date: the build date printed in the footer; default :func:`build_date`.
        sanity_root: the ``sanity/`` folder of the randomisation check (:mod:`benchmark.harness.sanity`); a
            submission without a record there, or a missing folder, shows "not run".
        submissions_root: the ``submissions/`` folder. When given (and present), results without a
            submission folder are left off the page (and named in a note), and results written before
            ``metrics.json: group`` existed take their group from the submission's yaml.
        model_card: ``models/model_card.json`` (optional: "not available" when missing).
        stability: ``stability/<data.source>.json`` (optional).
        train_metrics: ``models/train_metrics.json`` (optional): the training curve.
        rank_resamples: bootstrap resamples of the overall-rank intervals.

    Returns:
        ``out_dir``.
    """
    results_root, out_dir = Path(results_root), Path(out_dir)
    templates, static, paper_tables = Path(templates), Path(static), Path(paper_tables)
    if not results_root.is_dir():
        raise ValueError(
            f"{results_root}: no such results folder; run the submission stages first (`dvc repro`)."
        )
    for needed in ("style.css", "sort.js"):
        if not (static / needed).is_file():
            raise ValueError(f"{static}: missing {needed}; pass static= the leaderboard/static folder.")
    env = _environment(templates)
    metrics = list(default_metrics() if metrics is None else metrics)
    if tie_test is None:
        tie_test, default_statement = default_tie_test(alpha)
        tie_statement = tie_statement or default_statement
    elif tie_statement is None:
        raise ValueError(
            "render_site: pass tie_statement= (how the page names the test) with a custom tie_test."
        )
    paper = load_paper_table(paper_tables)
    info = load_site_info(Path(site_info))
    built = date or build_date()

    orphans = orphaned(results_root, submissions_root)
    results = [r for r in load_results(results_root) if r.name not in orphans]
    groups = submission_groups(results, submissions_root)
    controls = [n for n, g in groups.items() if g == "control"]
    standings = compute_standings(results, metrics, tie_test, controls=controls, n_resamples=rank_resamples)
    columns = columns_from_spec(metrics, standings.primary)
    metrics_by_name = {spec.name: spec for spec in metrics}
    views = build_views(results, standings, columns, groups)
    attach_sanity(views, load_sanity(Path(sanity_root), names=[v.name for v in views]))
    scored = [v for v in views if v.status == "ok"]
    ranked = [v for v in scored if not v.is_control]
    failed = [v for v in views if v.status != "ok"]
    by_name = {r.name: r for r in results}
    gallery = gallery_rows(scored, by_name)
    for v in scored:
        v.charts = curve_charts([v], by_name, metrics_by_name, f"curve-{v.name}", per_clip=True)
        v.gallery_tiles = [(row, t) for row in gallery for t in row.tiles if t.view is v]
    provenance, disagreements = provenance_rows(results)
    card = build_card(read_json(model_card), results)
    history = training_history(read_json(train_metrics))
    stable = build_stability(read_json(stability), {c.name: c.label for c in columns})
    sections = [
        (group, label, [v for v in scored if v.group == group]) for group, label in GROUPS.items()
    ]
    rows = table_rows(views, columns)
    common = {
        "version": __version__,
        "build_date": built,
        "provenance": provenance,
        "disagreements": disagreements,
        "columns": columns,
        "groups": column_groups(columns),
        "primary": [c for c in columns if c.in_overall],
        "left_out": standings.left_out,
        "tie_statement": tie_statement,
        "info": info,
        "guide_href": info.repo_file("submissions/README.md"),
        "card": card,
        "fmt_rank": fmt_rank,
    }
    index = env.get_template("index.html").render(
        root="",
        ranked=ranked,
        scored=scored,
        sections=[s for s in sections if s[2]],
        controls=[v for v in scored if v.is_control],
        failed=failed,
        orphans=orphans,
        unscored=unscored(results_root, submissions_root),
        baseline=baseline_check([by_name[v.name] for v in scored]),
        definitions=definitions(columns, standings.left_out),
        notation=NOTATION,
        convention=CONVENTION,
        rank_resamples=rank_resamples,
        rank_seed=RANK_SEED,
        seed0_intervals=any(c.basis for v in scored for c in v.cells.values()),
        seed0_mark=SEED0_MARK,
        interval_clips=standings.interval_clips,
        curves=curve_charts(scored, by_name, metrics_by_name, "curves"),
        panels={k: curve_panels(scored, by_name, metrics_by_name, k) for k in ("deletion", "insertion")},
        scatter=runtime_scatter(scored, metrics_by_name),
        gallery=gallery,
        colorbar=colorbar_stops(),
        sanity_ran=[v for v in scored if v.sanity.ran],
        sanity_missing=[v for v in scored if not v.sanity.ran],
        paper=paper_comparison(scored, paper, columns),
        training=training_chart(history),
        stability=stable,
        bibtex_paper=PAPER_BIBTEX,
        bibtex_benchmark=benchmark_bibtex(info, __version__, built[:4] if built[:4].isdigit() else "2025"),
        **common,
    )
    page = env.get_template("submission.html")
    submit = env.get_template("submit.html").render(root="", **common)
    meta = {
        "benchmark_version": __version__,
        "built": built,
        "overall_rank": {
            "metrics": list(standings.primary),
            "left_out": dict(standings.left_out),
            "interval": f"95% bootstrap over the {standings.interval_clips} shared clips, {rank_resamples} "
            f"resamples, seed {RANK_SEED}",
        },
        "controls": list(standings.controls),
        "figure": "mean over clips (over seeds for stochastic submissions); runtime_s: median seconds per clip",
    }
    with atomic_dir(out_dir) as tmp:
        _write(tmp / "index.html", index)
        _write(tmp / "submit.html", submit)
        shutil.copytree(static, tmp / "static")
        for v in views:
            _write(tmp / v.page, page.render(root="../", view=v, stability=stable, **common))
        write_gallery_assets(tmp, gallery)
        data = tmp / "data"
        _write(data / "leaderboard.csv", table_csv(rows))
        _write(data / "leaderboard.json", table_json(rows, columns=columns, meta=meta))
        for v in scored:
            src = by_name[v.name].folder / PER_CLIP_FILE
            if src.is_file():
                (data / v.name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, data / v.name / PER_CLIP_FILE)
        if history:
            keys = list(history[0])
            _write(data / "training.csv", ",".join(keys) + "\n" + "".join(
                ",".join("" if r[k] != r[k] else repr(r[k]) for k in keys) + "\n" for r in history))
    return out_dir


def publish(site: Path, dest: Path) -> Path:
    """Copy the rendered ``site`` to ``dest`` (replaced whole, atomically) with a ``.nojekyll`` marker.

    ``dest = docs`` publishes with GitHub Pages' "deploy from a branch, /docs folder" setting.
    """
    site, dest = Path(site), Path(dest)
    if not (site / "index.html").is_file():
        raise ValueError(f"{site}: no index.html; render it first with `benchmark leaderboard --out {site}`.")
    if dest.resolve() == site.resolve() or site.resolve() in dest.resolve().parents:
        raise ValueError(
            f"{dest}: must not be {site} or inside it; publish to a separate folder such as docs/."
        )
    with atomic_dir(dest) as tmp:
        shutil.copytree(site, tmp, dirs_exist_ok=True)
        (tmp / ".nojekyll").write_text("")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmark.leaderboard.render [--results DIR] [--out DIR] [--publish DIR]``."""
    p = argparse.ArgumentParser(description="Render the static leaderboard from a results folder.")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--out", type=Path, default=Path("leaderboard/site"))
    p.add_argument("--sanity", type=Path, default=RepoLayout().sanity, help="the randomisation check's records")
    p.add_argument("--submissions", type=Path, default=None, help="the submissions folder (orphans, groups)")
    p.add_argument("--model-card", type=Path, default=None, help="models/model_card.json (optional)")
    p.add_argument("--stability", type=Path, default=None, help="stability/<source>.json (optional)")
    p.add_argument("--train-metrics", type=Path, default=None, help="models/train_metrics.json (optional)")
    p.add_argument("--publish", type=Path, default=None, help="also copy the site here (e.g. docs)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    out = render_site(args.results, args.out, sanity_root=args.sanity, submissions_root=args.submissions,
                      model_card=args.model_card, stability=args.stability, train_metrics=args.train_metrics)
    print(f"rendered {out}/index.html in {time.perf_counter() - started:.2f} s")
    if args.publish is not None:
        print(f"published to {publish(out, args.publish)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
