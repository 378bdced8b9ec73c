"""Hostile and broken submissions end as failed results with a clear message, never as a broken stage."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

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

HOSTILE = {
    "raises": "raise RuntimeError('boom')",
    "nan": "return torch.full_like(clips, float('nan'))",
    "wrong_shape": "return torch.zeros(clips.shape[0], 5)",
    "sleeps": "import time; time.sleep(60); return torch.zeros_like(clips)",
    "allocates": "x = torch.empty(int(64 * 2**30), dtype=torch.uint8); x.fill_(1); return torch.zeros_like(clips)",
    "exits": "import os; os._exit(3)",
    "edits_weights": "next(model.parameters()).data.add_(1.0); return torch.zeros_like(clips)",
    "edits_input": "clips.add_(1.0); return torch.zeros_like(clips)",
}
EXPECTED_KIND = {
    "raises": "exception", "nan": "invalid_output", "wrong_shape": "invalid_output", "sleeps": "timeout",
    "allocates": "memory", "exits": "crash", "edits_weights": "tampering", "edits_input": "tampering",
}


def _write_submission(root: Path, name: str, body: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "submission.yaml").write_text(YAML.format(name=name))
    (folder / "explainer.py").write_text(
        "import torch\n\n\ndef explain(model, clips, *, target, baselines, params, generator):\n"
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
    clips = torch.rand(2, 3, 20, 32, 48) * 2 - 1
    np.save(tmp / "clips.npy", clips.numpy())
    np.save(tmp / "baselines.npy", torch.zeros_like(clips).numpy())
    return tmp, ckpt


def _spec(tmp: Path, ckpt: Path, folder: Path, warmup: bool = False) -> RunSpec:
    return RunSpec(submission_dir=str(folder), checkpoint=str(ckpt), clips_file=str(tmp / "clips.npy"),
                   baselines_file=str(tmp / "baselines.npy"), clip_ids=("t/a/001", "t/a/021"), params={},
                   seed=0, target=1, threads=1, device="cpu", memory_cap_bytes=6 * 2**30, out_dir=str(tmp),
                   warmup=warmup)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_is_a_clear_failure(tiny_env, tmp_path, name):
    tmp, ckpt = tiny_env
    folder = _write_submission(tmp_path, name, HOSTILE[name])
    outcome = run_submission(_spec(tmp, ckpt, folder), clip_time_budget_s=3.0, start_timeout_s=120)
    assert outcome.failure is not None, name
    assert outcome.failure.kind == EXPECTED_KIND[name], outcome.failure
    assert outcome.failure.clip_id == "t/a/001"
    assert outcome.failure.message


def test_honest_submission_runs_every_clip_with_counts(tiny_env, tmp_path):
    tmp, ckpt = tiny_env
    body = ("x = clips.clone().requires_grad_(True)\n"
            "model(x)[:, target].sum().backward()\n"
            "return (x.grad * x).detach()")
    folder = _write_submission(tmp_path, "honest", body)
    outcome = run_submission(_spec(tmp, ckpt, folder, warmup=True), clip_time_budget_s=60.0)
    assert outcome.failure is None, outcome.failure
    assert [r.clip_id for r in outcome.runs] == ["t/a/001", "t/a/021"]
    for r in outcome.runs:
        assert r.attribution.shape == (20, 32, 48)
        assert (r.forward_samples, r.backward_samples) == (1, 1)
        assert r.runtime_s > 0


def test_shard_bounds_cover_every_clip_once():
    from benchmark.harness.supervisor import shard_bounds

    for n in range(0, 12):
        for k in range(1, 6):
            bounds = shard_bounds(n, k)
            covered = [i for lo, hi in bounds for i in range(lo, hi)]
            assert covered == list(range(n))
            assert all(hi > lo for lo, hi in bounds) or n == 0
            assert len(bounds) == (max(1, min(k, n)) if n else 1)


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
