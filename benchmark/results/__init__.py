"""The records the stages write and the leaderboard and MLflow read: the one interface between them.

* :mod:`~benchmark.results.submission` -- ``results/<name>/``: scores, curves, gallery of one submission.
* :mod:`~benchmark.results.sanity` -- ``sanity/<name>/sanity.json``: its randomisation test.

Reading a record never imports torch.
"""

from benchmark.results.sanity import SANITY_FILE, SANITY_SCHEMA, load_sanity, read_sanity
from benchmark.results.submission import (
    COST_COLUMNS,
    CURVES_FILE,
    GALLERY_DIR,
    GALLERY_RAW_KEYS,
    METRICS_FILE,
    PER_CLIP_COLUMNS,
    PER_CLIP_FILE,
    PLOTS_DIR,
    SCHEMA_VERSION,
    SCORE_COLUMNS,
    SCORES_FILE,
    SEED_MEAN_FILE,
    ResultsError,
    SubmissionResult,
    load_results,
    read_result,
    results_digest,
)

__all__ = [
    "COST_COLUMNS",
    "CURVES_FILE",
    "GALLERY_DIR",
    "GALLERY_RAW_KEYS",
    "METRICS_FILE",
    "PER_CLIP_COLUMNS",
    "PER_CLIP_FILE",
    "PLOTS_DIR",
    "SANITY_FILE",
    "SANITY_SCHEMA",
    "SCHEMA_VERSION",
    "SCORES_FILE",
    "SCORE_COLUMNS",
    "SEED_MEAN_FILE",
    "ResultsError",
    "SubmissionResult",
    "load_results",
    "load_sanity",
    "read_result",
    "read_sanity",
    "results_digest",
]
