"""Render the static leaderboard site from ``results/`` and publish it.

``render_site`` reads result folders only (:func:`benchmark.results.load_results`): it never runs a
model or MLflow. The site is one self-contained folder with relative links only::

    index.html                  the main table, curves, runtime/faithfulness scatter, sanity check, gallery,
                                paper tables
    submissions/<name>.html     one page per submission
    static/                     style.css, sort.js, favicon.svg (copied from leaderboard/static)
    assets/gallery/<name>/      the gallery PNGs of each submission

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

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from benchmark import __version__
from benchmark.atomic import atomic_dir
from benchmark.layout import RepoLayout
from benchmark.leaderboard.charts import curve_charts, runtime_scatter
from benchmark.leaderboard.columns import column_groups, columns_from_spec
from benchmark.leaderboard.gallery import gallery_rows
from benchmark.leaderboard.paper import load_paper_table
from benchmark.leaderboard.paper_comparison import paper_comparison
from benchmark.leaderboard.ranking import TieTest, compute_standings
from benchmark.leaderboard.sanity_view import attach_sanity
from benchmark.leaderboard.tables import provenance_rows
from benchmark.leaderboard.views import build_views
from benchmark.results import load_results
from benchmark.results.sanity import load_sanity

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "leaderboard" / "templates"
STATIC = REPO_ROOT / "leaderboard" / "static"
PAPER_TABLES = REPO_ROOT / "leaderboard" / "data" / "paper_tables.csv"
DEFAULT_ALPHA = 0.05
PAGES = ("base.html", "index.html", "submission.html")


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


def render_site(
    results_root: Path,
    out_dir: Path,
    *,
    templates: Path = TEMPLATES,
    static: Path = STATIC,
    paper_tables: Path = PAPER_TABLES,
    metrics: Sequence[Any] | None = None,
    tie_test: TieTest | None = None,
    tie_statement: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    date: str | None = None,
    sanity_root: Path = RepoLayout().sanity,
) -> Path:
    """Render the leaderboard of every result under ``results_root`` into ``out_dir`` (replaced atomically).

    Args:
        results_root: the ``results/`` folder (one sub-folder per submission).
        out_dir: the site folder to write; it is built in a temporary sibling and swapped in whole.
        templates: folder with ``index.html`` and ``submission.html`` (Jinja2, autoescaped).
        static: folder copied to ``<out_dir>/static`` (must hold ``style.css`` and ``sort.js``).
        paper_tables: the paper's Tables I and II (see :mod:`benchmark.leaderboard.paper`).
        metrics: metric declarations in display order; default :func:`default_metrics`.
        tie_test: ``tie_test(a, b) -> bool`` for paired per-clip scores; default
            ``benchmark.metrics.statistics.tied`` at ``alpha``.
        tie_statement: how the page names the test (required with a custom ``tie_test``).
        alpha: the test's level (used by the default test).
        date: the build date printed in the footer; default :func:`build_date`.
        sanity_root: the ``sanity/`` folder of the randomisation check (:mod:`benchmark.harness.sanity`); a
            submission without a record there, or a missing folder, shows "not run".

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

    results = load_results(results_root)
    standings = compute_standings(results, metrics, tie_test)
    columns = columns_from_spec(metrics)
    metrics_by_name = {spec.name: spec for spec in metrics}
    views = build_views(results, standings, columns)
    attach_sanity(views, load_sanity(Path(sanity_root), names=[v.name for v in views]))
    ranked = [v for v in views if v.status == "ok"]
    failed = [v for v in views if v.status != "ok"]
    by_name = {r.name: r for r in results}
    for v in ranked:
        v.charts = curve_charts([v], by_name, metrics_by_name, f"curve-{v.name}", per_clip=True)
    provenance, disagreements = provenance_rows(results)
    common = {
        "version": __version__,
        "build_date": date or build_date(),
        "provenance": provenance,
        "disagreements": disagreements,
        "columns": columns,
        "groups": column_groups(columns),
        "primary": [c for c in columns if c.primary],
        "tie_statement": tie_statement,
    }
    index = env.get_template("index.html").render(
        root="",
        ranked=ranked,
        failed=failed,
        curves=curve_charts(ranked, by_name, metrics_by_name, "curves"),
        scatter=runtime_scatter(ranked, metrics_by_name),
        gallery=gallery_rows(ranked),
        sanity_ran=[v for v in ranked if v.sanity.ran],
        sanity_missing=[v for v in ranked if not v.sanity.ran],
        paper=paper_comparison(ranked, paper, columns),
        **common,
    )
    page = env.get_template("submission.html")
    with atomic_dir(out_dir) as tmp:
        _write(tmp / "index.html", index)
        shutil.copytree(static, tmp / "static")
        for v in views:
            _write(tmp / v.page, page.render(root="../", view=v, **common))
            for g in v.gallery:
                for src, rel in ((g.input_src, g.input), (g.overlay_src, g.overlay)):
                    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, tmp / rel)
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
    p.add_argument("--publish", type=Path, default=None, help="also copy the site here (e.g. docs)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    out = render_site(args.results, args.out, sanity_root=args.sanity)
    print(f"rendered {out}/index.html in {time.perf_counter() - started:.2f} s")
    if args.publish is not None:
        print(f"published to {publish(out, args.publish)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
