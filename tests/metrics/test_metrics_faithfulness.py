"""Deletion and insertion with toy models whose curves are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.metrics import deletion_insertion

T, H, W = 4, 5, 6


class RegionMean:
    """p(x) = mean of channel ``channel`` of x over the voxels in ``region``; counts its samples."""

    def __init__(self, region: np.ndarray, channel: int = 0):
        self.region = torch.from_numpy(region)
        self.channel = channel
        self.samples = 0
        self.batches: list[int] = []

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        assert torch.is_inference_mode_enabled()
        self.samples += batch.shape[0]
        self.batches.append(batch.shape[0])
        return batch[:, self.channel][:, self.region].mean(dim=1)


def _region_case():
    """A 10-voxel region scored 41/50 .. 50/50; every other voxel scored 0."""
    region = np.zeros((T, H, W), dtype=bool)
    E = np.zeros((T, H, W))
    idx = np.arange(10)
    region.reshape(-1)[idx * 7] = True
    E.reshape(-1)[idx * 7] = (41 + idx) / 50
    clip = torch.ones(3, T, H, W, dtype=torch.float64)
    baseline = torch.zeros_like(clip)
    return region, E, clip, baseline


@pytest.mark.parametrize("channel", [0, 1, 2])
def test_known_curves_and_every_channel_perturbed(channel):
    region, E, clip, baseline = _region_case()
    forward = RegionMean(region, channel)
    out = deletion_insertion(forward, clip, E, baseline)
    # Visiting i = 50 .. 0: at i >= 41 the top 51 - i voxels of the region are selected, at i <= 40 all
    # ten, and the zero voxels only at i = 0.
    selected_in_region = [min(51 - i, 10) for i in range(50, -1, -1)]
    expected_del = [1 - k / 10 for k in selected_in_region]
    expected_ins = [k / 10 for k in selected_in_region]
    np.testing.assert_allclose(out["deletion_curve"], expected_del, atol=1e-15)
    np.testing.assert_allclose(out["insertion_curve"], expected_ins, atol=1e-15)
    assert out["deletion"] == pytest.approx((5.5 + 41) / 51, abs=1e-14)
    assert out["insertion"] == pytest.approx(4.5 / 51, abs=1e-14)
    assert out["p_clip"] == 1.0 and out["p_baseline"] == 0.0
    # 10 distinct partial selections x 2 directions + the clip + the baseline
    assert out["forward_samples"] == forward.samples == 22
    assert out["degenerate"] is False


def test_thresholds_are_reported_in_visiting_order():
    region, E, clip, baseline = _region_case()
    out = deletion_insertion(RegionMean(region), clip, E, baseline, n_thresholds=50)
    assert out["thresholds"] == [i / 50 for i in range(50, -1, -1)]
    assert len(out["deletion_curve"]) == len(out["insertion_curve"]) == 51


def _sigmoid_model(seed: int):
    weights = torch.from_numpy(np.random.default_rng(seed).normal(size=(3, T, H, W)))

    def forward(batch: torch.Tensor) -> torch.Tensor:
        # one sample at a time, so that the output of a sample cannot depend on its batch
        return torch.stack([torch.sigmoid((x * weights).sum()) for x in batch])

    return forward


def _dense_case(seed: int = 0):
    rng = np.random.default_rng(seed)
    clip = torch.from_numpy(rng.normal(size=(3, T, H, W)))
    baseline = torch.from_numpy(rng.normal(size=(3, T, H, W)) * 0.1)
    # 120 distinct values covering every one of the 50 bins: a dense map
    E = rng.permutation(np.linspace(0.0, 1.0, T * H * W)).reshape(T, H, W)
    attribution = np.stack([E, E * 0.5, -E * 0.25])  # channel sum 1.25 E
    return clip, attribution, baseline


def _same(a: dict, b: dict, keys=("deletion", "insertion", "deletion_curve", "insertion_curve")) -> None:
    for key in keys:
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-12, err_msg=key)


def test_dense_map_matches_the_plain_loop(naive_deletion_insertion):
    clip, attribution, baseline = _dense_case()
    forward = _sigmoid_model(1)
    out = deletion_insertion(forward, clip, attribution, baseline)
    naive = naive_deletion_insertion(forward, clip, np.maximum(attribution.sum(0), 0), baseline)
    _same(out, naive)
    assert naive["calls"] == 103
    assert out["forward_samples"] == 102  # x_ins at tau_0 is the clip itself
    with_known = deletion_insertion(
        forward, clip, attribution, baseline, p_clip=out["p_clip"], p_baseline=out["p_baseline"]
    )
    _same(with_known, out)
    assert with_known["forward_samples"] == 100


def test_blocky_map_shares_passes_and_matches_the_plain_loop(naive_deletion_insertion):
    clip, _, baseline = _dense_case(2)
    block_scores = np.array([[0.1, 0.9], [0.4, 0.7]])  # four occlusion-like blocks
    E = np.kron(np.ones((T, 1, 1)), np.kron(block_scores, np.ones((3, 3))))[:, :H, :W]
    forward = _sigmoid_model(3)
    out = deletion_insertion(forward, clip, E, baseline)
    _same(out, naive_deletion_insertion(forward, clip, E, baseline))
    # Normalised blocks: 1, .78, .44, .11. Partial selections: {1}, {1, .78}, {1, .78, .44}; from
    # tau_5 = 0.1 down every block is selected, which is the baseline (deletion) or the clip (insertion).
    assert out["forward_samples"] == 2 + 2 * 3


def test_many_thresholds_match_the_plain_loop(naive_deletion_insertion):
    clip, attribution, baseline = _dense_case(12)
    forward = _sigmoid_model(13)
    E = np.maximum(attribution.sum(0), 0)
    out = deletion_insertion(forward, clip, attribution, baseline, n_thresholds=300, batch_size=64)
    _same(out, naive_deletion_insertion(forward, clip, E, baseline, n_thresholds=300))
    assert len(out["deletion_curve"]) == 301


@pytest.mark.parametrize("batch_size", [1, 3, 7, 16, 500])
def test_batching_does_not_change_results(batch_size):
    clip, attribution, baseline = _dense_case(4)
    forward = _sigmoid_model(5)
    reference = deletion_insertion(forward, clip, attribution, baseline, batch_size=16)
    counted = RegionMean(np.ones((T, H, W), dtype=bool))

    def tracked(batch: torch.Tensor) -> torch.Tensor:
        counted(batch)
        return forward(batch)

    out = deletion_insertion(tracked, clip, attribution, baseline, batch_size=batch_size)
    for key in ("deletion", "insertion", "deletion_curve", "insertion_curve"):
        assert out[key] == reference[key], key
    assert max(counted.batches) <= batch_size
    assert len(counted.batches) == -(-out["forward_samples"] // batch_size)
    assert sum(counted.batches) == out["forward_samples"]


def test_degenerate_map():
    clip, _, baseline = _dense_case(6)
    forward = _sigmoid_model(7)
    out = deletion_insertion(forward, clip, -np.ones((T, H, W)), baseline)
    assert out["degenerate"] is True
    assert out["forward_samples"] == 2
    assert out["deletion"] == pytest.approx(out["p_clip"] - out["p_baseline"], abs=1e-15)
    assert out["insertion"] == 0.0


def test_tensor_attribution_and_float32_clip():
    clip, attribution, baseline = _dense_case(8)
    forward = _sigmoid_model(9)
    a = deletion_insertion(forward, clip, torch.from_numpy(attribution).float(), baseline)
    b = deletion_insertion(forward, clip, attribution.astype(np.float32), baseline)
    assert a["deletion_curve"] == b["deletion_curve"]
    region, E, ones, zeros = _region_case()
    single = deletion_insertion(RegionMean(region), ones.float(), E, zeros.float())
    assert single["deletion"] == pytest.approx((5.5 + 41) / 51, abs=1e-6)


def test_errors():
    clip, attribution, baseline = _dense_case(10)
    forward = _sigmoid_model(11)
    with pytest.raises(ValueError, match="baseline"):
        deletion_insertion(forward, clip, attribution, baseline[:, :2])
    with pytest.raises(ValueError, match="baseline"):
        deletion_insertion(forward, clip, attribution, baseline.float())
    with pytest.raises(ValueError, match="attribution"):
        deletion_insertion(forward, clip, attribution[:, :2], baseline)
    with pytest.raises(ValueError, match="batch_size"):
        deletion_insertion(forward, clip, attribution, baseline, batch_size=0)
    with pytest.raises(ValueError, match="clip"):
        deletion_insertion(forward, clip[None], attribution, baseline[None])
    with pytest.raises(ValueError, match=r"shape \(2,\)|\(2,\)"):
        deletion_insertion(lambda b: torch.zeros(b.shape[0], 2), clip, attribution, baseline, batch_size=2)
    with pytest.raises(ValueError, match="NaN"):
        deletion_insertion(lambda b: torch.full((b.shape[0],), float("nan")), clip, attribution, baseline)
    bad = attribution.copy()
    bad[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        deletion_insertion(forward, clip, bad, baseline)
    with pytest.raises(ValueError, match="p_clip"):
        deletion_insertion(forward, clip, attribution, baseline, p_clip=float("nan"))
