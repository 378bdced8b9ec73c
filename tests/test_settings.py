"""Typed settings: every committed profile parses, the paper profile is the paper's, errors name the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from benchmark.settings import PAPER_INPUT, ConfigError, Settings, load_params, load_settings

REPO = Path(__file__).resolve().parents[1]
PARAMS = load_params(REPO / "params.yaml")


def _with(**changes) -> dict:
    """A copy of the committed params with dotted keys replaced (``None`` deletes the key)."""
    params = copy.deepcopy(PARAMS)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = params
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return params


@pytest.mark.parametrize("name", sorted(PARAMS["profiles"]))
def test_every_profile_parses_and_is_usable_by_every_stage(name):
    settings = Settings.from_params({**PARAMS, "profile": name})
    profile = settings.profile
    assert profile.name == name
    assert min(profile.input) >= 32, "the I3D's five stride-2 stages need at least 32 pixels per side"
    assert profile.model_width > 0 and profile.train.batch_size >= 1
    if profile.train.mode == "finetune":
        assert profile.train.epochs >= 1
    else:  # a frozen head needs a pretrained trunk, and the page reports its cross-validated figures
        assert profile.pretrained != "none" and profile.train.cv_folds >= 2
    if profile.pretrained == "kinetics":
        assert profile.model_width == 1.0, "the Kinetics-400 weights exist only at full width"
    assert settings.sanity.clips >= 1  # sanity.clips names every profile
    assert settings.evaluate.seeds >= 1


def test_the_paper_profile_never_deviates_from_the_paper():
    settings = Settings.from_params({**PARAMS, "profile": "paper"})
    p = settings.profile
    assert p.input == PAPER_INPUT == (158, 237)
    assert p.model_width == 1.0 and p.pretrained == "kinetics"
    t = p.train
    assert (t.epochs, t.batch_size, t.lr, t.weight_decay, t.lr_step, t.lr_gamma, t.augment) == (
        100, 5, 1e-3, 1e-4, 30, 0.1, True)
    assert not any(p.submission_params.values()), \
        "the paper profile runs every submission with its own (the paper's) settings"
    assert settings.sanity.clips == PARAMS["split"]["eval_clips"] == 40
    assert settings.evaluate.seeds == PARAMS["evaluate"]["seeds"]  # no profile override


def test_profile_overrides_are_merged_into_their_sections():
    default = Settings.from_params({**PARAMS, "profile": "default"})
    assert default.evaluate.seeds == PARAMS["profiles"]["default"]["seeds"]
    assert default.sanity.clips == PARAMS["sanity"]["clips"]["default"]
    one = Settings.from_params(_with(sanity__clips=7))
    assert one.sanity.clips == 7  # one integer for every profile
    assert default.evaluate.seed_list(stochastic=False) == [PARAMS["evaluate"]["seed"]]
    assert len(default.evaluate.seed_list(stochastic=True)) == default.evaluate.seeds


def test_memory_cap_in_bytes_and_zero_means_none():
    assert Settings.from_params(_with(evaluate__memory_cap_gb=2)).evaluate.memory_cap_bytes == 2 * 2**30
    assert Settings.from_params(_with(evaluate__memory_cap_gb=0)).evaluate.memory_cap_bytes is None


@pytest.mark.parametrize("changes, match", [
    ({"sanity": None}, "missing key 'sanity.clips'"),
    ({"sanity__clips": {"paper": 40}}, "no entry for profile 'default'"),
    ({"sanity__threshold": 2}, "sanity.threshold"),
    ({"profile": "nope"}, "profile 'nope' is not one of"),
    ({"evaluate__baseline": "grey"}, "evaluate.baseline = 'grey'; use one of"),
    ({"evaluate__sandbox": "maybe"}, "evaluate.sandbox"),
    ({"evaluate__workers": 0}, "evaluate.workers must be >= 1"),
    ({"evaluate__seed": 1.5}, "evaluate.seed must be an integer"),
    ({"evaluate__n_thresholds": True}, "evaluate.n_thresholds must be an integer"),
    ({"data__source": "ped3"}, "data.source = 'ped3'"),
    ({"split__train_fraction": 1.5}, "split.train_fraction"),
    ({"profiles__default__input": [48]}, "profiles.default.input must be"),
    ({"profiles__default__train__epochs": 0}, "profiles.default.train.epochs must be >= 1"),
    ({"profiles__default__model_width": 0}, "profiles.default.model_width must be > 0"),
    ({"profiles__default__submission_params": {"lime": 3}}, "submission_params must map"),
    ({"tracking__uri": ""}, "tracking.uri must be a non-empty string"),
    ({"profiles__default__train__mode": "frozen_head"}, "frozen_head, which needs a pretrained trunk"),
    ({"profiles__default__train__mode": "distill"}, "train.mode = 'distill'"),
    ({"profiles__default__train__baseline_normals": True}, "baseline_normals is only implemented for mode"),
    ({"profile": "ucsd_cpu", "profiles__ucsd_cpu__train__baseline_normals": "yes"}, "baseline_normals must be true"),
])
def test_errors_name_the_key(changes, match):
    params = _with(**{k: v for k, v in changes.items() if k != "profile"})
    if "profile" in changes:
        params["profile"] = changes["profile"]
    with pytest.raises(ConfigError, match=match):
        Settings.from_params(params)


def test_load_settings_names_the_file(tmp_path):
    missing = tmp_path / "params.yaml"
    with pytest.raises(ConfigError, match="not found"):
        load_settings(missing)
    missing.write_text("profile: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(missing)
    missing.write_text((REPO / "params.yaml").read_text().replace("  n_thresholds: 50", "  n_thresholds: -1"))
    with pytest.raises(ConfigError, match=f"{missing}: evaluate.n_thresholds must be >= 1"):
        load_settings(missing)
