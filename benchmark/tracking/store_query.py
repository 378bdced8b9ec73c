"""A read-only query of MLflow's SQLite store, to answer "nothing changed" without importing MLflow.

Importing MLflow and opening its store costs about 2 s; reading three tables with :mod:`sqlite3`
costs milliseconds. The answer is computed from the store itself (never from a side index), and
anything unexpected (no file, a schema this code does not know, several experiments of that
name, a locked database) returns ``None``, which sends the caller down the full MLflow path.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote

from benchmark.tracking.sync_plan import RunState

_SQLITE_PREFIX = "sqlite:///"


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URI, else ``None``."""
    if not tracking_uri.startswith(_SQLITE_PREFIX) or "?" in tracking_uri:
        return None
    rest = unquote(tracking_uri[len(_SQLITE_PREFIX) :])
    if rest in ("", ":memory:"):
        return None
    return Path(rest)


def absolute_uri(tracking_uri: str) -> str:
    """``sqlite:///<absolute path>``: MLflow caches its store per URI string, so a relative URI
    reused after a change of folder would silently reach the first folder's database."""
    db = sqlite_path(tracking_uri)
    return tracking_uri if db is None else f"{_SQLITE_PREFIX}{db.resolve()}"


def read_runs(tracking_uri: str, experiment_name: str) -> tuple[str, list[RunState]] | None:
    """``(experiment_id, active runs with their benchmark.* tags)`` of ``experiment_name``, or ``None``
    when unsure (no file, no such active experiment or several, an unknown schema, a locked database)."""
    db = sqlite_path(tracking_uri)
    if db is None or not db.is_file():
        return None
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        exps = con.execute(
            "SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?", (experiment_name,)
        ).fetchall()
        if len(exps) != 1 or exps[0][1] != "active":
            return None
        exp_id = exps[0][0]
        rows = con.execute(
            "SELECT run_uuid, status, start_time FROM runs "
            "WHERE experiment_id = ? AND lifecycle_stage = 'active'",
            (exp_id,),
        ).fetchall()
        tags: dict[str, dict[str, str]] = {r[0]: {} for r in rows}
        for run_id, key, value in con.execute(
            "SELECT t.run_uuid, t.key, t.value FROM tags t JOIN runs r ON t.run_uuid = r.run_uuid "
            "WHERE r.experiment_id = ? AND r.lifecycle_stage = 'active' AND t.key LIKE 'benchmark.%'",
            (exp_id,),
        ):
            if run_id in tags:
                tags[run_id][key] = value
    except sqlite3.Error:
        return None
    finally:
        con.close()
    runs = [RunState(r[0], str(r[1]), int(r[2] or 0), tags[r[0]]) for r in rows]
    return str(exp_id), runs


def read_experiment_tags(tracking_uri: str, experiment_name: str) -> dict[str, str] | None:
    """The tags of the active experiment ``experiment_name`` (read-only), or ``None`` when unsure."""
    db = sqlite_path(tracking_uri)
    if db is None or not db.is_file():
        return None
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        exps = con.execute(
            "SELECT experiment_id FROM experiments WHERE name = ? AND lifecycle_stage = 'active'", (experiment_name,)
        ).fetchall()
        if len(exps) != 1:
            return None
        rows = con.execute("SELECT key, value FROM experiment_tags WHERE experiment_id = ?", (exps[0][0],)).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return {str(k): str(v) for k, v in rows}
