"""The straightforward scoring versions agree with the library's; the floor is measured sensibly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from benchmark.metrics import deletion_insertion, human_centric
from benchmark.perf.floor import FloorTimes, measure_floor
from benchmark.perf.scoring import plain_deletion_insertion, plain_human_centric


class _Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv3d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(torch.relu(self.conv(x)).mean(dim=(2, 3, 4))), dim=1)


@pytest.fixture
def data():
    generator = torch.Generator().manual_seed(0)
    clip = torch.rand((3, 6, 8, 10), generator=generator) * 2 - 1
    baseline = clip * 0.1
    attribution = np.random.default_rng(0).random((6, 8, 10))
    attribution[attribution < 0.3] = 0.0
    mask = np.zeros((6, 8, 10), dtype=bool)
    mask[1:5, 2:6, 3:7] = True
    mask[0, 0, 0] = True
    return _Toy().eval(), clip, baseline, attribution, mask


def test_plain_deletion_insertion_equals_the_library(data):
    model, clip, baseline, attribution, _ = data

    def forward(x):
        return model(x)[:, 1]

    ours = deletion_insertion(forward, clip, torch.from_numpy(attribution), baseline, 50, batch_size=8)
    plain = plain_deletion_insertion(forward, clip, attribution, baseline, 50)
    # float32 model passes in other batches: bound the difference relative to the largest change of p
    change = max(float(np.max(np.abs(np.asarray(ours[k]) - ours["p_clip"])))
                 for k in ("deletion_curve", "insertion_curve"))
    assert abs(plain["deletion"] - ours["deletion"]) <= 1e-4 * change
    assert abs(plain["insertion"] - ours["insertion"]) <= 1e-4 * change


def test_plain_human_centric_equals_the_library(data):
    *_, attribution, mask = data
    ours = human_centric(attribution, mask, 50)
    plain = plain_human_centric(attribution, mask, 50)
    for key, value in plain.items():
        assert value == pytest.approx(float(ours[key]), abs=1e-9), key


def test_floor_covers_powers_of_two_within_the_budget(data):
    model = data[0]
    floor = measure_floor(model, (3, 6, 8, 10), repeats=1, max_batch=4)
    assert sorted(floor.forward_by_batch) == [1, 2, 4] and sorted(floor.train_by_batch) == [1, 2, 4]
    assert floor.forward_s == min(floor.forward_by_batch.values()) > 0
    assert floor.backward_s >= 0
    assert floor.floor(10, 0) == pytest.approx(10 * floor.forward_s)
    tight = measure_floor(model, (3, 6, 8, 10), repeats=1, budget_bytes=3 * 6 * 8 * 10 * 4 * 48 * 2.5)
    assert max(tight.train_by_batch) == 2  # 2 samples fit the backward budget, 4 do not


def test_floor_times_extra_batches_and_skips_those_over_the_limit(data):
    model = data[0]
    floor = measure_floor(model, (3, 6, 8, 10), repeats=1, max_batch=4, extra_batches=[3, 5, 3])
    assert sorted(floor.forward_by_batch) == [1, 2, 3, 4] and sorted(floor.train_by_batch) == [1, 2, 3, 4]
    assert floor.forward_by_batch[3] > 0 and floor.train_by_batch[3] > 0
    assert floor.forward_s == min(floor.forward_by_batch.values())  # the best over every size timed
    with pytest.raises(ValueError, match="extra_batches"):
        measure_floor(model, (3, 6, 8, 10), repeats=1, max_batch=4, extra_batches=[0])


def test_own_batch_floor_uses_the_time_at_min_samples_best_batch():
    floor = FloorTimes(forward_s=1.0, backward_s=3.0, forward_batch=4, backward_batch=4,
                       forward_by_batch={1: 3.0, 2: 2.0, 4: 1.0}, train_by_batch={1: 9.0, 2: 5.0, 4: 4.0})
    assert floor.own_batch_floor(1, 1) == 9.0  # one fwd+bwd sample at batch 1
    assert floor.own_batch_floor(2, 0) == 4.0  # two forward samples at batch 2
    assert floor.own_batch_floor(8, 8) == 32.0 == floor.floor(8, 8)  # fills the best batch: the plain floor
    assert floor.own_batch_floor(6, 2) == 2 * 5.0 + 4 * 1.0  # 2 fwd+bwd at batch 2, 4 forward-only at batch 4
    assert floor.own_batch_floor(6, 2) >= floor.floor(6, 2)
    assert floor.own_batch_floor(0, 0) == 0.0
    with pytest.raises(ValueError, match="extra_batches=\\[3\\]"):
        floor.own_batch_floor(3, 3)
    with pytest.raises(ValueError, match="backward_samples <= forward_samples"):
        floor.own_batch_floor(1, 2)
