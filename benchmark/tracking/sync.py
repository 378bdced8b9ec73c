"""Sync ``results/`` into MLflow: one run per submission, keyed by the results' digest.

DVC skips a stage whose inputs it has seen, so nothing may be logged from inside a stage. MLflow
is instead a *view* of the results folder, rebuilt by a step that always runs and is idempotent:

* one experiment per benchmark version, ``<experiment>/v<version>``, with its artifacts under
  ``<artifact_root>/<experiment>_v<version>/`` (never MLflow's default ``./mlruns``);
* one run per submission, named after it and tagged ``benchmark.submission`` and
  ``benchmark.results_digest`` (:func:`benchmark.results.results_digest` of its folder);
* a run whose submission and digest are already current is left alone; changed results become a
  new run, and the old run is kept, tagged ``benchmark.current=false``,
  ``benchmark.superseded=true`` and ``benchmark.superseded_by=<new run id>`` and renamed
  ``<name> (superseded)``; the current run of a submission whose results folder is gone (or, given
  ``submissions_root``, whose submission folder is gone) is tagged ``benchmark.current=false``,
  ``benchmark.removed=true`` and renamed ``<name> (removed)``. :data:`CURRENT_RUNS_FILTER` selects exactly
  one run per submission (in the UI's search box: :data:`UI_FILTER`);
* what derives from all results together is logged on the current runs and kept up to date: the overall
  rank and its 95% interval (as on the page) and the randomisation check's verdict (tags
  ``benchmark.overall_rank``, ``benchmark.overall_rank_ci``, ``benchmark.sanity``; metrics ``overall_rank``,
  ``overall_rank.ci_low``/``ci_high``, ``sanity.spearman``); the mean deletion and insertion curves are
  metric histories (``curve.deletion``, ``curve.insertion``, step = percent of voxels removed or restored),
  which MLflow's charts plot;
* the experiment is tagged ``mlflow.experimentKind = custom_model_development``, so the UI opens on its runs
  table (not on the GenAI overview), and ``benchmark.view_key``: a hash of the digests, sanity records and
  groups, which lets a sync with nothing to do return without importing MLflow.

Crash safety: a run is created, filled (params, metrics, tags, artifacts), and only then tagged
with its digest and ``benchmark.current=true`` and set ``FINISHED``. A sync trusts only runs that
are both finished and digest-tagged; any other run of a submission (a sync killed mid-way) is
deleted by the next sync, so a crash never leaves a duplicate. Runs without the
``benchmark.submission`` tag (logged by hand) are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.results import PLOTS_DIR, ResultsError, read_result, results_digest
from benchmark.tracking.run_mapping import RunPayload, mlflow_key, run_payload
from benchmark.tracking.store_query import absolute_uri, read_experiment_tags, read_runs, sqlite_path
from benchmark.tracking.sync_plan import FINISHED, RunState, SyncPlan, plan_sync
from benchmark.tracking.tags import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    RUN_NAME_SUFFIX,
    TAG_CURRENT,
    TAG_DIGEST,
    TAG_OVERALL_RANK,
    TAG_RANK_CI,
    TAG_REMOVED,
    TAG_SANITY,
    TAG_SUBMISSION,
    TAG_SUPERSEDED,
    TAG_SUPERSEDED_BY,
    TAG_VERSION,
    TAG_VIEW_KEY,
)

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

CURRENT_RUNS_FILTER = f"attributes.status = '{FINISHED}' and tags.`{TAG_CURRENT}` = 'true'"
"""``search_runs`` filter for the current run of every submission (exactly one each after a sync)."""
UI_FILTER = f"tags.`{TAG_CURRENT}` = 'true'"
"""What to type in the MLflow UI's search box to hide superseded and removed runs."""
SAVED_VIEW_ID = "benchmark-leaderboard"
"""The saved view of the runs table this sync keeps on the experiment (MLflow 3.17 keeps saved views as
experiment tags ``mlflow.sharedViewState.<id>``; the UI lists them under *Views* and opens one from the URL
parameter ``viewStateShareKey``)."""
SAVED_VIEW_TAG = f"mlflow.sharedViewState.{SAVED_VIEW_ID}"
VIEW_COLUMNS: tuple[str, ...] = (
    "metrics.`overall_rank`",
    f"tags.`{TAG_RANK_CI}`",
    f"tags.`{TAG_SANITY}`",
    *(f"metrics.`{m}`" for m in ("clip_iou", "clip_f1", "clip_auc", "frame_iou", "frame_f1", "frame_auc",
                                  "deletion", "insertion", "mauc", "stdauc", "cv")),
    "metrics.`cost.runtime_median_s`",
    "tags.`benchmark.status`",
)
"""The saved view's columns: the rank, its interval and the sanity verdict, then the scores and the runtime."""
VIEW_KEY_VERSION = "2"
"""Bumped when what :func:`run_extras` derives changes, so that every store refreshes once."""
CURVE_KINDS = ("deletion", "insertion")

_BATCH_PARAMS_TAGS = 100  # MLflow's per-call limits for log_batch
_BATCH_METRICS = 1000


class SyncError(RuntimeError):
    """The MLflow sync could not complete; the message says what failed and how to fix it."""


@dataclass(frozen=True)
class SyncReport:
    """What one :func:`sync_results` call did.

    Attributes:
        experiment_name: ``<experiment>/v<version>``.
        experiment_id: its MLflow id.
        current: ``{submission: run id}`` of every submission's current run after the sync.
        created: submissions that got a new run.
        unchanged: submissions whose current run already held these results.
        superseded: run ids retired because their submission's results changed.
        removed: run ids retired because their submission's results folder is gone.
        deleted: run ids of incomplete runs (left by an interrupted sync) that were deleted.
        fast_path: ``True`` when a read-only look at the SQLite file showed nothing to do and
            MLflow was not imported.
        seconds: wall time of the call.
    """

    experiment_name: str
    experiment_id: str
    current: Mapping[str, str] = field(default_factory=dict)
    created: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    superseded: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    refreshed: tuple[str, ...] = ()
    fast_path: bool = False
    seconds: float = 0.0

    @property
    def ui_path(self) -> str:
        """The leaderboard view in the UI (:func:`ui_path`), to append to the server's address."""
        return ui_path(self.experiment_id)

    def summary(self) -> str:
        """One line for the console."""
        return (
            f"MLflow experiment '{self.experiment_name}' (id {self.experiment_id}): "
            f"{len(self.created)} new run(s), {len(self.unchanged)} unchanged, "
            f"{len(self.superseded)} superseded, {len(self.removed)} removed, "
            f"{len(self.refreshed)} rank/verdict updated, "
            f"{len(self.deleted)} incomplete deleted in {self.seconds:.2f} s"
            + (" (no change; store read directly)" if self.fast_path else "")
        )


def experiment_name(experiment: str, benchmark_version: str) -> str:
    """The experiment that holds one benchmark version: ``f"{experiment}/v{benchmark_version}"``."""
    return f"{experiment}/v{benchmark_version}"


def _import_mlflow() -> Any:
    """Import MLflow with its telemetry off (it must be set before the first import)."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    import mlflow  # noqa: PLC0415  (deliberately lazy: ~1 s, skipped when nothing changed)

    return mlflow


def _check_args(results_root: Path, tracking_uri: str, experiment: str, benchmark_version: str) -> None:
    if not results_root.is_dir():
        raise ValueError(
            f"results_root={str(results_root)!r}: not a folder. Run from the repository root after "
            "`dvc repro` has written results/, or pass the results folder."
        )
    if sqlite_path(tracking_uri) is None:
        raise ValueError(
            f"tracking_uri={tracking_uri!r}: only a SQLite store is supported; use "
            "'sqlite:///mlflow.db' (relative to the current folder) or 'sqlite:////abs/path.db' "
            "(params.yaml: tracking.uri)."
        )
    if not experiment or not str(benchmark_version):
        raise ValueError(
            "experiment and benchmark_version must be non-empty strings (params.yaml: tracking.*)."
        )


def _result_folders(results_root: Path, submissions_root: Path | None = None) -> dict[str, Path]:
    """Every complete result folder, as :func:`benchmark.results.load_results` sees them; given
    ``submissions_root`` (and it exists), only those whose submission folder still exists."""
    folders = {p.name: p for p in sorted(results_root.iterdir()) if p.is_dir() and not p.name.startswith(".")}
    if submissions_root is not None and Path(submissions_root).is_dir():
        folders = {n: f for n, f in folders.items() if (Path(submissions_root) / n / "submission.yaml").is_file()}
    return folders


def saved_view() -> str:
    """The saved view's tag value: MLflow 3.17's envelope ``{name, createdAt, updatedAt, state}`` around the
    runs table's state (the current runs only, sorted by overall rank, the scores as columns)."""
    state = {
        "searchFilter": UI_FILTER,
        "orderByKey": "metrics.`overall_rank`",
        "orderByAsc": True,
        "lifecycleFilter": "Active",
        "selectedColumns": list(VIEW_COLUMNS),
    }
    stamp = 1_735_689_600_000  # fixed, so that the tag only changes when the view does
    return json.dumps({"name": "Leaderboard (current runs, by overall rank)", "createdAt": stamp,
                       "updatedAt": stamp, "state": json.dumps(state)})


def ui_path(experiment_id: str) -> str:
    """Where the UI shows the leaderboard view: append it to the server's address.

    MLflow 3.17's UI follows a global GenAI / Model-training switch (``workflowType``, default GenAI) ahead of
    the experiment's kind tag, so the path sets it explicitly, and opens the saved view.
    """
    return f"/#/experiments/{experiment_id}/runs?workflowType=machine_learning&viewStateShareKey={SAVED_VIEW_ID}"


def view_key(digests: Mapping[str, str], sanity_root: Path | None, submissions_root: Path | None) -> str:
    """A hash of everything :func:`run_extras` reads: the results' digests, the sanity records and the
    submissions' yaml (their group), and of the saved view, so that an unchanged key means nothing to refresh."""
    h = hashlib.sha256(f"v{VIEW_KEY_VERSION}\0{saved_view()}\0".encode())
    h.update(json.dumps(sorted(digests.items())).encode())
    for root, pattern in ((sanity_root, "*/sanity.json"), (submissions_root, "*/submission.yaml")):
        if root is not None and Path(root).is_dir():
            for f in sorted(Path(root).glob(pattern)):
                if f.parent.name in digests:
                    h.update(f"{f.parent.name}/{f.name}\0".encode() + f.read_bytes() + b"\0")
    return h.hexdigest()


def run_extras(
    folders: Mapping[str, Path], sanity_root: Path | None, submissions_root: Path | None
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, float]]]:
    """What each run carries that derives from all results together: ``({sub: tags}, {sub: metrics})``.

    The overall rank and its interval are computed as the leaderboard computes them
    (:func:`benchmark.leaderboard.ranking.compute_standings`, controls unranked); the sanity verdict comes
    from ``sanity/<name>/sanity.json``. Unreadable results get no rank (their sync reports the error).
    """
    from benchmark.leaderboard.ranking import compute_standings
    from benchmark.leaderboard.render import default_metrics, submission_groups
    from benchmark.results.sanity import load_sanity

    results = []
    for folder in folders.values():
        try:
            results.append(read_result(folder))
        except (ResultsError, ValueError, OSError):
            continue
    groups = submission_groups(results, submissions_root)
    ok = [r for r in results if r.ok]
    standings = None
    if ok:
        standings = compute_standings(
            ok, default_metrics(), lambda a, b: False, controls=[n for n, g in groups.items() if g == "control"]
        )
    try:
        records = load_sanity(Path(sanity_root), names=list(folders)) if sanity_root is not None else {}
    except ValueError:
        records = {}
    tags: dict[str, dict[str, str]] = {}
    metrics: dict[str, dict[str, float]] = {}
    for name in folders:
        rank = standings.overall_rank.get(name) if standings else None
        interval = standings.rank_interval.get(name) if standings else None
        record = records.get(name)
        if record is None:
            verdict = "not run"
        elif record.get("status") != "ok":
            verdict = "failed"
        else:
            verdict = str(record.get("verdict"))
        tags[name] = {
            TAG_OVERALL_RANK: str(rank) if rank is not None else ("control" if groups.get(name) == "control" else ""),
            TAG_RANK_CI: f"{interval[0]}-{interval[1]}" if interval else "",
            TAG_SANITY: verdict,
        }
        m: dict[str, float] = {}
        if rank is not None:
            m["overall_rank"] = float(rank)
        if interval:
            m["overall_rank.ci_low"], m["overall_rank.ci_high"] = float(interval[0]), float(interval[1])
        try:
            m["sanity.spearman"] = float(record["full"]["spearman"]["mean"]) if verdict in ("pass", "fail",
                                                                                            "inconclusive") else None
        except (KeyError, TypeError, ValueError):
            pass
        metrics[name] = {k: v for k, v in m.items() if v is not None}
    return tags, metrics


def curve_histories(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """``{curve.<kind>: [(percent of voxels, p), ...]}`` from ``plots/<kind>.csv`` (empty when absent)."""
    import csv

    out: dict[str, list[tuple[int, float]]] = {}
    for kind in CURVE_KINDS:
        path = folder / PLOTS_DIR / f"{kind}.csv"
        if not path.is_file():
            continue
        points = []
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    x, y = float(row["fraction"]), float(row["p_anomalous"])
                except (KeyError, TypeError, ValueError):
                    continue
                if x == x and y == y and abs(y) != float("inf"):
                    points.append((int(round(100 * x)), y))
        if points:
            out[f"curve.{kind}"] = points
    return out


def sync_results(
    results_root: Path,
    *,
    tracking_uri: str = "sqlite:///mlflow.db",
    artifact_root: Path = Path("mlartifacts"),
    experiment: str = "video-xai-benchmark",
    benchmark_version: str,
    sanity_root: Path | None = None,
    submissions_root: Path | None = None,
) -> SyncReport:
    """Make the MLflow store show exactly the results under ``results_root``, idempotently.

    Args:
        results_root: the ``results/`` folder (one sub-folder per submission).
        tracking_uri: a SQLite store, ``sqlite:///<path>`` (a relative path is relative to the
            current folder). Created on first use.
        artifact_root: folder under which each experiment's artifacts are written (resolved
            against the current folder).
        experiment: base experiment name; the version is appended.
        benchmark_version: the benchmark's version, e.g. ``benchmark.__version__``.
        sanity_root: the ``sanity/`` folder (the verdicts logged on the runs); ``None``: "not run".
        submissions_root: the ``submissions/`` folder: results whose submission folder is gone are
            retired as removed, and results written before ``metrics.json: group`` existed take their
            group (a control is not ranked) from the submission's yaml.

    Returns:
        A :class:`SyncReport`.

    Raises:
        ValueError: an argument is unusable (message names it and the fix).
        SyncError: the store could not be opened, or some submissions could not be synced (the
            others were synced; re-running after the fix resumes without duplicates).
    """
    start = time.perf_counter()
    results_root, artifact_root = Path(results_root), Path(artifact_root)
    _check_args(results_root, tracking_uri, experiment, benchmark_version)
    tracking_uri = absolute_uri(tracking_uri)
    name = experiment_name(experiment, str(benchmark_version))
    folders = _result_folders(results_root, submissions_root)
    digests = {sub: results_digest(folder) for sub, folder in folders.items()}
    key = view_key(digests, sanity_root, submissions_root)

    seen = read_runs(tracking_uri, name)
    if seen is not None:
        exp_id, runs = seen
        plan = plan_sync(digests, runs)
        exp_tags = read_experiment_tags(tracking_uri, name) or {}
        if plan.is_noop and exp_tags.get(TAG_VIEW_KEY) == key and exp_tags.get(EXPERIMENT_KIND_TAG) == EXPERIMENT_KIND:
            return SyncReport(
                name,
                exp_id,
                current=_current_ids(runs),
                unchanged=tuple(plan.unchanged),
                fast_path=True,
                seconds=time.perf_counter() - start,
            )

    extra_tags, extra_metrics = run_extras(folders, sanity_root, submissions_root)
    client, exp_id = _open_store(tracking_uri, name, artifact_root, str(benchmark_version))
    try:
        runs = _active_runs(client, exp_id)
    except Exception as exc:
        raise SyncError(f"MLflow store {tracking_uri}: could not list the runs of '{name}' ({exc}).") from exc
    plan = plan_sync(digests, runs, extra_tags)
    try:
        created, errors = _apply(client, exp_id, plan, folders, digests, str(benchmark_version), extra_tags,
                                 extra_metrics)
        if not errors:
            client.set_experiment_tag(exp_id, TAG_VIEW_KEY, key)
        current = _current_ids(_active_runs(client, exp_id))
    except Exception as exc:
        raise SyncError(
            f"MLflow store {tracking_uri}: sync of '{name}' stopped ({type(exc).__name__}: {exc}). "
            "Re-run `benchmark track`; nothing is duplicated."
        ) from exc
    report = SyncReport(
        name,
        exp_id,
        current=current,
        created=tuple(sorted(created)),
        unchanged=tuple(plan.unchanged),
        superseded=tuple(r for r, sub in plan.supersede.items() if sub not in errors),
        removed=tuple(plan.remove),
        deleted=tuple(plan.delete),
        refreshed=tuple(sorted(plan.refresh.values())),
        seconds=time.perf_counter() - start,
    )
    if errors:
        lines = "\n".join(f"  - {sub}: {msg}" for sub, msg in sorted(errors.items()))
        raise SyncError(
            f"MLflow sync of '{name}' failed for {len(errors)} submission(s):\n{lines}\n"
            f"The other submissions were synced ({report.summary()}). Fix the above and re-run "
            "`benchmark track`: a partial run is replaced, never duplicated."
        )
    return report


def _current_ids(runs: list[RunState]) -> dict[str, str]:
    current: dict[str, RunState] = {}
    for run in runs:
        sub = run.submission
        if sub is not None and run.current:
            if sub not in current or (run.start_time, run.run_id) > (
                current[sub].start_time,
                current[sub].run_id,
            ):
                current[sub] = run
    return {sub: run.run_id for sub, run in sorted(current.items())}


def _ensure_store(tracking_uri: str) -> None:
    """Create a missing SQLite store atomically.

    MLflow builds a new store's schema in many steps; a process killed half-way leaves a database
    that no later run can open ("table ... already exists"). So a new store is built in a temporary
    file beside the target and renamed into place only once its schema is complete.
    """
    db = sqlite_path(tracking_uri)
    if db is None or db.exists():
        return
    mlflow = _import_mlflow()
    db.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=db.parent, prefix=f".{db.name}.", suffix=".creating")
    os.close(fd)
    os.unlink(tmp)  # MLflow must create the file itself
    try:
        mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{tmp}").search_experiments(max_results=1)
        os.replace(tmp, db)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _open_store(tracking_uri: str, name: str, artifact_root: Path, version: str) -> tuple[MlflowClient, str]:
    """A client on the store and the id of the version's experiment (created on first use)."""
    mlflow = _import_mlflow()
    try:
        _ensure_store(tracking_uri)
        client = mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
        exp = client.get_experiment_by_name(name)
        if exp is None:
            location = artifact_root.resolve() / mlflow_key(name.replace("/", "_"))
            exp_id = client.create_experiment(
                name,
                artifact_location=location.as_uri(),
                tags={TAG_VERSION: version, EXPERIMENT_KIND_TAG: EXPERIMENT_KIND, SAVED_VIEW_TAG: saved_view()},
            )
            return client, str(exp_id)
    except Exception as exc:
        raise SyncError(
            f"MLflow store {tracking_uri}: could not open experiment '{name}' ({type(exc).__name__}: {exc}). "
            "Check that the database file is writable and not held by another process."
        ) from exc
    if exp.lifecycle_stage != "active":
        raise SyncError(
            f"MLflow store {tracking_uri}: experiment '{name}' (id {exp.experiment_id}) is deleted. "
            f"Restore it (`MLFLOW_TRACKING_URI={tracking_uri} mlflow experiments restore --experiment-id "
            f"{exp.experiment_id}`) or purge it (`mlflow gc --backend-store-uri {tracking_uri}`), "
            "then re-run."
        )
    if exp.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:  # made before the tag existed, or inferred by the UI
        client.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    if exp.tags.get(SAVED_VIEW_TAG) != saved_view():
        client.set_experiment_tag(exp.experiment_id, SAVED_VIEW_TAG, saved_view())
    return client, str(exp.experiment_id)


def _active_runs(client: MlflowClient, exp_id: str) -> list[RunState]:
    from mlflow.entities import ViewType  # noqa: PLC0415

    out: list[RunState] = []
    token = None
    while True:
        page = client.search_runs(
            [exp_id], run_view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
        )
        out.extend(
            RunState(r.info.run_id, r.info.status, int(r.info.start_time or 0), dict(r.data.tags))
            for r in page
        )
        token = page.token
        if not token:
            return out


def _apply(
    client: MlflowClient,
    exp_id: str,
    plan: SyncPlan,
    folders: Mapping[str, Path],
    digests: Mapping[str, str],
    version: str,
    extra_tags: Mapping[str, Mapping[str, str]] | None = None,
    extra_metrics: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Carry out ``plan``; returns ``({submission: new run id}, {submission: error message})``."""
    extra_tags, extra_metrics = extra_tags or {}, extra_metrics or {}
    for run_id in plan.delete:
        client.delete_run(run_id)
    created: dict[str, str] = {}
    errors: dict[str, str] = {}
    for sub in plan.create:
        try:
            created[sub] = _log_submission(client, exp_id, sub, folders[sub], digests[sub], version,
                                           extra_tags.get(sub, {}), extra_metrics.get(sub, {}))
        except Exception as exc:  # one bad submission must not block the others
            errors[sub] = f"{type(exc).__name__}: {exc}"
    keep = {**plan.keep, **created}
    for run_id, sub in plan.refresh.items():
        _log_extras(client, run_id, extra_tags.get(sub, {}), extra_metrics.get(sub, {}))
    for run_id, sub in plan.supersede.items():
        if sub in errors:
            continue  # its old run stays current until the new one can be made
        new = keep.get(sub, "a newer run")
        _retire(client, run_id, sub, "superseded", {TAG_SUPERSEDED: "true", TAG_SUPERSEDED_BY: new},
                f"Superseded by run {new}: its results changed. Hidden by the search {UI_FILTER}.")
    for run_id, sub in plan.remove.items():
        _retire(client, run_id, sub, "removed", {TAG_REMOVED: "true"},
                f"Removed: results/{sub} or submissions/{sub} no longer exists. Hidden by the search {UI_FILTER}.")
    return created, errors


def _retire(client: MlflowClient, run_id: str, sub: str, why: str, tags: Mapping[str, str], note: str) -> None:
    """Mark a run retired: ``benchmark.current=false``, ``tags``, a note, and its name suffixed (visible in the
    runs table)."""
    from mlflow.entities import RunTag  # noqa: PLC0415

    client.log_batch(run_id, tags=[RunTag(TAG_CURRENT, "false"), RunTag("mlflow.note.content", note),
                                   *(RunTag(k, v) for k, v in tags.items())])
    client.update_run(run_id, name=f"{sub}{RUN_NAME_SUFFIX[why]}")


def _log_extras(client: MlflowClient, run_id: str, tags: Mapping[str, str], metrics: Mapping[str, float]) -> None:
    """Update a run's derived tags and metrics (a metric is logged again, at a later time, at step 0)."""
    from mlflow.entities import Metric, RunTag  # noqa: PLC0415

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in sorted(metrics.items())],
        tags=[RunTag(k, v) for k, v in sorted(tags.items())],
    )


def _log_submission(
    client: MlflowClient,
    exp_id: str,
    sub: str,
    folder: Path,
    digest: str,
    version: str,
    extra_tags: Mapping[str, str] | None = None,
    extra_metrics: Mapping[str, float] | None = None,
) -> str:
    """Create, fill and only then finish one submission's run; returns its id.

    An ``Exception`` on the way deletes the partial run; anything harsher (a kill) leaves it
    unfinished and without its digest, and the next sync deletes it.
    """
    result = read_result(folder)
    payload = run_payload(result.summary)
    run_id = client.create_run(
        exp_id, run_name=sub, tags={TAG_SUBMISSION: sub, TAG_VERSION: version}
    ).info.run_id
    from mlflow.entities import RunTag  # noqa: PLC0415

    try:
        _log_payload(client, run_id, payload)
        _log_curves(client, run_id, curve_histories(folder))
        if extra_tags or extra_metrics:
            _log_extras(client, run_id, extra_tags or {}, extra_metrics or {})
        client.log_artifacts(run_id, str(folder))
        if results_digest(folder) != digest:
            raise SyncError(f"{folder} changed while it was being synced; re-run `benchmark track`.")
        client.log_batch(run_id, tags=[RunTag(TAG_DIGEST, digest), RunTag(TAG_CURRENT, "true")])
        client.set_terminated(run_id, FINISHED)
    except Exception:
        try:
            client.delete_run(run_id)
        except Exception:  # the next sync deletes it instead
            pass
        raise
    return run_id


def _log_payload(client: MlflowClient, run_id: str, payload: RunPayload) -> None:
    from mlflow.entities import Metric, Param, RunTag  # noqa: PLC0415

    now = int(time.time() * 1000)
    params = [Param(k, v) for k, v in sorted(payload.params.items())]
    tags = [RunTag(k, v) for k, v in sorted(payload.tags.items())]
    metrics = [Metric(k, v, now, 0) for k, v in sorted(payload.metrics.items())]
    for i in range(0, len(params), _BATCH_PARAMS_TAGS):
        client.log_batch(run_id, params=params[i : i + _BATCH_PARAMS_TAGS])
    for i in range(0, len(tags), _BATCH_PARAMS_TAGS):
        client.log_batch(run_id, tags=tags[i : i + _BATCH_PARAMS_TAGS])
    for i in range(0, len(metrics), _BATCH_METRICS):
        client.log_batch(run_id, metrics=metrics[i : i + _BATCH_METRICS])


def _log_curves(client: MlflowClient, run_id: str, histories: Mapping[str, list[tuple[int, float]]]) -> None:
    """Each curve as a metric history, step = percent of voxels (MLflow's charts plot it against the step)."""
    from mlflow.entities import Metric  # noqa: PLC0415

    now = int(time.time() * 1000)
    metrics = [Metric(key, y, now, step) for key, points in sorted(histories.items()) for step, y in points]
    for i in range(0, len(metrics), _BATCH_METRICS):
        client.log_batch(run_id, metrics=metrics[i : i + _BATCH_METRICS])


def current_runs(
    tracking_uri: str = "sqlite:///mlflow.db",
    *,
    experiment: str = "video-xai-benchmark",
    benchmark_version: str,
) -> list[Any]:
    """The current ``mlflow.entities.Run`` of every synced submission (one each), sorted by name.

    Empty when the version's experiment does not exist yet.
    """
    mlflow = _import_mlflow()
    client = mlflow.tracking.MlflowClient(tracking_uri=absolute_uri(tracking_uri))
    exp = client.get_experiment_by_name(experiment_name(experiment, str(benchmark_version)))
    if exp is None:
        return []
    runs = client.search_runs([exp.experiment_id], filter_string=CURRENT_RUNS_FILTER, max_results=1000)
    return sorted(runs, key=lambda r: (r.data.tags.get(TAG_SUBMISSION, ""), r.info.start_time))
