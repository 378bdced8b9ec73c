"""MLflow as a view of ``results/``: an idempotent sync keyed by each submission's results digest.

``benchmark track`` calls :func:`sync_results` on every ``dvc repro`` (an ``always_changed``
stage): nothing is ever logged from inside the evaluation stages, which DVC may skip. See
:mod:`benchmark.tracking.sync` for the run layout and the crash-safety rules, and
:func:`serve_command` for the light UI server.

Importing this package does not import MLflow; a sync that finds nothing to do never does.
"""

from benchmark.tracking._payload import RUN_SETTING_KEYS, TAG_FAILURE, TAG_FAMILY, TAG_STATUS, run_payload
from benchmark.tracking._plan import (
    TAG_CURRENT,
    TAG_DIGEST,
    TAG_REMOVED,
    TAG_SUBMISSION,
    TAG_SUPERSEDED,
    TAG_SUPERSEDED_BY,
    TAG_VERSION,
)
from benchmark.tracking.server import SERVER_ENV, ServerHandle, running_server, serve_command
from benchmark.tracking.sync import (
    CURRENT_RUNS_FILTER,
    SyncError,
    SyncReport,
    current_runs,
    experiment_name,
    sync_results,
)

__all__ = [
    "CURRENT_RUNS_FILTER",
    "RUN_SETTING_KEYS",
    "SERVER_ENV",
    "ServerHandle",
    "SyncError",
    "SyncReport",
    "TAG_CURRENT",
    "TAG_DIGEST",
    "TAG_FAILURE",
    "TAG_FAMILY",
    "TAG_REMOVED",
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
]
