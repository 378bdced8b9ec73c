"""The Ray backend: the same per-clip scores as the local one, failures of the right kind, nothing left behind,
and a two-node cluster on one machine where no unit reads the driver's files."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="the Ray backend is an optional extra: pip install '.[ray]'")

from benchmark.harness.backends import LocalBackend, select_backend  # noqa: E402
from benchmark.harness.evaluate import evaluate_submission  # noqa: E402
from benchmark.harness.inputs import load_eval_set  # noqa: E402
from benchmark.harness.ray_backend import RayBackend  # noqa: E402
from benchmark.harness.runspec import RunSpec  # noqa: E402
from benchmark.layout import RepoLayout  # noqa: E402
from benchmark.results import PER_CLIP_COLUMNS  # noqa: E402
from benchmark.settings import ConfigError  # noqa: E402

RAY = Path(sys.executable).with_name("ray")
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1", "RAY_AUTH_MODE": "disabled"}
# (a throw-away cluster on loopback; a real cluster shares its token with every node: see the README)
SCORES = [c for c in PER_CLIP_COLUMNS if c != "runtime_s"]


@pytest.fixture(scope="module")
def cluster():
    """One one-node cluster for the module: 2 CPUs, no dashboard, a small object store."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=96 * 2**20, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ws(tmp_path_factory, make_workspace):
    base = tmp_path_factory.mktemp("ray-ws")
    settings = make_workspace(base, names=("guided_backprop", "random"))
    return base, settings


def test_the_backend_is_chosen_by_the_environment():
    assert isinstance(select_backend(2, threads=1, environ={}), LocalBackend)
    assert select_backend(3, threads=1, environ={"BENCHMARK_BACKEND": "local"}).parallelism == 3
    with pytest.raises(ConfigError, match="BENCHMARK_BACKEND='spark'"):
        select_backend(2, threads=1, environ={"BENCHMARK_BACKEND": "spark"})


def test_scores_are_identical_to_the_local_backend(cluster, ws, tmp_path):
    base, settings = ws
    layout = RepoLayout(base)
    es = load_eval_set(settings, layout)
    frames, summaries = {}, {}
    for backend in (LocalBackend(2), RayBackend(address=None, threads=1)):
        for name in ("guided_backprop", "random"):
            out = evaluate_submission(name, settings, layout, eval_set=es, progress=False, backend=backend)
            frames[(backend.name, name)] = pd.read_csv(out / "per_clip.csv")
            summaries[(backend.name, name)] = json.loads((out / "metrics.json").read_text())
    for name in ("guided_backprop", "random"):
        local, remote = summaries[("local", name)], summaries[("ray", name)]
        assert local["status"] == remote["status"] == "ok", remote.get("failure")
        assert local["provenance"]["execution"]["backend"] == "local"
        assert remote["provenance"]["execution"]["backend"] == "ray" and remote["provenance"]["execution"]["cpus"] == 2
        pd.testing.assert_frame_equal(frames[("local", name)][SCORES], frames[("ray", name)][SCORES])
        assert local["seeds"]["means"] == remote["seeds"]["means"]  # the stochastic control's extra seed too

HOSTILE = {
    "sleeps": ("import time; time.sleep(60); return torch.zeros_like(clips)", "timeout"),
    "exits": ("import os; os._exit(3)", "crash"),
    "allocates": ("x = torch.empty(int(64 * 2**30), dtype=torch.uint8); x.fill_(1)\nreturn torch.zeros_like(clips)",
                  "memory"),
}


def test_hostile_units_fail_with_the_right_kind_and_leave_nothing(cluster, ws, tmp_path):
    base, _ = ws
    marker = f"raymark{os.getpid()}"
    jobs = []
    clips = np.random.default_rng(0).uniform(-1, 1, (1, 3, 20, 24, 36)).astype(np.float32)
    for name, (body, _) in HOSTILE.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "submission.yaml").write_text(
            f"display_name: {name}\nfamily: other\nauthors: [T]\ndescription: x\nurl: ''\nparams: {{}}\n")
        spawn = (f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
                 f"'{marker}'], start_new_session=True)\n")
        (folder / "explainer.py").write_text("import torch\n\n\ndef explain(model, clips, *, target, baselines, "
                                             "params, generator):\n" + textwrap.indent(spawn + body, "    ") + "\n")
        scratch = tmp_path / f"scratch-{name}"
        scratch.mkdir()
        jobs.append((RunSpec(submission_dir=str(folder), checkpoint=str(base / "models" / "model.pt"),
                             clip_ids=("t/a/001",), params={}, seed=0, target=1, threads=1, device="cpu",
                             memory_cap_bytes=4 * 2**30, out_dir=str(scratch), warmup=False), clips, clips * 0))
    outcomes = RayBackend(address=None, threads=1).run(jobs, clip_time_budget_s=5.0)
    assert [o.failure.kind if o.failure else None for o in outcomes] == [kind for _, kind in HOSTILE.values()]
    assert all(o.failure.clip_id == "t/a/001" for o in outcomes)
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(pid))
        except OSError:
            pass
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_two_node_cluster_gives_the_same_scores(ws, tmp_path):
    """`ray start --head` and a second `ray start --address` node, each with its own folder; the stage runs as
    the command line runs it (BENCHMARK_BACKEND=ray, RAY_ADDRESS), units get no path of the driver's."""
    base, _ = ws
    if ray.is_initialized():
        ray.shutdown()
    port = _free_port()
    head_dir, node_dir = (tempfile.mkdtemp(prefix=p, dir="/tmp") for p in ("rh", "rn"))  # short: socket paths
    head = subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
                           f"--temp-dir={head_dir}", "--disable-usage-stats"],
                          env=ENV, capture_output=True, text=True, timeout=180)
    assert head.returncode == 0, head.stderr[-2000:]
    try:
        node = subprocess.run([str(RAY), "start", f"--address=127.0.0.1:{port}", "--num-cpus=1",
                               f"--temp-dir={node_dir}", "--disable-usage-stats"], env=ENV, capture_output=True,
                              text=True, timeout=180, cwd=tmp_path)
        assert node.returncode == 0, node.stderr[-2000:]
        shutil.rmtree(base / "results", ignore_errors=True)
        env = {**ENV, "BENCHMARK_BACKEND": "ray", "RAY_ADDRESS": f"127.0.0.1:{port}"}
        cli = [sys.executable, "-m", "benchmark.cli", "--root", str(base), "--params", str(base / "params.yaml")]
        run = subprocess.run([*cli, "evaluate", "guided_backprop", "--strict"], env=env, capture_output=True,
                             text=True, timeout=900, cwd=base)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        ray_frame = pd.read_csv(base / "results" / "guided_backprop" / "per_clip.csv")
        execution = json.loads((base / "results" / "guided_backprop" / "metrics.json").read_text())["provenance"][
            "execution"]
        assert execution["backend"] == "ray" and execution["nodes"] == 2 and execution["cpus"] == 2
        local = subprocess.run([*cli, "evaluate", "guided_backprop"], env={**ENV, "BENCHMARK_BACKEND": "local"},
                               capture_output=True, text=True, timeout=900, cwd=base)
        assert local.returncode == 0, local.stderr[-3000:]
        local_frame = pd.read_csv(base / "results" / "guided_backprop" / "per_clip.csv")
        pd.testing.assert_frame_equal(ray_frame[SCORES], local_frame[SCORES])
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=ENV, capture_output=True, timeout=120)
        for folder in (head_dir, node_dir):
            shutil.rmtree(folder, ignore_errors=True)
