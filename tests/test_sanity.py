"""The model-parameter randomisation test: cascade, re-initialisation, similarity, verdict and the stage."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from benchmark.config import ConfigError, load_params
from benchmark.evaluate import EvalSet, Paths
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D, ProbabilityModel, build_model
from benchmark.sanity import (
    CASCADE,
    SANITY_FILE,
    block_seed,
    cascade_networks,
    compare_maps,
    frame_ssim,
    load_sanity,
    randomize_blocks,
    read_sanity,
    sanity_check,
    sanity_settings,
    spearman,
    verdict,
)

REPO = Path(__file__).resolve().parents[1]
SANITY_PARAMS = {"clips": {"default": 2, "paper": 40}, "threshold": 0.5, "seed": 0}


@pytest.fixture(scope="module")
def tiny_net() -> I3D:
    return build_model(0.125, seed=0).eval()


def _params(**sanity) -> dict:
    params = load_params(REPO / "params.yaml")
    params["profile"] = "default"
    params["sanity"] = {**SANITY_PARAMS, **sanity}
    params["evaluate"] = {
        **params["evaluate"],
        "threads": 1,
        "clip_time_budget_s": 120,
        "bootstrap": {"resamples": 200, "seed": 0},
    }
    return params


# ------------------------------------------------------------------------------------------------ cascade


def test_cascade_runs_from_the_logits_down_and_covers_every_parameterised_block(tiny_net):
    blocks = [b for _, group in CASCADE for b in group]
    with_params = [n for n, m in tiny_net.named_children() if any(True for _ in m.parameters())]
    assert blocks == with_params[::-1], "the cascade must visit the I3D's blocks in reverse forward order"
    assert blocks[0] == "logits" and blocks[-1] == "Conv3d_1a_7x7" and len(set(blocks)) == len(blocks)
    covered = {k for k in tiny_net.state_dict() if k.split(".")[0] in blocks}
    assert covered == set(tiny_net.state_dict()), "every weight and buffer belongs to a cascade step"
    assert 6 <= len(CASCADE) <= 8


def test_full_cascade_changes_every_weight_and_leaves_the_original_alone(tiny_net):
    before = {k: v.clone() for k, v in tiny_net.state_dict().items()}
    steps = list(cascade_networks(tiny_net, seed=0))
    assert [s for s, _, _ in steps] == list(range(1, len(CASCADE) + 1))
    assert [lab for _, lab, _ in steps] == [lab for lab, _ in CASCADE]
    assert all(torch.equal(v, tiny_net.state_dict()[k]) for k, v in before.items())
    final = steps[-1][2].state_dict()  # one network advanced in place: the last is fully random
    for name, p in tiny_net.named_parameters():
        if name.endswith("bn.weight"):
            assert torch.all(final[name] == 1), name
        elif name.endswith("bn.bias") or name == "logits.bias":
            assert torch.all(final[name] == 0), name
        else:
            assert not torch.equal(final[name], p), f"{name} was not re-initialised"
    for name in final:
        if name.endswith("running_mean"):
            assert torch.all(final[name] == 0)
        if name.endswith("running_var"):
            assert torch.all(final[name] == 1)


def test_reinitialisation_is_seeded_per_block_and_deterministic(tiny_net):
    a = [
        n.state_dict() for _, _, n in [(s, lab, _copy(n)) for s, lab, n in cascade_networks(tiny_net, seed=3)]
    ]
    b = [
        n.state_dict() for _, _, n in [(s, lab, _copy(n)) for s, lab, n in cascade_networks(tiny_net, seed=3)]
    ]
    for sa, sb in zip(a, b):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    other = randomize_blocks(_copy(tiny_net), ["logits"], seed=4).state_dict()
    assert not torch.equal(other["logits.weight"], a[0]["logits.weight"])
    # A block gets the same draw whether it is randomised alone or in the cascade.
    alone = randomize_blocks(_copy(tiny_net), ["Mixed_5b"], seed=3).state_dict()
    assert torch.equal(alone["Mixed_5b.b0.conv.weight"], a[-1]["Mixed_5b.b0.conv.weight"])
    assert block_seed(3, "Mixed_5b") != block_seed(3, "Mixed_5c") != block_seed(4, "Mixed_5c")
    with pytest.raises(ValueError, match="not blocks of the network"):
        randomize_blocks(_copy(tiny_net), ["Mixed_9z"], seed=0)


def test_randomised_network_keeps_a_usable_gradient(tiny_net):
    x = torch.rand(1, 3, 20, 32, 48) * 2 - 1
    *_, (_, _, full) = cascade_networks(tiny_net, seed=0)
    xs = x.clone().requires_grad_(True)
    ProbabilityModel(full)(xs)[:, 1].sum().backward()
    assert torch.isfinite(xs.grad).all() and xs.grad.abs().max() > 1e-6


def _copy(net):
    import copy

    return copy.deepcopy(net)


# --------------------------------------------------------------------------------------------- similarity


def test_identical_maps_score_one_and_independent_noise_about_zero():
    rng = np.random.default_rng(0)
    a = rng.random((20, 32, 48))
    assert spearman(a, a) == (pytest.approx(1.0), False)
    assert frame_ssim(a, a) == pytest.approx(1.0)
    b = rng.random((20, 32, 48))
    rho, flagged = spearman(a, b)
    assert abs(rho) < 0.03 and not flagged
    assert abs(frame_ssim(a, b)) < 0.1
    # Scale does not matter to either measure.
    assert spearman(a, 7 * a)[0] == pytest.approx(1.0) and frame_ssim(a, 7 * a) == pytest.approx(1.0)


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    a = np.maximum(rng.standard_normal((4, 6, 8)), 0)  # about half the voxels tie at 0
    b = np.maximum(a + rng.standard_normal(a.shape), 0)
    assert spearman(a, b)[0] == pytest.approx(stats.spearmanr(a.ravel(), b.ravel()).statistic)


def test_constant_maps_are_flagged_never_nan():
    rng = np.random.default_rng(2)
    a, zero = rng.random((3, 8, 8)), np.zeros((3, 8, 8))
    assert spearman(a, zero) == (0.0, True)
    assert spearman(zero, a) == (0.0, True)
    assert spearman(zero, zero) == (1.0, True)  # nothing changed
    assert np.isfinite(frame_ssim(a, zero))
    with pytest.raises(ValueError, match="NaN"):
        spearman(a, np.full_like(a, np.nan))
    with pytest.raises(ValueError, match="different shapes"):
        spearman(a, a[:2])


def test_compare_maps_scores_the_clipped_map_and_the_absolute_map():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 16, 16))
    flipped = compare_maps(a, -a)
    assert flipped["absolute"].spearman == pytest.approx(1.0)  # |A| does not see a sign flip
    assert flipped["scored"].spearman < 0  # E = clip(A, 0) does


def test_verdict_rule():
    assert verdict([0.1, 0.2, 0.3], [False] * 3, 0.5) == "pass"
    assert verdict([0.9, 0.4, 0.5], [False] * 3, 0.5) == "fail"
    assert verdict([0.5, 0.5], [False] * 2, 0.5) == "fail"  # strictly below passes
    assert verdict([0.0, 0.0, 0.0], [True, True, False], 0.5) == "inconclusive"


def test_settings_come_from_params_with_clear_errors():
    assert sanity_settings(_params()).clips == 2
    assert sanity_settings(_params(clips=7)).clips == 7
    params = _params()
    del params["sanity"]
    with pytest.raises(ConfigError, match="sanity.clips"):
        sanity_settings(params)
    with pytest.raises(ConfigError, match="no entry for profile 'default'"):
        sanity_settings(_params(clips={"paper": 40}))
    with pytest.raises(ConfigError, match="threshold"):
        sanity_settings(_params(threshold=2))


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
    return Paths(root), es


@pytest.mark.slow
@pytest.mark.parametrize("name, expected", [("gradient", "pass"), ("echo", "fail")])
def test_stage_writes_a_valid_record_with_the_verdict(stage_env, name, expected):
    paths, es = stage_env
    out = sanity_check(name, _params(), paths, eval_set=es, progress=False)
    assert out == paths.root / "sanity" / name
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
    assert load_sanity(paths.root / "sanity", names=[name])[name] == record
    assert not list((paths.root / "sanity").glob(".tmp-*"))


def test_a_failing_submission_gives_a_failed_record_not_an_exception(stage_env):
    paths, es = stage_env
    out = sanity_check("raises", _params(), paths, eval_set=es, progress=False)
    record = json.loads((out / SANITY_FILE).read_text())
    assert record["status"] == "failed" and record["verdict"] is None
    assert record["failure"]["kind"] == "exception" and record["failure"]["step"] == 0
    assert "boom" in record["failure"]["message"]
    with pytest.raises(FileNotFoundError, match="no such submission"):
        sanity_check("missing", _params(), paths, eval_set=es, progress=False)


def test_reading_a_damaged_record_names_the_file(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / SANITY_FILE).write_text("{")
    with pytest.raises(ValueError, match="sanity.json: not valid JSON"):
        read_sanity(tmp_path / "x")
    (tmp_path / "x" / SANITY_FILE).write_text(
        '{"schema": 1, "status": "ok", "verdict": "maybe", "steps": []}'
    )
    with pytest.raises(ValueError, match="needs a verdict"):
        read_sanity(tmp_path / "x")
    assert load_sanity(tmp_path / "absent") == {}
