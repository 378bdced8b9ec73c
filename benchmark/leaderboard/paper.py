"""The paper's Tables I and II, for a side-by-side with our figures for the eight baselines."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CITATION = (
    "X. Zhang, B. Joukovsky and N. Deligiannis, \u201cQuantitative Evaluation of Video Explainability "
    "Methods via Anomaly Localization\u201d, Tables I and II (40 clips; runtime in seconds per sample on "
    "the authors\u2019 GPU)."
)

PAPER_LABELS: Mapping[str, str] = {
    "integrated_gradients": "IG",
    "ig_smoothgrad": "IG+SmoothGrad",
    "guided_backprop": "Guided BP",
    "gradient_shap": "GradientSHAP",
    "kernel_shap": "KernelSHAP",
    "lime": "LIME",
    "occlusion_large": "Occlusion_lp",
    "occlusion_small": "Occlusion_sp",
}
"""Our submission name -> the row label the paper uses for the same method."""


@dataclass(frozen=True)
class PaperTable:
    """The paper's figures: ``rows[submission][metric] -> value`` and the metric columns in file order."""

    metrics: tuple[str, ...]
    rows: Mapping[str, Mapping[str, float]]


def load_paper_table(path: Path) -> PaperTable:
    """Read ``paper_tables.csv``: ``#`` comment lines, a header ``method,<metric>...``, one row per method.

    Raises:
        ValueError: naming the file, when the header has no ``method`` column, a method is not one of
            :data:`PAPER_LABELS`, or a value is not a number.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: not found; restore leaderboard/data/paper_tables.csv from git.")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    if not reader.fieldnames or reader.fieldnames[0] != "method":
        raise ValueError(f"{path}: the first column must be 'method' (got {reader.fieldnames}).")
    metrics = tuple(reader.fieldnames[1:])
    rows: dict[str, dict[str, float]] = {}
    for line_no, row in enumerate(reader, start=2):
        method = row["method"]
        if method not in PAPER_LABELS:
            raise ValueError(
                f"{path}: row {line_no}: unknown method {method!r}; expected one of {sorted(PAPER_LABELS)}."
            )
        try:
            rows[method] = {m: float(row[m]) for m in metrics}
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: row {line_no} ({method}): a value is not a number ({exc}).") from exc
        if any(not math.isfinite(v) for v in rows[method].values()):
            raise ValueError(f"{path}: row {line_no} ({method}): values must be finite numbers.")
    return PaperTable(metrics, rows)
