"""The sanity stage: a record with the verdict for a model-dependent and a model-blind explainer, failures."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.harness.backends import LocalBackend
from benchmark.harness.inputs import EvalSet
from benchmark.harness.sanity import sanity_check
from benchmark.layout import RepoLayout
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D, build_model
from benchmark.model.randomization import CASCADE
from benchmark.results.sanity import SANITY_FILE, load_sanity, read_sanity
from benchmark.settings import Settings, load_params

REPO = Path(__file__).resolve().parents[2]
SANITY_PARAMS = {"clips": {"default": 2, "paper": 40}, "threshold": 0.5, "seed": 0}


@pytest.fixture(scope="module")
def tiny_net() -> I3D:
    return build_model(0.125, seed=0).eval()


def _settings(**sanity) -> Settings:
    params = load_params(REPO / "params.yaml")
    params["profile"] = "default"
    params["sanity"] = {**SANITY_PARAMS, **sanity}
    params["evaluate"] = {
        **params["evaluate"],
        "threads": 1,
        "clip_time_budget_s": 120,
        "bootstrap": {"resamples": 200, "seed": 0},
    }
    return Settings.from_params(params)


# -------------------------------------------------------------------------------------------------- stage

YAML = 'display_name: {name}\nfamily: other\nauthors: [Test]\ndescription: test\nurl: ""\nparams: {{}}\n'
BODIES = {
    "gradient": "x = clips.clone().requires_grad_(True)\n"
    "model(x)[:, target].sum().backward()\n"
    "return x.grad.detach()",
    "echo": "return clips.clone()",  # ignores the model entirely
    "raises": "raise RuntimeError('boom')",
}


@pytest.fixture(scope="module")
def stage_env(tmp_path_factory, tiny_net):
    root = tmp_path_factory.mktemp("sanity-root")
    save_checkpoint(
        root / "models" / "model.pt",
        tiny_net,
        {
            "input_size": [32, 48],
            "clip_length": 20,
            "profile": "test",
            "pretrained": "none",
            "seed": 0,
            "data_source": "test",
            "split_id": "none",
        },
    )
    for name, body in BODIES.items():
        folder = root / "submissions" / name
        folder.mkdir(parents=True)
        (folder / "submission.yaml").write_text(YAML.format(name=name))
        (folder / "explainer.py").write_text(
            "import torch\n\n\ndef explain(model, clips, *, target, baselines, params, generator):\n"
            + textwrap.indent(body, "    ")
            + "\n"
        )
    gen = torch.Generator().manual_seed(0)
    clips = torch.rand(3, 3, 20, 32, 48, generator=gen) * 2 - 1
    es = EvalSet(
        clip_ids=("t/a/001", "t/a/021", "t/a/041"),
        meta=tuple(
            {"clip_id": c, "scene": "t", "video": "a", "start": 1} for c in ("t/a/001", "t/a/021", "t/a/041")
        ),
        frames=np.zeros((3, 20, 32, 48), np.uint8),
        masks=np.ones((3, 20, 32, 48), bool),
        clips=clips,
        baselines=torch.zeros_like(clips),
    )
    return RepoLayout(root), es


@pytest.mark.slow
@pytest.mark.parametrize("name, expected", [("gradient", "pass"), ("echo", "fail")])
def test_stage_writes_a_valid_record_with_the_verdict(stage_env, name, expected):
    layout, es = stage_env
    out = sanity_check(name, _settings(), layout, eval_set=es, progress=False)
    assert out == layout.root / "sanity" / name
    record = read_sanity(out)
    assert record["status"] == "ok" and record["verdict"] == expected, record["full"]
    assert record["settings"]["clip_ids"] == ["t/a/001", "t/a/021"]  # the first sanity.clips clips
    assert [s["label"] for s in record["steps"]] == [lab for lab, _ in CASCADE]
    assert record["steps"][-1]["randomized"] == [b for _, g in CASCADE for b in g]
    full = record["full"]["spearman"]
    assert full == record["steps"][-1]["scored"]["spearman"]
    assert full["ci_low"] <= full["mean"] <= full["ci_high"]
    for step in record["steps"]:
        for basis in ("scored", "absolute"):
            assert len(step[basis]["per_clip"]["spearman"]) == 2
    if expected == "fail":
        assert full["mean"] == pytest.approx(1.0) and record["full"]["ssim"]["mean"] == pytest.approx(1.0)
    else:
        assert full["mean"] < 0.5
    assert load_sanity(layout.root / "sanity", names=[name])[name] == record
    assert not list((layout.root / "sanity").glob(".tmp-*"))


def test_a_failing_submission_gives_a_failed_record_not_an_exception(stage_env):
    layout, es = stage_env
    out = sanity_check("raises", _settings(), layout, eval_set=es, progress=False)
    record = json.loads((out / SANITY_FILE).read_text())
    assert record["status"] == "failed" and record["verdict"] is None
    assert record["failure"]["kind"] == "exception" and record["failure"]["step"] == 0
    assert "boom" in record["failure"]["message"]
    with pytest.raises(FileNotFoundError, match="no such submission"):
        sanity_check("missing", _settings(), layout, eval_set=es, progress=False)


class _WideBackend(LocalBackend):
    """Runs on 2 local workers but reports the parallelism of a cluster, and records each unit's clips."""

    def __init__(self, parallelism: int) -> None:
        super().__init__(2)
        self.wide = parallelism
        self.units: list[tuple[str, ...]] = []

    @property
    def parallelism(self) -> int:
        return self.wide

    def run(self, jobs, *, clip_time_budget_s):
        self.units += [tuple(spec.clip_ids) for spec, _, _ in jobs]
        return super().run(jobs, clip_time_budget_s=clip_time_budget_s)


def _on_one_worker_and_on(backend: LocalBackend, stage_env) -> tuple[dict, dict]:
    """The ``gradient`` submission's record on one local worker, and on ``backend``."""
    layout, es = stage_env
    return tuple(read_sanity(sanity_check("gradient", _settings(), layout, eval_set=es, progress=False,
                                          backend=b)) for b in (LocalBackend(1), backend))


@pytest.mark.slow
def test_on_a_wide_cluster_each_step_is_cut_into_clip_shards_and_the_record_does_not_change(stage_env):
    wide = _WideBackend(2 * (len(CASCADE) + 1))  # two units per step: the 2 sanity clips one by one
    narrow, record = _on_one_worker_and_on(wide, stage_env)
    assert sorted(set(wide.units)) == [("t/a/001",), ("t/a/021",)] and len(wide.units) == 2 * (len(CASCADE) + 1)
    assert record["steps"] == narrow["steps"] and record["verdict"] == narrow["verdict"]
    assert record["reference_constant"] == narrow["reference_constant"]


@pytest.mark.slow
def test_steps_that_do_not_divide_among_the_workers_are_balanced_and_the_record_does_not_change(stage_env):
    steps = len(CASCADE) + 1  # 8 runs of 2 clips on 6 workers: whole runs take 2 rounds (4 clip-times)
    uneven = _WideBackend(6)
    narrow, record = _on_one_worker_and_on(uneven, stage_env)
    assert steps == 8 and len(uneven.units) == 10  # two steps cut in two: 3 clip-times
    assert [len(u) for u in uneven.units] == [2] * 6 + [1] * 4  # handed out longest first
    assert record["steps"] == narrow["steps"] and record["verdict"] == narrow["verdict"]
