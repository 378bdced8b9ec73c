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
