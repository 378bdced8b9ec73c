"""Scoring: localisation, faithfulness, robustness, statistics and baselines.

Pure functions of arrays and tensors: nothing here imports model code or touches files, and importing the
package imports no torch (the leaderboard reads the declarations; torch loads when a score is computed). Every score
follows ``PROTOCOL.md`` at the repository root; every metric is declared in :data:`METRICS`
(:class:`MetricSpec`: family, direction, label, whether the overall rank uses it), registered below.

* :mod:`~benchmark.metrics.maps` -- the scored map ``E`` and its thresholds (the one threshold rule).
* :mod:`~benchmark.metrics.human_centric` -- every localisation and robustness score of a clip in one pass;
  :mod:`~benchmark.metrics.localization` and :mod:`~benchmark.metrics.robustness` hold their parts.
* :mod:`~benchmark.metrics.faithfulness` -- deletion and insertion.
* :mod:`~benchmark.metrics.cost` -- the cost figures the runner measures.
* :mod:`~benchmark.metrics.spec` -- the declarations: :data:`METRICS`, :func:`score_names`, :func:`cost_names`.
* :mod:`~benchmark.metrics.statistics` -- bootstrap intervals and the paired test.
* :mod:`~benchmark.metrics.baselines` -- the blurred and black reference inputs.
"""

import importlib
from typing import Any

from benchmark.metrics.cost import COST_METRICS
from benchmark.metrics.faithfulness import FAITHFULNESS_METRICS, deletion_insertion
from benchmark.metrics.human_centric import human_centric
from benchmark.metrics.localization import LOCALIZATION_METRICS, max_attribution_frame
from benchmark.metrics.maps import scored_map, thresholds
from benchmark.metrics.robustness import ROBUSTNESS_METRICS, frame_aucs, robustness
from benchmark.metrics.spec import (
    METRIC_FAMILIES,
    METRICS,
    MetricSpec,
    cost_names,
    get_metric,
    metrics_in_family,
    primary_metrics,
    register,
    score_names,
)
from benchmark.metrics.statistics import Interval, PairedResult, bootstrap_ci, paired_test, tied

register(*COST_METRICS, *FAITHFULNESS_METRICS, *LOCALIZATION_METRICS, *ROBUSTNESS_METRICS)

_BASELINE_NAMES = ("BLUR_KERNEL_SIZE", "BLUR_SIGMA", "black_baseline", "blur_baseline", "gaussian_kernel",
                   "make_baseline")


def __getattr__(name: str) -> Any:
    """The baselines (torch tensors) load on first use, so that reading the metric declarations (the
    leaderboard does) imports no torch."""
    if name in _BASELINE_NAMES:
        return getattr(importlib.import_module("benchmark.metrics.baselines"), name)
    raise AttributeError(f"module 'benchmark.metrics' has no attribute {name!r}")

__all__ = [
    "BLUR_KERNEL_SIZE",
    "BLUR_SIGMA",
    "METRICS",
    "METRIC_FAMILIES",
    "Interval",
    "MetricSpec",
    "PairedResult",
    "black_baseline",
    "blur_baseline",
    "bootstrap_ci",
    "cost_names",
    "deletion_insertion",
    "frame_aucs",
    "gaussian_kernel",
    "get_metric",
    "human_centric",
    "make_baseline",
    "max_attribution_frame",
    "metrics_in_family",
    "paired_test",
    "primary_metrics",
    "register",
    "robustness",
    "score_names",
    "scored_map",
    "thresholds",
    "tied",
]
