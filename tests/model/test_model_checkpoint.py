"""Checkpoints: round trip, recorded meta, and a clear error for every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmark.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from benchmark.model.i3d import build_model

META = {"input_size": (16, 24), "clip_length": 8, "profile": "tiny", "pretrained": "none", "seed": 7,
        "data_source": "synthetic", "split_id": "0123456789abcdef"}


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    net = build_model(0.125, seed=1)
    with torch.no_grad():  # make running stats non-trivial so they are checked too
        net.Conv3d_1a_7x7.bn.running_mean.uniform_(-1, 1)
    path = tmp_path / "model.pt"
    save_checkpoint(path, net, {**META, "test_roc_auc": 0.97})
    return path, net


def test_round_trip_weights_meta_and_outputs(saved) -> None:
    path, net = saved
    loaded, meta = load_checkpoint(path)
    assert not loaded.training
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), loaded.state_dict().values()))
    assert meta["width"] == 0.125 and meta["num_classes"] == 2 and meta["input_size"] == [16, 24]
    for key in ("clip_length", "profile", "pretrained", "seed", "data_source", "split_id"):
        assert meta[key] == META[key]
    assert meta["test_roc_auc"] == 0.97 and len(meta["weights_sha256"]) == 64
    x = torch.randn(1, 3, 4, 8, 8)
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x))
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]  # atomic: no temp files left


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"absent\.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_truncated_file(saved) -> None:
    path, _ = saved
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match=r"model\.pt: unreadable or truncated"):
        load_checkpoint(path)


def test_not_one_of_our_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save(build_model(0.125, seed=0).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"foreign\.pt: not a video-xai-benchmark .*bare state dict"):
        load_checkpoint(path)
    path.write_text("hello")
    with pytest.raises(CheckpointError, match="foreign.pt"):
        load_checkpoint(path)


def test_checkpoint_from_another_model_names_keys_and_shapes(saved) -> None:
    path, _ = saved
    blob = torch.load(path, weights_only=True)
    blob["meta"]["width"] = 0.25  # claims another architecture than its weights
    torch.save(blob, path)
    expected = r"shape mismatches \['Conv3d_1a_7x7.bn.bias: file \(8,\) vs model \(16,\)"
    with pytest.raises(CheckpointError, match=expected):
        load_checkpoint(path)
    blob["meta"]["width"] = 0.125
    del blob["state_dict"]["Mixed_4c.b1b.conv.weight"]
    blob["state_dict"]["extra.weight"] = torch.zeros(1)
    torch.save(blob, path)
    expected = r"missing keys \['Mixed_4c.b1b.conv.weight'\].*unexpected keys \['extra.weight'\]"
    with pytest.raises(CheckpointError, match=expected):
        load_checkpoint(path)


def test_corrupted_weights_fail_the_hash(saved) -> None:
    path, _ = saved
    blob = torch.load(path, weights_only=True)
    blob["state_dict"]["logits.bias"] += 1.0
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)


def test_save_requires_meta_and_agreement(tmp_path: Path) -> None:
    net = build_model(0.125, seed=0)
    with pytest.raises(ValueError, match="split_id"):
        save_checkpoint(tmp_path / "m.pt", net, {k: v for k, v in META.items() if k != "split_id"})
    with pytest.raises(ValueError, match="width"):
        save_checkpoint(tmp_path / "m.pt", net, {**META, "width": 1.0})
    with pytest.raises(ValueError, match="JSON-like"):
        save_checkpoint(tmp_path / "m.pt", net, {**META, "note": object()})
    assert not (tmp_path / "m.pt").exists()
