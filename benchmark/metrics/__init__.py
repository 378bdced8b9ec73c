"""Scoring: localisation, faithfulness, robustness, statistics and baselines.

Pure functions of arrays and tensors: nothing here imports model code or touches files. Every score
follows ``/work/shared/reference/protocol.md``; every metric is declared in :data:`METRICS`
(:class:`MetricSpec`: family, direction, label, whether the overall rank uses it).
"""

from benchmark.metrics import cost as _cost  # noqa: F401  (declares the cost metrics)
from benchmark.metrics.baselines import (
    BLUR_KERNEL_SIZE,
    BLUR_SIGMA,
    black_baseline,
    blur_baseline,
    gaussian_kernel,
    make_baseline,
)
from benchmark.metrics.faithfulness import deletion_insertion
from benchmark.metrics.human_centric import human_centric
from benchmark.metrics.localization import localization, max_attribution_frame
from benchmark.metrics.maps import scored_map, thresholds
from benchmark.metrics.robustness import frame_aucs, robustness
from benchmark.metrics.spec import (
    FAMILIES,
    METRICS,
    MetricSpec,
    get_metric,
    metrics_in_family,
    primary_metrics,
)
from benchmark.metrics.statistics import Interval, PairedResult, bootstrap_ci, paired_test, tied

__all__ = [
    "BLUR_KERNEL_SIZE",
    "BLUR_SIGMA",
    "FAMILIES",
    "METRICS",
    "Interval",
    "MetricSpec",
    "PairedResult",
    "black_baseline",
    "blur_baseline",
    "bootstrap_ci",
    "deletion_insertion",
    "frame_aucs",
    "gaussian_kernel",
    "get_metric",
    "human_centric",
    "localization",
    "make_baseline",
    "max_attribution_frame",
    "metrics_in_family",
    "paired_test",
    "primary_metrics",
    "robustness",
    "scored_map",
    "thresholds",
    "tied",
]
