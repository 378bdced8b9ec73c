"""The frozen-trunk recipe: the pretrained layers stay as they are, the head is a calibrated logistic regression,
the network reproduces it end to end, and the train stage writes a model card with intervals."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.layout import RepoLayout
from benchmark.metrics.baselines import blur_baseline
from benchmark.model import stages as S
from benchmark.model.frozen_head import (
    FeatureSet,
    balanced_threshold,
    pooled_features,
    train_frozen_head,
    video_folds,
)
from benchmark.model.i3d import I3D
from benchmark.model.train import predict_proba

REPO = Path(__file__).resolve().parents[2]


def test_folds_deal_the_anomalous_videos_first():
    videos = ["s/T1"] * 2 + ["s/T2"] * 2 + ["s/N1", "s/N2", "s/N3"]
    labels = [1, 0, 1, 1, 0, 0, 0]
    folds = video_folds(videos, labels, 2)
    assert folds.tolist() == [0, 0, 1, 1, 0, 1, 0]


def test_balanced_threshold_is_the_midpoint_of_the_best_interval():
    z = np.array([-3.0, -2.0, -1.0, 1.0, 2.0])
    y = np.array([0, 0, 1, 1, 1])
    assert balanced_threshold(z, y) == pytest.approx(-1.5)


def test_the_design_adds_the_baselines_of_the_normal_clips_only():
    features = np.arange(2 * 4 * 3, dtype=float).reshape(2, 4, 3)  # 2 views, 4 clips, 3 features
    labels = np.array([0, 1, 0, 1])
    baseline = -np.arange(4 * 3, dtype=float).reshape(4, 3)
    rows = np.array([True, True, False, True])
    x, y = FeatureSet(features, labels, np.array(["a"] * 4)).design(rows)
    assert x.shape == (6, 3) and y.tolist() == [0, 1, 1, 0, 1, 1]
    x, y = FeatureSet(features, labels, np.array(["a"] * 4), baseline).design(rows)
    assert x.shape == (7, 3) and y.tolist() == [0, 1, 1, 0, 1, 1, 0]
    np.testing.assert_array_equal(x[-1], baseline[0])  # clip 2 is normal but not selected


@pytest.fixture(scope="module")
def pretrained():
    torch.manual_seed(0)
    return {k: v.clone() for k, v in I3D(num_classes=400, width=1.0).state_dict().items()}


def test_the_network_reproduces_the_head_and_keeps_the_trunk(pretrained, make_profile):
    gen = np.random.default_rng(0)
    frames = gen.integers(0, 255, (12, 20, 32, 48), dtype=np.uint8)
    labels = np.array([0, 1] * 6)
    frames[labels == 1, :, 10:20, 10:20] = 255  # something to find
    videos = [f"s/v{i % 4}" for i in range(12)]
    profile = make_profile(width=1.0, input=(32, 48), pretrained="kinetics")
    profile = dataclasses.replace(profile, final_endpoint="Mixed_3b", train=dataclasses.replace(
        profile.train, mode="frozen_head", views=1, head_c=1.0, cv_folds=2, calibration="cv_balanced_accuracy"))
    result = train_frozen_head(frames, labels, videos, profile=profile, pretrained=pretrained, seed=0)
    net = result.net
    assert net.final_endpoint == "Mixed_3b" and not net.training
    assert torch.equal(net.state_dict()["Mixed_3b.b0.conv.weight"], pretrained["Mixed_3b.b0.conv.weight"])
    assert result.cv is not None and 0 <= result.cv["roc_auc"] <= 1 and result.cv["folds"] == 2
    # p(anomalous) through the whole network equals the logistic head on the pooled features, shift included
    feats = pooled_features(net, frames, 0, 0)[0]
    z = feats @ net.logits.weight[1, :, 0, 0, 0].double().numpy() + float(net.logits.bias[1])
    p = predict_proba(net, frames)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z)), rtol=1e-5)
    again = train_frozen_head(frames, labels, videos, profile=profile, pretrained=pretrained, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.net.state_dict().values()))


def test_the_train_stage_writes_a_model_card(tmp_path, make_workspace):
    settings = make_workspace(tmp_path, names=())
    settings = dataclasses.replace(settings, profile=dataclasses.replace(
        settings.profile, train=dataclasses.replace(settings.profile.train, epochs=1)))
    layout = RepoLayout(tmp_path)
    S.weights_stage(settings, layout)
    S.train_stage(settings, layout, progress=False)
    card = json.loads(layout.model_card.read_text())
    assert card["grid"] == [24, 36] and card["initialisation"].startswith("random")
    held = card["held_out"]
    assert held["n_clips"] > 0 and held["n_videos"] >= 1
    auc = held["roc_auc"]
    if auc["value"] is not None and auc["clip_ci"] is not None:
        assert auc["clip_ci"][0] <= auc["value"] <= auc["clip_ci"][1]
    assert card["evaluation_clips"]["n"] == 3 and 0 <= card["evaluation_clips"]["fraction"] <= 1
    assert card["cross_validated"] is None  # the fine-tuning recipe has no CV


def _toy_clips():
    gen = np.random.default_rng(1)
    frames = gen.integers(0, 255, (16, 20, 32, 48), dtype=np.uint8)
    labels = np.array([0, 1] * 8)
    frames[labels == 1, :, 8:24, 12:36] = 255  # a bright block the blur keeps
    return frames, labels, [f"s/v{i % 4}" for i in range(16)]


@pytest.mark.parametrize("baseline_normals", [False, True])
def test_baseline_normals_make_the_blurred_clip_the_normal_reference(pretrained, make_profile, baseline_normals):
    frames, labels, videos = _toy_clips()
    profile = make_profile(width=1.0, input=(32, 48), pretrained="kinetics")
    profile = dataclasses.replace(profile, final_endpoint="Mixed_3b", train=dataclasses.replace(
        profile.train, mode="frozen_head", head_c=1.0, cv_folds=2, calibration="cv_balanced_accuracy",
        baseline_normals=baseline_normals))
    if baseline_normals:
        with pytest.raises(ValueError, match="needs the baseline function"):
            train_frozen_head(frames, labels, videos, profile=profile, pretrained=pretrained, seed=0)
    result = train_frozen_head(frames, labels, videos, profile=profile, pretrained=pretrained, seed=0,
                               baseline=blur_baseline)
    from benchmark.data.transforms import to_model_input

    with torch.inference_mode():
        p_blur = torch.softmax(result.net(blur_baseline(to_model_input(frames[labels == 0]))), 1)[:, 1]
    if baseline_normals:
        # trained on as normal: the blurred normal clips fall below the threshold, and CV reports the baselines
        assert float(p_blur.max()) < 0.5
        figures = result.cv
        assert 0 <= figures["baseline_p_anomalous_mean"] <= 1 and 0 <= figures["baseline_below_clip_fraction"] <= 1
    else:
        assert "baseline_p_anomalous_mean" not in result.cv
