"""What the page says about the project itself: links, licence, citations and the downloads.

:func:`load_site_info` reads ``leaderboard/data/site.yaml`` (repository, licence, citation metadata);
:func:`bibtex_entries` gives the BibTeX of the paper and of the benchmark; :func:`table_rows` and
:func:`table_json` are the leaderboard as data, written next to the pages as ``data/leaderboard.csv`` and
``data/leaderboard.json`` (every figure as a full-precision number, the text of the page aside).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmark.leaderboard.columns import Column
from benchmark.leaderboard.safety import safe_url

PAPER_BIBTEX = """@inproceedings{zhang2023quantitative,
  title     = {Quantitative Evaluation of Video Explainability Methods via Anomaly Localization},
  author    = {Zhang, Xinyue and Joukovsky, Boris and Deligiannis, Nikos},
  booktitle = {2023 31st European Signal Processing Conference (EUSIPCO)},
  pages     = {1235--1239},
  year      = {2023},
  publisher = {IEEE},
  doi       = {10.23919/EUSIPCO58844.2023.10290127}
}"""
"""The paper whose protocol the benchmark implements (EUSIPCO 2023)."""


@dataclass(frozen=True)
class SiteInfo:
    """``site.yaml``, checked: links are absolute http(s) addresses or ``None``."""

    title: str
    authors: tuple[str, ...]
    repository: str | None
    branch: str
    license_name: str
    license_url: str | None
    data_terms: str
    data_url: str | None

    def repo_file(self, path: str) -> str | None:
        """A link to ``path`` in the repository (``None`` without a repository)."""
        if not self.repository:
            return None
        return f"{self.repository.rstrip('/')}/blob/{self.branch}/{path}"


def load_site_info(path: Path) -> SiteInfo:
    """Read ``site.yaml``; a missing file gives the defaults (no repository, no licence).

    Raises:
        ValueError: naming the file, when it is not a YAML mapping.
    """
    raw: Any = {}
    if Path(path).is_file():
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping (title, authors, repository, license, ...).")
    lic = raw.get("license") or {}
    if not isinstance(lic, dict):
        lic = {"name": str(lic)}
    authors = raw.get("authors") or ["Video-XAI benchmark maintainers"]
    return SiteInfo(
        title=str(raw.get("title") or "Video-XAI leaderboard"),
        authors=tuple(str(a) for a in (authors if isinstance(authors, list) else [authors])),
        repository=safe_url(raw.get("repository")),
        branch=str(raw.get("branch") or "main"),
        license_name=str(lic.get("name") or ""),
        license_url=safe_url(lic.get("url")),
        data_terms=str(raw.get("data_terms") or ""),
        data_url=safe_url(raw.get("data_url")),
    )


def benchmark_bibtex(info: SiteInfo, version: str, year: str) -> str:
    """The BibTeX of this benchmark at ``version`` (``year``: the build's)."""
    fields = [
        ("title", "{" + info.title + "}"),
        ("author", "{" + " and ".join(info.authors) + "}"),
        ("year", "{" + year + "}"),
        ("version", "{" + version + "}"),
        ("note", "{Benchmark version " + version + "; protocol of Zhang, Joukovsky and Deligiannis, EUSIPCO 2023}"),
    ]
    if info.repository:
        fields.append(("howpublished", "{\\url{" + info.repository + "}}"))
    key = "videoxai" + year + "leaderboard"
    body = ",\n".join(f"  {k:<12}= {v}" for k, v in fields)
    return f"@misc{{{key},\n{body}\n}}"


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def table_rows(views: Sequence[Any], columns: Sequence[Column]) -> list[dict[str, Any]]:
    """One flat record per submission (ranked, controls, then failed): ranks, every figure with its interval
    and rank, the comparison with the controls and the sanity verdict. Numbers at full precision."""
    rows = []
    for v in views:
        row: dict[str, Any] = {
            "overall_rank": v.overall_rank,
            "overall_rank_ci_low": v.rank_interval[0] if v.rank_interval else None,
            "overall_rank_ci_high": v.rank_interval[1] if v.rank_interval else None,
            "mean_rank": v.mean_rank,
            "submission": v.name,
            "display_name": v.display_name,
            "group": v.group,
            "family": v.family,
            "status": v.status,
            "seeds": v.seeds,
        }
        for c in columns:
            cell = v.cells.get(c.name)
            row[c.name] = cell.value if cell else None
            row[f"{c.name}_ci_low"] = cell.low if cell else None
            row[f"{c.name}_ci_high"] = cell.high if cell else None
            row[f"{c.name}_rank"] = cell.rank if cell else None
            row[f"{c.name}_no_better_than_control"] = bool(cell.no_better) if cell else None
        s = v.sanity
        row["sanity_verdict"] = s.status if s is not None else None
        row["sanity_spearman"] = s.spearman_mean if s is not None else None
        rows.append(row)
    return rows


def table_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """``rows`` as CSV (header from the first row; missing values empty; booleans ``true``/``false``)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else ("true" if v is True else "false" if v is False else
                                                   repr(v) if isinstance(v, float) else v)) for k, v in r.items()})
    return buf.getvalue()


def table_json(rows: Sequence[Mapping[str, Any]], *, columns: Sequence[Column], meta: Mapping[str, Any]) -> str:
    """The leaderboard as JSON: ``meta`` (version, build date, overall metrics, ...), the metric
    declarations and ``submissions`` (the :func:`table_rows`)."""
    doc = {
        **meta,
        "metrics": [
            {"name": c.name, "label": c.label, "family": c.family, "direction": c.direction,
             "in_overall_rank": c.in_overall, "description": c.description}
            for c in columns
        ],
        "submissions": list(rows),
    }
    return json.dumps(doc, indent=1, allow_nan=False, default=_num)
