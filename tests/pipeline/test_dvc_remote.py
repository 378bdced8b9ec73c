"""A team shares data and checkpoints through a DVC remote: push, wipe, pull gives the same bytes.

Runs the real `dvc` on a throw-away repository with one stage shaped like ours (a folder output and
a file output), against a local-directory remote (README: "Sharing data and checkpoints").
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DVC = Path(sys.executable).with_name("dvc")


def _run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode() + f.read_bytes())
    return h.hexdigest()


def _state(repo: Path) -> tuple[str, str]:
    """The prepared data's and the checkpoint's digests."""
    return _digest(repo / "data" / "prepared"), hashlib.sha256((repo / "models" / "model.pt").read_bytes()).hexdigest()


@pytest.mark.skipif(not DVC.exists(), reason=f"dvc not installed next to {sys.executable}")
def test_push_and_pull_round_trip(tmp_path, monkeypatch):
    repo, remote = tmp_path / "repo", tmp_path / "remote"
    repo.mkdir()
    _run(["git", "init", "-q"], repo)
    _run([str(DVC), "init", "-q"], repo)
    _run([str(DVC), "config", "core.analytics", "false"], repo)
    _run([str(DVC), "remote", "add", "-d", "team", str(remote)], repo)
    (repo / "make.py").write_text(
        "import os, numpy as np\n"
        "os.makedirs('data/prepared', exist_ok=True); os.makedirs('models', exist_ok=True)\n"
        "np.save('data/prepared/a.npy', np.arange(1000, dtype=np.uint8))\n"
        "open('models/model.pt', 'wb').write(bytes(range(256)) * 64)\n"
    )
    (repo / "dvc.yaml").write_text(
        "stages:\n  make:\n    cmd: python make.py\n    deps:\n      - make.py\n"
        "    outs:\n      - data/prepared\n      - models/model.pt\n"
    )
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    _run([str(DVC), "repro", "-q"], repo)
    before = _state(repo)
    _run([str(DVC), "push", "-q"], repo)
    assert any(remote.rglob("*")), "the remote holds the pushed objects"

    shutil.rmtree(repo / "data")
    (repo / "models" / "model.pt").unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    _run([str(DVC), "pull", "-q"], repo)
    after = _state(repo)
    assert after == before
    status = _run([str(DVC), "status"], repo).lower()
    assert "up to date" in status or "nothing" in status
