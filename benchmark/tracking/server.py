"""The light MLflow UI server: its command line, and a context manager that runs it and stops it.

Plain ``mlflow ui`` starts about 16 processes (~2.6 GB) and leaves job workers behind on SIGTERM.
With job execution off and one worker, ``mlflow server`` starts in a few seconds as two processes
(~0.5 GB) and stops cleanly when its process group is terminated.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_ENV: dict[str, str] = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}
"""Environment of the light server: no job-runner processes, no telemetry."""


@dataclass(frozen=True)
class ServerHandle:
    """A running server: its base URL and the id of its process group (the leader's pid)."""

    url: str
    pgid: int


def serve_command(tracking_uri: str, artifact_root: Path, port: int, *, host: str = "127.0.0.1") -> list[str]:
    """The recommended server command line, environment included: ``env VAR=... python -m mlflow server ...``.

    Args:
        tracking_uri: the store, e.g. ``sqlite:///mlflow.db`` (params.yaml: ``tracking.uri``).
        artifact_root: default artifact folder for experiments made in the UI (the benchmark's own
            experiments carry their artifact location already).
        port: TCP port (1-65535).
        host: interface to bind; keep the loopback default unless you mean to share the UI.
    """
    if not 0 < int(port) < 65536:
        raise ValueError(f"port={port!r}: expected an integer in 1..65535.")
    env = [f"{k}={v}" for k, v in SERVER_ENV.items()]
    return [
        "env",
        *env,
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--workers",
        "1",
        "--backend-store-uri",
        tracking_uri,
        "--default-artifact-root",
        str(artifact_root),
        "--host",
        host,
        "--port",
        str(int(port)),
    ]


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid`` (Linux ``/proc``; else a signal probe)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _stop_group(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    for sig, wait in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
            if proc.poll() is not None and not group_members(pgid):
                return


@contextlib.contextmanager
def running_server(
    tracking_uri: str,
    artifact_root: Path,
    *,
    port: int | None = None,
    startup_timeout_s: float = 60.0,
    stop_timeout_s: float = 15.0,
) -> Iterator[ServerHandle]:
    """Run the light server (:func:`serve_command`) in its own process group; yields its handle.

    Waits for ``/health``; on exit terminates the whole group (SIGTERM, then SIGKILL) and waits
    until no member is left. Raises ``RuntimeError`` with the server's log if it does not start.
    """
    port = free_port() if port is None else port
    cmd = serve_command(tracking_uri, artifact_root, port)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + startup_timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"mlflow server exited with {proc.returncode}:\n{_tail(log)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mlflow server not healthy after {startup_timeout_s:.0f} s:\n{_tail(log)}"
                    )
                try:
                    with urllib.request.urlopen(f"{base}/health", timeout=2) as resp:  # noqa: S310
                        if resp.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                time.sleep(0.25)
            yield ServerHandle(base, proc.pid)
        finally:
            _stop_group(proc, stop_timeout_s)


def _tail(log: Any, n: int = 4000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-n:]
