"""The worker's filesystem sandbox: a submission reads its own folder, the checkpoint and its inputs and
writes its scratch folder, but cannot open anything else (masks, labels, results) on disk."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.harness import sandbox
from benchmark.harness.runspec import RunSpec
from benchmark.harness.supervisor import run_submission
from benchmark.harness.worker import worker_main
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D

ABI, WHY_NOT = sandbox.landlock_abi()
needs_landlock = pytest.mark.skipif(ABI == 0, reason=f"this kernel cannot confine a process: {WHY_NOT}")

YAML = """\
display_name: Probe
family: other
authors: [Test]
description: tries to read what it must not
url: ""
params: {}
"""

# Raises with what leaked; otherwise writes to its scratch folder and returns Input x Gradient.
PROBE = '''\
import os
import tempfile
from pathlib import Path

import torch


def _open(path):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            Path(path).read_bytes()
        return None
    except OSError as exc:
        return type(exc).__name__


def explain(model, clips, *, target, baselines, params, generator):
    via_parent = [f"/proc/{os.getppid()}/root{p}" for p in params["secrets"]]  # the unconfined parent's view
    leaked = [p for p in params["secrets"] + via_parent if _open(p) is None]
    if leaked:
        raise RuntimeError(f"LEAK {leaked}")
    assert Path(__file__).with_name("submission.yaml").read_text()  # its own folder stays readable
    assert Path(params["note"]).read_text() == "scratch note"
    Path("written.txt").write_text("ok")  # the current folder is the scratch folder
    fd, name = tempfile.mkstemp()
    os.close(fd)
    assert Path(name).parent == Path(params["note"]).parent, name
    x = clips.clone().requires_grad_(True)
    model(x)[:, target].sum().backward()
    return (x.grad * x).detach()
'''


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A tiny checkpoint beside a secret, inputs, a "data" folder of masks and the probe submission."""
    root = tmp_path_factory.mktemp("sandbox")
    torch.manual_seed(0)
    (root / "models").mkdir()
    ckpt = root / "models" / "tiny.pt"
    save_checkpoint(ckpt, I3D(num_classes=2, width=0.125).eval(),
                    {"width": 0.125, "num_classes": 2, "input_size": [32, 48], "clip_length": 20,
                     "profile": "test", "pretrained": "none", "seed": 0, "data_source": "test", "split_id": "none"})
    (root / "models" / "other.pt").write_text("another checkpoint")
    (root / "data").mkdir()
    (root / "data" / "masks.txt").write_text("the ground-truth masks")
    (root / "inputs").mkdir()
    clips = torch.rand(2, 3, 20, 32, 48) * 2 - 1
    np.save(root / "inputs" / "clips.npy", clips.numpy())  # a file the worker must not reach
    folder = root / "subs" / "probe"
    folder.mkdir(parents=True)
    (folder / "submission.yaml").write_text(YAML)
    (folder / "explainer.py").write_text(PROBE)
    return root, ckpt, folder


def _spec(root: Path, ckpt: Path, folder: Path, scratch: Path, mode: str) -> RunSpec:
    scratch.mkdir(exist_ok=True)
    (scratch / "note.txt").write_text("scratch note")
    repo_file = Path(sandbox.__file__).resolve().parents[2] / "pyproject.toml"
    secrets = [root / "data" / "masks.txt", root / "data", root / "models" / "other.pt", root / "models", root,
               root / "inputs", folder.parent, repo_file]
    return RunSpec(submission_dir=str(folder), checkpoint=str(ckpt), clip_ids=("t/a/001", "t/a/021"),
                   params={"secrets": [str(s) for s in secrets], "note": str(scratch / "note.txt")},
                   seed=0, target=1, threads=1, device="cpu", memory_cap_bytes=6 * 2**30, out_dir=str(scratch),
                   warmup=False, sandbox=mode)


def _run(root: Path, ckpt: Path, folder: Path, scratch: Path, mode: str):
    clips = np.load(root / "inputs" / "clips.npy")
    return run_submission(_spec(root, ckpt, folder, scratch, mode), clips, np.zeros_like(clips),
                          clip_time_budget_s=60.0)


@needs_landlock
def test_confined_submission_sees_only_its_files_and_still_explains(env, tmp_path):
    root, ckpt, folder = env
    outcome = _run(root, ckpt, folder, tmp_path / "scratch", "required")
    assert outcome.failure is None, outcome.failure
    assert [r.clip_id for r in outcome.runs] == ["t/a/001", "t/a/021"]
    assert all(r.attribution.shape == (20, 32, 48) and r.forward_samples == 1 for r in outcome.runs)
    assert not (tmp_path / "scratch").exists(), "what the run wrote is deleted with it"


def test_without_the_sandbox_the_probe_reads_the_masks(env, tmp_path):
    """The probe above is not vacuous: unconfined, it reaches the masks and says so."""
    root, ckpt, folder = env
    outcome = _run(root, ckpt, folder, tmp_path / "scratch", "off")
    assert outcome.failure is not None and outcome.failure.kind == "exception"
    assert "LEAK" in outcome.failure.message and "masks.txt" in outcome.failure.message
    assert "/proc/" in outcome.failure.message  # the parent's root through /proc works unconfined


def _no_landlock(monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: (0, "simulated: no Landlock here"))
    monkeypatch.setattr(sandbox, "_restrict", _must_not_confine)


def _must_not_confine(*args, **kwargs):
    raise AssertionError("the test process must never be confined")


def test_required_mode_without_confinement_is_a_clear_worker_failure(env, tmp_path, monkeypatch):
    root, ckpt, folder = env
    _no_landlock(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", os.environ.copy())  # the worker points HOME and TMPDIR at its scratch
    receive, send = mp.Pipe(duplex=False)
    worker_main(send, _spec(root, ckpt, folder, tmp_path / "scratch", "required"))  # in-process: sees the patch
    answer = json.loads(receive.recv_bytes())
    tag, clip_id, kind, message = answer["op"], answer["clip_id"], answer["kind"], answer["message"]
    assert (tag, clip_id, kind) == ("error", None, "sandbox")
    assert "simulated: no Landlock here" in message and "evaluate.sandbox" in message and "'auto'" in message


def test_auto_mode_without_confinement_runs_unconfined_and_says_why(monkeypatch, tmp_path):
    _no_landlock(monkeypatch)
    status = sandbox.enter_sandbox(read_only=(), read_write=(str(tmp_path),), mode="auto")
    assert (status.active, status.mechanism, status.reason) == (False, "none", "simulated: no Landlock here")
    off = sandbox.enter_sandbox(read_only=(), read_write=(str(tmp_path),), mode="off")
    assert not off.active and "off" in off.reason
    with pytest.raises(ValueError, match="auto, required, off"):
        sandbox.enter_sandbox(read_only=(), read_write=(), mode="on")


def test_other_threads_make_confinement_impossible(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: (7, ""))
    monkeypatch.setattr(sandbox, "_restrict", _must_not_confine)
    monkeypatch.setattr(sandbox, "_stop_blas_threads", lambda: None)
    monkeypatch.setattr(sandbox, "_thread_count", lambda: 3)
    status = sandbox.enter_sandbox(read_only=(), read_write=(str(tmp_path),), mode="auto")
    assert not status.active and "3 threads" in status.reason
    with pytest.raises(sandbox.SandboxError, match="3 threads.*evaluate.sandbox"):
        sandbox.enter_sandbox(read_only=(), read_write=(str(tmp_path),), mode="required")


def test_a_system_folder_holding_a_granted_path_is_refused(monkeypatch):
    """Granting /usr would grant a repository under it, data/ included."""
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: (7, ""))
    monkeypatch.setattr(sandbox, "_restrict", _must_not_confine)
    with pytest.raises(sandbox.SandboxError, match="/usr .*contains /usr/share"):
        sandbox.enter_sandbox(read_only=("/usr/share",), read_write=(), mode="required")


def test_runtime_paths_leave_out_entries_above_the_granted_ones(monkeypatch, tmp_path):
    repo, venv = tmp_path / "repo", tmp_path / "elsewhere" / "site-packages"
    (repo / "submissions" / "x").mkdir(parents=True)
    venv.mkdir(parents=True)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "path", ["", str(repo), str(tmp_path), "/", str(venv), "not-a-path-hook"])
    read_only, read_write = sandbox.runtime_paths(exclude_containing=[str(repo / "submissions" / "x")])
    assert str(venv) in read_only and sys.base_prefix in read_only
    assert not {"", str(repo), str(tmp_path), "/", "not-a-path-hook"} & set(read_only)
    assert read_write == ("/dev",)
