"""Hostile and broken submissions end as failed results with a clear message, never as a broken stage; the
cost of an honest one is measured where the submission cannot reach it, and nothing of a run survives it."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.harness.reaper import KEEP_BYTES
from benchmark.harness.runspec import RunSpec
from benchmark.harness.supervisor import run_submission
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D

YAML = """\
display_name: {name}
family: other
authors: [Test]
description: a test submission
url: ""
params: {{}}
"""
GRADIENT = ("x = clips.clone().requires_grad_(True)\n"
            "model(x)[:, target].sum().backward()\n"
            "return (x.grad * x).detach()")

HOSTILE = {
    "raises": "raise RuntimeError('boom')",
    "nan": "return torch.full_like(clips, float('nan'))",
    "wrong_shape": "return torch.zeros(clips.shape[0], 5)",
    "sleeps": "import time; time.sleep(60); return torch.zeros_like(clips)",
    "allocates": "x = torch.empty(int(64 * 2**30), dtype=torch.uint8); x.fill_(1); return torch.zeros_like(clips)",
    "exits": "import os; os._exit(3)",
    "edits_weights": "next(model.parameters()).data.add_(1.0); return torch.zeros_like(clips)",
    "edits_input": "clips.add_(1.0); return torch.zeros_like(clips)",
    # bypassing the pass meter
    "removes_the_hook": "model.net.logits._forward_hooks.clear(); return torch.zeros_like(clips)",
    "replaces_a_forward": "model.net.logits.forward = lambda x: x; return torch.zeros_like(clips)",
    "replaces_the_head": ("import copy; model.net.logits = copy.deepcopy(model.net.logits)\n"
                          "return torch.zeros_like(clips)"),
    "patches_torch": ("import torch.nn as nn; nn.Module.__call__ = lambda self, *a, **k: self.forward(*a, **k)\n"
                      "return torch.zeros_like(clips)"),
    # writing to the harness's pipe, whose other end must never unpickle anything
    "writes_the_pipe": ("import gc\nfrom multiprocessing.connection import Connection\n"
                        "for c in [o for o in gc.get_objects() if isinstance(o, Connection)]:\n"
                        "    c.send_bytes(b'\\x80\\x04 not json')\n"
                        "return torch.zeros_like(clips)"),
}
EXPECTED_KIND = {
    "raises": "exception", "nan": "invalid_output", "wrong_shape": "invalid_output", "sleeps": "timeout",
    "allocates": "memory", "exits": "crash", "edits_weights": "tampering", "edits_input": "tampering",
    "removes_the_hook": "tampering", "replaces_a_forward": "tampering", "replaces_the_head": "tampering",
    "patches_torch": "tampering", "writes_the_pipe": "tampering",
}


def _write_submission(root: Path, name: str, body: str, *, header: str = "import torch\n") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "submission.yaml").write_text(YAML.format(name=name))
    (folder / "explainer.py").write_text(
        header + "\n\ndef explain(model, clips, *, target, baselines, params, generator):\n"
        + textwrap.indent(body, "    ") + "\n"
    )
    return folder


@pytest.fixture(scope="module")
def tiny_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runner")
    torch.manual_seed(0)
    net = I3D(num_classes=2, width=0.125).eval()
    ckpt = tmp / "tiny.pt"
    save_checkpoint(ckpt, net, {"width": 0.125, "num_classes": 2, "input_size": [32, 48], "clip_length": 20,
                                "profile": "test", "pretrained": "none", "seed": 0, "data_source": "test",
                                "split_id": "none"})
    clips = (torch.rand(2, 3, 20, 32, 48, generator=torch.Generator().manual_seed(0)) * 2 - 1).numpy()
    return ckpt, clips, np.zeros_like(clips)


def _run(tiny_env, folder: Path, scratch: Path, *, warmup: bool = False, budget: float = 60.0):
    ckpt, clips, baselines = tiny_env
    scratch.mkdir()
    spec = RunSpec(submission_dir=str(folder), checkpoint=str(ckpt), clip_ids=("t/a/001", "t/a/021"), params={},
                   seed=0, target=1, threads=1, device="cpu", memory_cap_bytes=6 * 2**30, out_dir=str(scratch),
                   warmup=warmup)
    return run_submission(spec, clips, baselines, clip_time_budget_s=budget, start_timeout_s=120)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_is_a_clear_failure(tiny_env, tmp_path, name):
    folder = _write_submission(tmp_path, name, HOSTILE[name])
    outcome = _run(tiny_env, folder, tmp_path / "scratch", budget=3.0 if name == "sleeps" else 60.0)
    assert outcome.failure is not None, name
    assert outcome.failure.kind == EXPECTED_KIND[name], outcome.failure
    assert outcome.failure.clip_id == "t/a/001"
    assert outcome.failure.message
    assert not (tmp_path / "scratch").exists(), "the scratch folder is deleted with the run"


def test_honest_submission_runs_every_clip_with_counts(tiny_env, tmp_path):
    folder = _write_submission(tmp_path, "honest", GRADIENT)
    outcome = _run(tiny_env, folder, tmp_path / "scratch", warmup=True)
    assert outcome.failure is None, outcome.failure
    assert [r.clip_id for r in outcome.runs] == ["t/a/001", "t/a/021"]
    for r in outcome.runs:
        assert r.attribution.shape == (20, 32, 48) and r.attribution.dtype == np.float32
        assert (r.forward_samples, r.backward_samples) == (1, 1)
        assert r.runtime_s >= 0


def test_calling_the_network_inside_the_model_is_counted(tiny_env, tmp_path):
    body = ("with torch.no_grad():\n"
            "    model.net(clips); model.net(clips.repeat(3, 1, 1, 1, 1))\n" + GRADIENT)
    outcome = _run(tiny_env, _write_submission(tmp_path, "unwraps", body), tmp_path / "scratch")
    assert outcome.failure is None, outcome.failure
    assert [(r.forward_samples, r.backward_samples) for r in outcome.runs] == [(5, 1)] * 2


def test_runtime_is_measured_outside_the_submission(tiny_env, tmp_path):
    """Replacing every clock of its own process does not make a submission fast: the supervisor times it."""
    body = ("import time as t\n"
            "real_sleep = t.sleep\n"
            "t.perf_counter = t.monotonic = t.time = lambda: 0.0\n"
            "t.perf_counter_ns = t.monotonic_ns = t.time_ns = lambda: 0\n"
            "real_sleep(0.4)\n"
            "return torch.zeros_like(clips)")
    outcome = _run(tiny_env, _write_submission(tmp_path, "fakes_time", body), tmp_path / "scratch")
    assert outcome.failure is None, outcome.failure
    assert [r.runtime_s >= 0.35 for r in outcome.runs] == [True, True], [r.runtime_s for r in outcome.runs]
    quick = _run(tiny_env, _write_submission(tmp_path, "quick", "return torch.zeros_like(clips)"),
                 tmp_path / "scratch2")
    assert all(r.runtime_s < 0.2 for r in quick.runs), "the fixed cost of a request is subtracted"


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.parametrize("start", ["start_new_session=True", "process_group=0"])
def test_no_process_of_a_run_survives_it(tiny_env, tmp_path, start):
    marker = f"31337{os.getpid() % 1000}"
    body = (f"import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '{marker}'], {start})\n"
            f"subprocess.Popen([sys.executable, '-c', "
            f"'import os, time; os.fork() or time.sleep(600)', '{marker}'], {start})\n"
            "return torch.zeros_like(clips)")
    outcome = _run(tiny_env, _write_submission(tmp_path, "escapes", body), tmp_path / "scratch")
    assert outcome.failure is None, outcome.failure
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == [], "a process started by the submission outlived its run"


def test_a_process_started_on_one_clip_is_gone_before_the_next(tiny_env, tmp_path):
    """Between two clips the reaper kills what the first left running, so nothing works ahead or competes."""
    body = ("import subprocess, sys, os\n"
            "def alive(pid):\n"
            "    try:\n"
            "        stat = open(f'/proc/{pid}/stat').read()\n"
            "    except OSError:\n"
            "        return False\n"
            "    return stat[stat.rfind(')') + 2] not in 'ZX'\n"
            "alive = os.path.exists('child.pid') and alive(open('child.pid').read())\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
            "open('child.pid', 'w').write(str(p.pid))\n"
            "return torch.full_like(clips, float(alive))")
    outcome = _run(tiny_env, _write_submission(tmp_path, "lingers", body), tmp_path / "scratch")
    assert outcome.failure is None, outcome.failure
    assert [float(r.attribution.max()) for r in outcome.runs] == [0.0, 0.0]


def test_output_is_capped_and_kept_in_the_failure_record(tiny_env, tmp_path):
    body = ("import sys\n"
            "for _ in range(800):\n"
            "    sys.stdout.write('x' * 65536 + '\\n')\n"
            "sys.stdout.write('the last words\\n'); sys.stdout.flush()\n"
            "raise RuntimeError('after the flood')")
    outcome = _run(tiny_env, _write_submission(tmp_path, "floods", body), tmp_path / "scratch")
    assert outcome.failure is not None and outcome.failure.kind == "exception"
    assert outcome.output_bytes > 50 * 2**20
    assert "the last words" in outcome.failure.traceback
    assert len(outcome.failure.traceback) < 4 * KEEP_BYTES


def test_import_time_code_runs_only_in_the_worker(tiny_env, tmp_path):
    """Module-level code cannot write beside itself: the worker sees its submission folder read-only."""
    header = "import torch\nfrom pathlib import Path\nPath(__file__).with_name('stolen.txt').write_text('x')\n"
    folder = _write_submission(tmp_path, "imports", "return torch.zeros_like(clips)", header=header)
    from benchmark.explain.contract import read_submission

    read_submission(folder)  # the harness's own process reads it as data
    assert not (folder / "stolen.txt").exists()
    outcome = _run(tiny_env, folder, tmp_path / "scratch")
    from benchmark.harness.sandbox import landlock_abi

    if landlock_abi()[0] > 0:
        assert outcome.failure is not None and outcome.failure.kind == "invalid_submission", outcome.failure
        assert not (folder / "stolen.txt").exists()


def test_shard_bounds_cover_every_clip_once():
    from benchmark.harness.supervisor import shard_bounds

    for n in range(0, 12):
        for k in range(1, 6):
            bounds = shard_bounds(n, k)
            covered = [i for lo, hi in bounds for i in range(lo, hi)]
            assert covered == list(range(n))
            assert all(hi > lo for lo, hi in bounds) or n == 0
            assert len(bounds) == (max(1, min(k, n)) if n else 1)


def test_split_groups_covers_every_run_and_balances_the_lanes():
    import math

    from benchmark.harness.supervisor import longest_first, split_groups

    assert split_groups(3, 5, 2) == [[(0, 3)], [(0, 3)], [(0, 2), (2, 3)], [(0, 3)], [(0, 3)]]
    assert split_groups(3, 8, 2) == [[(0, 3)]] * 8  # divides evenly: whole runs
    assert split_groups(3, 5, 16) == [[(0, 1), (1, 2), (2, 3)]] * 5  # a wide cluster: one clip per unit
    assert longest_first([1, 3, 2, 3]) == [1, 3, 2, 0]
    for n in range(1, 9):
        for groups in range(1, 7):
            for lanes in range(1, 9):
                cut = split_groups(n, groups, lanes)
                assert len(cut) == groups
                for bounds in cut:
                    assert [i for lo, hi in bounds for i in range(lo, hi)] == list(range(n))
                assert sum(len(b) for b in cut) <= groups + lanes - 1
                # the units, handed longest first to the workers, never take longer than whole runs do
                sizes = [hi - lo for bounds in cut for lo, hi in bounds]
                finish = [0] * lanes
                for i in longest_first(sizes):
                    finish[finish.index(min(finish))] += sizes[i]
                assert max(finish) <= math.ceil(groups / lanes) * n


def test_merge_stops_at_the_first_failure_in_clip_order():
    from benchmark.harness.outcomes import ClipRun, Failure, RunOutcome
    from benchmark.harness.supervisor import merge_outcomes

    def run(cid):
        return ClipRun(cid, np.zeros((1, 1, 1), np.float32), 0.1, 1, 1)

    ok0 = RunOutcome(runs=[run("a"), run("b")])
    bad1 = RunOutcome(runs=[run("c")], failure=Failure("d", "exception", "boom"))
    ok2 = RunOutcome(runs=[run("e")])
    merged = merge_outcomes([ok0, bad1, ok2])
    assert [r.clip_id for r in merged.runs] == ["a", "b", "c"]
    assert merged.failure is not None and merged.failure.clip_id == "d"
    assert merge_outcomes([ok0, ok2]).failure is None
