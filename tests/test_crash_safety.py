"""kill -9 at any point loses nothing: no partial result is readable, and a re-run gives identical scores.

The stage runs as the real command (`benchmark evaluate`, `benchmark track`) in a subprocess that is
killed with SIGKILL while it works.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from benchmark.atomic import atomic_dir
from benchmark.atomic import atomic_write_json as write_json
from benchmark.results import PER_CLIP_COLUMNS, load_results

BENCH = [sys.executable, "-m", "benchmark.cli"]
ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONUNBUFFERED": "1"}


def _cli(base: Path, *args: str) -> list[str]:
    return [*BENCH, "--root", str(base), "--params", str(base / "params.yaml"), *args]


def _run_and_kill(cmd: list[str], cwd: Path, marker: str, delay_s: float) -> None:
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if marker in line or time.monotonic() > deadline:
            break
    time.sleep(delay_s)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


@pytest.fixture(scope="module")
def ws(tmp_path_factory, make_workspace):
    base = tmp_path_factory.mktemp("crash")
    make_workspace(base, names=("guided_backprop",))
    params = yaml.safe_load((base / "params.yaml").read_text())
    params["tracking"].update(uri=f"sqlite:///{base / 'mlflow.db'}", artifact_root=str(base / "mlartifacts"))
    (base / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(_cli(base, "evaluate", "guided_backprop"), cwd=base, env=ENV, check=True, capture_output=True)
    reference = pd.read_csv(base / "results" / "guided_backprop" / "per_clip.csv")
    return base, reference


@pytest.mark.parametrize("delay_s", [0.0, 1.5])
def test_killed_evaluation_leaves_no_partial_result_and_reruns_identically(ws, delay_s):
    base, reference = ws
    shutil.rmtree(base / "results" / "guided_backprop")
    _run_and_kill(_cli(base, "evaluate", "guided_backprop"), base, "explaining", delay_s)
    assert [r.name for r in load_results(base / "results")] == [], "nothing readable after the kill"
    subprocess.run(_cli(base, "evaluate", "guided_backprop"), cwd=base, env=ENV, check=True, capture_output=True)
    again = pd.read_csv(base / "results" / "guided_backprop" / "per_clip.csv")
    cols = [c for c in PER_CLIP_COLUMNS if c != "runtime_s"]
    pd.testing.assert_frame_equal(reference[cols], again[cols])
    assert not list((base / "results").glob(".tmp-*")), "stale temporary folders are cleaned up"


def test_kill_while_replacing_keeps_the_previous_result(ws):
    base, _ = ws
    final = base / "results" / "guided_backprop"
    before = (final / "metrics.json").read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(final) as tmp:
            write_json(tmp / "metrics.json", {"schema": 1, "status": "ok"})
            raise KeyboardInterrupt  # interrupted before the swap
    assert (final / "metrics.json").read_bytes() == before


def test_killed_mlflow_sync_leaves_one_current_run_per_submission(ws):
    from benchmark import __version__
    from benchmark.tracking import current_runs

    base, _ = ws
    for delay in (0.0, 0.5, 2.0):
        _run_and_kill(_cli(base, "track"), base, "", delay)
    done = subprocess.run(_cli(base, "track"), cwd=base, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    again = subprocess.run(_cli(base, "track"), cwd=base, env=ENV, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    runs = current_runs(f"sqlite:///{base / 'mlflow.db'}", experiment="video-xai-benchmark",
                        benchmark_version=__version__)
    assert sorted(r.info.run_name for r in runs) == ["guided_backprop"]
