"""Shared fixtures: a tiny but complete workspace (data, split, model, submissions) built by the real stages."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from benchmark.data.stages import obtain, prepare_stage, split_stage
from benchmark.layout import RepoLayout
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D
from benchmark.settings import Settings, load_params

REPO = Path(__file__).resolve().parents[1]


_WATCHED_PREFIXES = ("HOME", "TMP", "TEMP", "XDG_", "MPLCONFIGDIR", "PYTHON", "PATH", "BENCHMARK_", "RAY_",
                     "MLFLOW_", "DVC_", "CUDA_", "OMP_", "MKL_")


@pytest.fixture(autouse=True)
def _environment_left_as_found():
    """Every test leaves ``os.environ`` as it found it: a variable changed or removed, or one of the watched
    kinds added, is undone and reported as an error (variables a library adds for itself on first use, such as
    torch's compiler cache folder, are left alone).

    A leaked ``TMPDIR`` or ``HOME`` pointing into one test's temporary folder broke later tests that start
    other programs (Chromium, DVC, Ray) on machines where those programs use them.
    """
    before = dict(os.environ)
    yield
    after = dict(os.environ)
    changed = sorted(
        k for k in before.keys() | after.keys()
        if before.get(k) != after.get(k) and k != "PYTEST_CURRENT_TEST"
        and (k in before or k.startswith(_WATCHED_PREFIXES))
    )
    if changed:
        for key in changed:
            if key in before:
                os.environ[key] = before[key]
            else:
                del os.environ[key]
        pytest.fail(f"the test changed environment variables it did not restore: {', '.join(changed)} "
                    "(use monkeypatch.setenv or a copy of the environment)")


def tiny_params() -> dict:
    """params.yaml shrunk to seconds: a 6-video scene at 24x36, 3 evaluation clips, 2 seeds."""
    params = copy.deepcopy(load_params(REPO / "params.yaml"))
    params["data"]["source"] = "synthetic"
    params["data"]["synthetic"].update(height=48, width=72, train_videos=1, test_videos=6, frames_per_video=60)
    params["profiles"]["default"]["input"] = [24, 36]
    params["profile"] = "default"
    params["split"]["eval_clips"] = 3
    params["evaluate"].update(seeds=2, batch_size=8, threads=1, gallery_clips=1, clip_time_budget_s=120)
    params["evaluate"]["bootstrap"]["resamples"] = 200
    return params


def tiny_settings() -> Settings:
    """:func:`tiny_params`, typed."""
    return Settings.from_params(tiny_params())


def build_workspace(base: Path, names: tuple[str, ...] = ("guided_backprop", "random")) -> Settings:
    """Run the data stages into ``base``, save a tiny random I3D, copy submissions; returns the settings
    (also written to ``base/params.yaml``, so that the command line runs there too)."""
    params = tiny_params()
    (base / "params.yaml").write_text(yaml.safe_dump(params))
    settings, layout = Settings.from_params(params), RepoLayout(base)
    obtain(settings, layout)
    prepare_stage(settings, layout)
    split = split_stage(settings, layout)
    torch.manual_seed(0)
    net = I3D(num_classes=2, width=0.0625).eval()
    (base / "models").mkdir()
    save_checkpoint(base / "models" / "model.pt", net, {
        "input_size": [24, 36], "clip_length": 20, "profile": "default", "pretrained": "none", "seed": 0,
        "data_source": "synthetic", "split_id": split.split_id})
    subs = base / "submissions"
    subs.mkdir()
    for name in names:
        shutil.copytree(REPO / "submissions" / name, subs / name, ignore=shutil.ignore_patterns("dvc.lock"))
    return settings


@pytest.fixture(scope="session")
def make_workspace():
    """The :func:`build_workspace` factory, for tests that need their own workspace."""
    return build_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny workspace with guided_backprop, random and a submission that raises (`broken`)."""
    base = tmp_path_factory.mktemp("pipeline")
    settings = build_workspace(base)
    broken = base / "submissions" / "broken"
    shutil.copytree(REPO / "submissions" / "random", broken, ignore=shutil.ignore_patterns("dvc.lock"))
    (broken / "explainer.py").write_text(
        "def explain(model, clips, *, target, baselines, params, generator):\n    raise RuntimeError('boom')\n")
    return base, settings
