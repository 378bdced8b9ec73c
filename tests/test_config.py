"""Every profile in the committed params.yaml is complete, and the paper profile is the paper's recipe."""

from __future__ import annotations

import copy

import pytest

from benchmark.config import PAPER_INPUT, active_profile, load_params
from benchmark.evaluate import _n_seeds
from benchmark.sanity import sanity_settings

PARAMS = load_params("params.yaml")


@pytest.mark.parametrize("name", sorted(PARAMS["profiles"]))
def test_every_profile_parses_and_is_usable_by_every_stage(name):
    params = copy.deepcopy(PARAMS)
    params["profile"] = name
    profile = active_profile(params)
    assert profile.name == name
    assert min(profile.input) >= 32, "the I3D's five stride-2 stages need at least 32 pixels per side"
    assert profile.model_width > 0 and profile.train.epochs >= 1 and profile.train.batch_size >= 1
    if profile.pretrained == "kinetics":
        assert profile.model_width == 1.0, "the Kinetics-400 weights exist only at full width"
    assert sanity_settings(params).clips >= 1  # sanity.clips names every profile
    assert _n_seeds(params, profile) >= 1


def test_the_paper_profile_never_deviates_from_the_paper():
    params = copy.deepcopy(PARAMS)
    params["profile"] = "paper"
    p = active_profile(params)
    assert p.input == PAPER_INPUT == (158, 237)
    assert p.model_width == 1.0 and p.pretrained == "kinetics"
    t = p.train
    assert (t.epochs, t.batch_size, t.lr, t.weight_decay, t.lr_step, t.lr_gamma, t.augment) == (
        100, 5, 1e-3, 1e-4, 30, 0.1, True)
    assert not p.submission_params, "the paper profile runs every submission with its own (the paper's) settings"
    assert sanity_settings(params).clips == PARAMS["split"]["eval_clips"] == 40
