"""Training: the loss goes down, runs are reproducible per seed, inputs are validated, metrics are complete."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.model.i3d import build_model
from benchmark.model.train import predict_proba, random_crop_rescale, train_model


def test_a_tiny_model_learns_a_toy_batch(toy_clips, to_input) -> None:
    frames, labels = toy_clips(n=4, seed=0)
    x, y = to_input(frames), torch.as_tensor(labels)
    net = build_model(0.125, seed=0)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] * 0.8, losses


def test_train_model_is_deterministic_and_reports_metrics(toy_clips, make_profile, to_input) -> None:
    train, test = toy_clips(n=8, seed=0), toy_clips(n=6, seed=1)
    profile = make_profile(epochs=2, batch_size=4)
    rng_before = torch.random.get_rng_state()
    net_a, m_a = train_model(train, test, profile=profile, seed=5, device="cpu", transform=to_input,
                             progress=False)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # the caller's RNG is untouched
    net_b, m_b = train_model(train, test, profile=profile, seed=5, device="cpu", transform=to_input,
                             progress=False)
    net_c, _ = train_model(train, test, profile=profile, seed=6, device="cpu", transform=to_input,
                           progress=False)
    sa, sb, sc = net_a.state_dict(), net_b.state_dict(), net_c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["logits.weight"], sc["logits.weight"])
    assert m_a["train_loss"] == m_b["train_loss"] and len(m_a["train_loss"]) == 2
    assert not net_a.training
    assert 0.0 <= m_a["test_accuracy"] <= 1.0 and 0.0 <= m_a["test_roc_auc"] <= 1.0
    assert m_a["device"] == "cpu" and m_a["seeds"]["init"] == 5 and m_a["n_train_per_class"] == [4, 4]
    assert m_a["class_balance"] == "loss_weights" and m_a["augment"]["flip"] is False
    assert m_a["wall_time_s"] > 0 and m_a["lr"] == [1e-3, 1e-3]
    p = predict_proba(net_a, test[0], transform=to_input)
    assert ((p >= 0.5) == test[1]).mean() == pytest.approx(m_a["test_accuracy"])


def test_step_lr_schedule_follows_the_profile(toy_clips, make_profile, to_input) -> None:
    profile = make_profile(epochs=3, batch_size=8, augment=False)
    profile = profile.__class__(**{**profile.__dict__, "train": profile.train.__class__(
        **{**profile.train.__dict__, "lr_step": 2, "lr_gamma": 0.5})})
    _, metrics = train_model(toy_clips(n=4), toy_clips(n=2, seed=1), profile=profile, seed=0,
                             transform=to_input, progress=False, device="cpu")
    assert metrics["lr"] == pytest.approx([1e-3, 1e-3, 5e-4])


def test_bad_inputs_are_clear_errors(toy_clips, make_profile, to_input) -> None:
    profile = make_profile()
    frames, labels = toy_clips(n=4)
    with pytest.raises(ValueError, match=r"profile's input is \(16, 24\)"):
        train_model(toy_clips(n=4, size=(20, 24)), (frames, labels), profile=profile, seed=0,
                    transform=to_input, progress=False)
    with pytest.raises(ValueError, match="both classes"):
        train_model((frames, np.zeros(4, dtype=np.int64)), (frames, labels), profile=profile, seed=0,
                    transform=to_input, progress=False)
    with pytest.raises(ValueError, match="uint8"):
        train_model((frames.astype(np.float32), labels), (frames, labels), profile=profile, seed=0,
                    transform=to_input, progress=False)
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        train_model((frames, labels[:3]), (frames, labels), profile=profile, seed=0, transform=to_input,
                    progress=False)
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1"):
        train_model((frames, labels + 1), (frames, labels), profile=profile, seed=0, transform=to_input,
                    progress=False)


def test_random_crop_rescale_keeps_shape_and_one_crop_per_clip() -> None:
    gen = torch.Generator().manual_seed(0)
    frame = torch.linspace(-1, 1, 16 * 24).reshape(16, 24)
    x = frame.expand(2, 3, 5, 16, 24).clone()  # every frame identical
    out = random_crop_rescale(x, gen, scale=(0.6, 0.7))
    assert out.shape == x.shape
    assert torch.allclose(out, out[:, :, :1].expand_as(out))  # the same crop for all frames of a clip
    assert not torch.allclose(out, x)  # a 60-70% crop rescaled is not the original
    same = random_crop_rescale(x, gen, scale=(1.0, 1.0))
    assert torch.equal(same, x)
