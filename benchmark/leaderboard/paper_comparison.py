"""Our figures next to the paper's Tables I and II, and how the two orderings of the baselines agree.

:func:`paper_comparison` builds the index page's paper section from the ranked submission views and
the paper's table (:mod:`benchmark.leaderboard.paper`): one row per baseline the paper reports, each
cell our figure above the paper's, and the rank agreement per metric
(:mod:`benchmark.leaderboard.agreement`) computed from our figures as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmark.leaderboard.agreement import rank_agreement
from benchmark.leaderboard.columns import Column, column_groups
from benchmark.leaderboard.formatting import MISSING, fmt
from benchmark.leaderboard.paper import CITATION, PAPER_LABELS, PaperTable
from benchmark.leaderboard.views import SubmissionView


def paper_comparison(
    views: Sequence[SubmissionView], table: PaperTable, columns: Sequence[Column]
) -> dict[str, Any]:
    """The paper section of the index page.

    Returns:
        ``{columns, groups, rows, citation, agreement}``: the columns both tables have (in the paper's
        order) and their family groups; rows ``{method, label, view, cells: [(ours, paper)]}`` for the
        paper's methods, in the paper's order (``view`` is ``None`` when we have no such submission);
        the citation; and per column ``{column, n, spearman, spearman_p, kendall, kendall_p}`` (text).
    """
    by_name = {v.name: v for v in views}
    col_by_name = {c.name: c for c in columns}
    cols = [col_by_name[m] for m in table.metrics if m in col_by_name]
    rows = []
    for method in PAPER_LABELS:
        if method not in table.rows:
            continue
        v = by_name.get(method)
        cells = []
        for c in cols:
            ours = v.cells[c.name].text if v is not None and c.name in v.cells else MISSING
            cells.append((ours, fmt(table.rows[method][c.name])))
        rows.append({"method": method, "label": PAPER_LABELS[method], "view": v, "cells": cells})
    ours = {
        v.name: {
            c.name: v.cells[c.name].value
            for c in cols
            if c.name in v.cells and v.cells[c.name].value is not None
        }
        for v in views
        if v.name in PAPER_LABELS
    }
    agreement = [
        {
            "column": col_by_name[a.metric],
            "n": a.n,
            "spearman": fmt(a.spearman, 2),
            "kendall": fmt(a.kendall, 2),
            "spearman_p": fmt(a.spearman_p, 2),
            "kendall_p": fmt(a.kendall_p, 2),
        }
        for a in rank_agreement(ours, table, [c.name for c in cols])
    ]
    return {
        "columns": cols,
        "groups": column_groups(cols),
        "rows": rows,
        "citation": CITATION,
        "agreement": agreement,
    }
