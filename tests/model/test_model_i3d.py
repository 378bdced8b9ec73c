"""The I3D architecture: shapes, published channel counts, TF SAME padding, explainer-safe ReLUs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmark.model.i3d import (
    I3D,
    InceptionBlock,
    MaxPool3dSame,
    ProbabilityModel,
    Unit3D,
    build_model,
    pad_same,
    same_padding,
)


@pytest.fixture(scope="module")
def tiny() -> I3D:
    return build_model(0.125, seed=0).eval()


@pytest.mark.parametrize(
    "shape", [(2, 3, 8, 16, 24), (1, 3, 20, 48, 72), (1, 3, 1, 1, 1), (3, 3, 5, 7, 9), (1, 3, 2, 33, 17)]
)
def test_output_shape_any_input_size(tiny: I3D, shape: tuple[int, ...]) -> None:
    with torch.no_grad():
        out = tiny(torch.randn(shape))
    assert out.shape == (shape[0], 2)
    assert torch.isfinite(out).all()


def test_feature_map_size_at_paper_geometry() -> None:
    # A 20x158x237 clip leaves a 3x5x8 map (why the published (2, 7, 7) pool must become adaptive).
    net = build_model(0.0625, seed=0).eval()
    with torch.no_grad():
        feats = net.features(torch.zeros(1, 3, 20, 158, 237))
    assert feats.shape == (1, net.feature_channels, 3, 5, 8)


def test_published_channel_counts_and_parameter_count() -> None:
    net = I3D(num_classes=2, width=1.0)
    n_params = sum(p.numel() for p in net.parameters())
    assert 12.2e6 < n_params < 12.4e6, n_params
    assert n_params == 12_289_314
    assert net.Conv3d_1a_7x7.conv.out_channels == 64
    assert net.Conv3d_2b_1x1.conv.out_channels == 64
    assert net.Conv3d_2c_3x3.conv.out_channels == 192
    block = net.Mixed_3b
    got = (block.b0.conv.out_channels, block.b1a.conv.out_channels, block.b1b.conv.out_channels,
           block.b2a.conv.out_channels, block.b2b.conv.out_channels, block.b3b.conv.out_channels)
    assert got == (64, 96, 128, 16, 32, 32)
    outs = {name: getattr(net, name).out_channels for name in ("Mixed_3b", "Mixed_3c", "Mixed_4f", "Mixed_5c")}
    assert outs == {"Mixed_3b": 256, "Mixed_3c": 480, "Mixed_4f": 832, "Mixed_5c": 1024}
    assert net.logits.in_channels == 1024 and net.logits.bias is not None


def test_unit_is_conv_without_bias_plus_bn_eps_1e3() -> None:
    unit = I3D(width=0.125).Conv3d_1a_7x7
    assert unit.conv.bias is None and unit.conv.kernel_size == (7, 7, 7) and unit.conv.stride == (2, 2, 2)
    assert unit.bn.eps == pytest.approx(1e-3) and unit.bn.momentum == pytest.approx(0.1)


def test_width_scales_every_channel_count_with_minimum_one() -> None:
    quarter = I3D(width=0.25)
    assert quarter.Conv3d_1a_7x7.conv.out_channels == 16
    assert quarter.Mixed_3b.b2a.conv.out_channels == 4
    assert quarter.Mixed_5c.out_channels == 256
    minimal = I3D(width=1e-4)
    assert all(m.out_channels == 1 for m in minimal.modules() if isinstance(m, nn.Conv3d) and m is not minimal.logits)


def test_relus_are_not_inplace_and_each_runs_exactly_once(tiny: I3D) -> None:
    relus = [m for m in tiny.modules() if isinstance(m, nn.ReLU)]
    units = [m for m in tiny.modules() if isinstance(m, Unit3D)]
    assert len(relus) == len(units) == 3 + 6 * 9
    assert all(not r.inplace for r in relus)
    assert len({id(r) for r in relus}) == len(relus)
    calls: dict[int, int] = {}
    handles = [r.register_forward_hook(lambda m, i, o: calls.__setitem__(id(m), calls.get(id(m), 0) + 1))
               for r in relus]
    try:
        with torch.no_grad():
            tiny(torch.randn(1, 3, 4, 8, 8))
    finally:
        for h in handles:
            h.remove()
    assert sorted(calls.values()) == [1] * len(relus)


@pytest.mark.parametrize("size,kernel,stride,expected", [
    (224, 7, 2, (2, 3)), (112, 3, 2, (0, 1)), (8, 3, 1, (1, 1)), (5, 2, 2, (0, 1)), (4, 2, 2, (0, 0)),
    (1, 7, 2, (3, 3)), (10, 1, 1, (0, 0)),
])
def test_tf_same_padding(size: int, kernel: int, stride: int, expected: tuple[int, int]) -> None:
    assert same_padding(size, kernel, stride) == expected


def test_pad_same_pads_with_the_value_and_leaves_unpadded_inputs_alone() -> None:
    x = torch.ones(1, 1, 4, 5, 6)
    assert pad_same(x, (1, 1, 1), (1, 1, 1), 0.0) is x
    padded = pad_same(x, (3, 2, 1), (1, 2, 1), -7.0)
    assert padded.shape == (1, 1, 4 + 2, 5 + 1, 6)  # T: (1, 1); H: ceil(5/2)=3 outputs need 6 -> (0, 1)
    assert padded[0, 0, 0].eq(-7.0).all() and padded[0, 0, :, -1].eq(-7.0).all() and padded[0, 0, 1:-1, :-1].eq(1).all()


def test_conv_output_sizes_follow_tf_same() -> None:
    unit = Unit3D(1, 1, kernel=(7, 7, 7), stride=(2, 2, 2))
    out = unit(torch.zeros(1, 1, 20, 158, 237))
    assert out.shape[2:] == (10, 79, 119)  # ceil(D / 2)


def test_max_pool_padding_never_wins() -> None:
    pool = MaxPool3dSame((3, 3, 3), (1, 1, 1))
    x = -torch.rand(1, 2, 3, 4, 5) - 1.0  # all strictly negative: zero padding would show up as 0
    out = pool(x)
    assert out.shape == x.shape and (out < -1.0).all()


def test_channels_last_3d_input_gives_the_same_output(tiny: I3D) -> None:
    x = torch.randn(2, 3, 4, 8, 12)
    with torch.no_grad():
        ref = tiny(x)
        out = tiny(x.contiguous(memory_format=torch.channels_last_3d))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_probability_model_and_input_gradient(tiny: I3D) -> None:
    model = ProbabilityModel(tiny)
    x = torch.randn(2, 3, 4, 8, 8, requires_grad=True)
    p = model(x)
    assert p.shape == (2, 2)
    torch.testing.assert_close(p.sum(1), torch.ones(2))
    p[:, 1].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_build_model_seed_is_reproducible_and_leaves_global_rng_alone() -> None:
    before = torch.random.get_rng_state()
    a, b, c = build_model(0.125, seed=3), build_model(0.125, seed=3), build_model(0.125, seed=4)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.Conv3d_1a_7x7.conv.weight, c.Conv3d_1a_7x7.conv.weight)


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"width": -1.0}, {"num_classes": 0}, {"dropout": 1.0}])
def test_bad_constructor_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        I3D(**kwargs)


def test_wrong_input_layout_is_a_clear_error(tiny: I3D) -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        tiny(torch.randn(1, 8, 3, 16, 16))


def test_inception_block_concatenates_branches() -> None:
    block = InceptionBlock(8, (1, 2, 3, 4, 5, 6))
    assert block(torch.randn(1, 8, 3, 4, 4)).shape == (1, 1 + 3 + 5 + 6, 3, 4, 4)
