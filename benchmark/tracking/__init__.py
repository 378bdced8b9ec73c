"""MLflow as a view of ``results/``: an idempotent sync keyed by each submission's results digest.

``benchmark track`` calls :func:`sync_results` on every ``dvc repro`` (an ``always_changed``
stage): nothing is ever logged from inside the evaluation stages, which DVC may skip. The modules:

* :mod:`.sync`: :func:`sync_results` (the run layout and the crash-safety rules) and :func:`current_runs`.
* :mod:`.sync_plan`: what a sync must create, keep, supersede, retire or delete (pure).
* :mod:`.run_mapping`: one ``metrics.json`` as the params, metrics and tags of a run (pure).
* :mod:`.store_query`: the read-only SQLite query that answers "nothing changed" without MLflow.
* :mod:`.tags`: the ``benchmark.*`` tag names.
* :mod:`.server`: :func:`serve_command` and :func:`running_server`, the light UI server.

Importing this package does not import MLflow; a sync that finds nothing to do never does.
"""

from benchmark.tracking.run_mapping import RUN_SETTING_KEYS, run_payload
from benchmark.tracking.server import SERVER_ENV, ServerHandle, running_server, serve_command
from benchmark.tracking.sync import (
    CURRENT_RUNS_FILTER,
    SAVED_VIEW_ID,
    UI_FILTER,
    SyncError,
    SyncReport,
    current_runs,
    experiment_name,
    sync_results,
    ui_path,
)
from benchmark.tracking.tags import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    TAG_CURRENT,
    TAG_DIGEST,
    TAG_FAILURE,
    TAG_FAMILY,
    TAG_OVERALL_RANK,
    TAG_RANK_CI,
    TAG_REMOVED,
    TAG_SANITY,
    TAG_STATUS,
    TAG_SUBMISSION,
    TAG_SUPERSEDED,
    TAG_SUPERSEDED_BY,
    TAG_VERSION,
)

__all__ = [
    "CURRENT_RUNS_FILTER",
    "EXPERIMENT_KIND",
    "EXPERIMENT_KIND_TAG",
    "SAVED_VIEW_ID",
    "UI_FILTER",
    "RUN_SETTING_KEYS",
    "SERVER_ENV",
    "ServerHandle",
    "SyncError",
    "SyncReport",
    "TAG_CURRENT",
    "TAG_DIGEST",
    "TAG_FAILURE",
    "TAG_FAMILY",
    "TAG_OVERALL_RANK",
    "TAG_RANK_CI",
    "TAG_REMOVED",
    "TAG_SANITY",
    "TAG_STATUS",
    "TAG_SUBMISSION",
    "TAG_SUPERSEDED",
    "TAG_SUPERSEDED_BY",
    "TAG_VERSION",
    "current_runs",
    "experiment_name",
    "run_payload",
    "running_server",
    "serve_command",
    "sync_results",
    "ui_path",
]
