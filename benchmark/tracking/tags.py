"""The ``benchmark.*`` tags that the sync writes on MLflow runs and reads back.

A run's identity and lifecycle live in tags: which submission it shows and from which results
(:data:`TAG_SUBMISSION`, :data:`TAG_DIGEST`), whether it is the current view of them
(:data:`TAG_CURRENT`) or was retired (:data:`TAG_SUPERSEDED`, :data:`TAG_SUPERSEDED_BY`,
:data:`TAG_REMOVED`), and what the results say (:data:`TAG_STATUS`, :data:`TAG_FAMILY`,
:data:`TAG_FAILURE`). Every value is a string (``"true"``/``"false"`` for flags).
"""

from __future__ import annotations

TAG_SUBMISSION = "benchmark.submission"
"""The submission (results folder name) a run shows; runs without it were made by hand."""
TAG_DIGEST = "benchmark.results_digest"
""":func:`benchmark.results.results_digest` of the folder; set last, so only complete runs carry it."""
TAG_CURRENT = "benchmark.current"
"""``"true"`` on the one current run of a submission, ``"false"`` once retired."""
TAG_SUPERSEDED = "benchmark.superseded"
"""``"true"`` on a run retired because its submission's results changed."""
TAG_SUPERSEDED_BY = "benchmark.superseded_by"
"""The id of the run that replaced a superseded run."""
TAG_REMOVED = "benchmark.removed"
"""``"true"`` on a run retired because its submission's results folder is gone."""
TAG_VERSION = "benchmark.version"
"""The benchmark version, on the experiment and on every run."""
TAG_STATUS = "benchmark.status"
"""The submission's status from ``metrics.json`` (``ok``, ``failed``, ...)."""
TAG_FAMILY = "benchmark.family"
"""The submission's family (e.g. ``gradient``), when it declares one."""
TAG_FAILURE = "benchmark.failure"
"""One line on where and how a failed submission failed."""
TAG_SANITY = "benchmark.sanity"
"""The randomisation check's verdict: ``pass``, ``fail``, ``inconclusive``, ``failed`` or ``not run``."""
TAG_OVERALL_RANK = "benchmark.overall_rank"
"""The overall rank on the leaderboard (``"3"``), ``"control"`` for a control, ``""`` when not scored."""
TAG_RANK_CI = "benchmark.overall_rank_ci"
"""The 95% bootstrap interval of the overall rank (``"2-5"``), ``""`` when there is none."""
TAG_VIEW_KEY = "benchmark.view_key"
"""On the experiment: a hash of everything the runs' ranks and verdicts derive from; unchanged, the sync is a no-op."""
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
"""The experiment tag MLflow 3.17's UI reads to choose the experiment's landing page (``mlflow/server/js``:
``"mlflow.experimentKind"``; without it the UI infers a kind and may open the GenAI overview)."""
EXPERIMENT_KIND = "custom_model_development"
"""The kind that makes the UI open the runs table (``ExperimentKind.CUSTOM_MODEL_DEVELOPMENT``)."""
RUN_NAME_SUFFIX = {"superseded": " (superseded)", "removed": " (removed)"}
"""Appended to a retired run's name, so that it looks retired in the runs table too."""
