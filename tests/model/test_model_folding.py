"""The eval-mode I3D's folded path: the same outputs and input gradients as running its modules one by one.

In eval mode with frozen weights a ``Unit3D`` runs its convolution with the BatchNorm folded in, and SAME padding
goes to the ops (``benchmark/model/i3d.py``). The reference here is the same network forced onto the module path
by a no-op hook on every BatchNorm (a hooked module is always called).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from benchmark.model.i3d import (
    I3D,
    MaxPool3dSame,
    Unit3D,
    build_model,
    conv3d_same,
    fold_batchnorm,
    max_pool3d_same,
    pad_same,
)


def _frozen(net: I3D, seed: int) -> I3D:
    """Eval mode, frozen, with non-trivial BatchNorm statistics and affine terms."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm3d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
    return net.eval().requires_grad_(False)


@contextlib.contextmanager
def _module_by_module(net: nn.Module) -> Iterator[None]:
    handles = [m.register_forward_pre_hook(lambda mod, args: None)
               for m in net.modules() if isinstance(m, nn.BatchNorm3d)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _close(a: torch.Tensor, b: torch.Tensor, rel: float) -> bool:
    return bool((a - b).abs().max() <= rel * b.abs().max())


def _input_grad(net: I3D, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(net(x)[:, 1].sum(), x)
    return grad


@pytest.mark.parametrize(("endpoint", "gray_stem", "grid"), [
    ("Mixed_3c", True, (8, 24, 36)),   # the ucsd_cpu network (on a smaller grid)
    ("Mixed_5c", False, (9, 25, 37)),  # every pool kind, odd sizes: asymmetric SAME padding everywhere
])
def test_logits_and_input_gradients_match_the_module_path(endpoint, gray_stem, grid) -> None:
    net = _frozen(build_model(0.25, seed=1, final_endpoint=endpoint, gray_stem=gray_stem), seed=2)
    assert net.Conv3d_1a_7x7.folded() is not None
    g = torch.Generator().manual_seed(3)
    grey = (torch.rand(2, 1, *grid, generator=g) * 2 - 1).expand(-1, 3, -1, -1, -1).contiguous()
    colour = torch.rand(2, 3, *grid, generator=g) * 2 - 1
    for x in (grey, colour, colour.contiguous(memory_format=torch.channels_last_3d)):
        with torch.inference_mode():
            fast = net(x)
        fast_grad = _input_grad(net, x)
        with _module_by_module(net):
            assert net.Conv3d_1a_7x7.folded() is None
            with torch.inference_mode():
                ref = net(x)
            ref_grad = _input_grad(net, x)
        assert _close(fast, ref, 1e-5)
        # a ReLU whose input sits at rounding distance from 0 may switch: compare in bulk, and the peak loosely
        assert (fast_grad - ref_grad).abs().mean() <= 1e-4 * ref_grad.abs().mean()
        assert _close(fast_grad, ref_grad, 0.05)


def test_training_mode_and_trainable_weights_take_the_module_path() -> None:
    net = _frozen(build_model(0.25, seed=0, final_endpoint="Mixed_3b"), seed=0)
    unit = net.Mixed_3b.b1b
    assert unit.folded() is not None
    unit.conv.weight.requires_grad_(True)
    assert unit.folded() is None
    unit.conv.weight.requires_grad_(False)
    net.train()
    assert unit.folded() is None
    x = torch.randn(4, 3, 6, 16, 24)
    before = net.Mixed_3b.b1b.bn.running_mean.clone()
    net(x)  # batch statistics, and the running statistics update, as BatchNorm in training does
    assert not torch.equal(net.Mixed_3b.b1b.bn.running_mean, before)


def test_hooks_on_every_inner_module_still_fire() -> None:
    net = _frozen(build_model(0.25, seed=0, final_endpoint="Mixed_3b"), seed=1)
    inner = [m for m in net.modules() if isinstance(m, (nn.Conv3d, nn.BatchNorm3d, nn.ReLU, nn.MaxPool3d))]
    calls: dict[int, int] = {}
    handles = [m.register_forward_hook(lambda mod, i, o: calls.__setitem__(id(mod), calls.get(id(mod), 0) + 1))
               for m in inner]
    try:
        with torch.no_grad():
            net(torch.randn(1, 3, 4, 8, 8))
    finally:
        for h in handles:
            h.remove()
    assert sorted(calls.values()) == [1] * len(inner)


def test_a_global_hook_or_a_replaced_forward_takes_the_module_path() -> None:
    net = _frozen(build_model(0.25, seed=0, final_endpoint="Conv3d_1a_7x7"), seed=1)
    unit = net.Conv3d_1a_7x7
    handle = nn.modules.module.register_module_forward_hook(lambda mod, i, o: None)
    try:
        assert unit.folded() is None
    finally:
        handle.remove()
    assert unit.folded() is not None
    unit.bn.forward = lambda x: x  # type: ignore[method-assign]
    assert unit.folded() is None


def test_folded_weights_follow_every_change_of_the_parameters() -> None:
    net = _frozen(build_model(0.25, seed=0, final_endpoint="Conv3d_2b_1x1"), seed=1)
    x = torch.randn(2, 3, 6, 16, 24)

    def check() -> None:
        with torch.no_grad():
            fast = net(x)
            with _module_by_module(net):
                ref = net(x)
        assert _close(fast, ref, 1e-5)

    check()
    unit = net.Conv3d_2b_1x1
    with torch.no_grad():
        unit.conv.weight.mul_(-2)               # in place
        unit.bn.running_var.add_(3)
    check()
    unit.bn.weight = nn.Parameter(torch.full_like(unit.bn.weight, 0.25), requires_grad=False)  # replaced
    check()
    unit.bn.running_mean.data = unit.bn.running_mean.data + 1.0  # new storage under the same tensor
    check()
    net.load_state_dict(_frozen(build_model(0.25, seed=5, final_endpoint="Conv3d_2b_1x1"), seed=6).state_dict())
    check()
    net.double()
    with torch.no_grad():
        assert net(x.double()).dtype == torch.float64


def test_copies_and_pickles_leave_the_cache_behind() -> None:
    net = _frozen(build_model(0.25, seed=0, final_endpoint="Conv3d_1a_7x7"), seed=1)
    with torch.no_grad():
        net(torch.randn(1, 3, 4, 8, 8))
    assert "_folded_cache" in vars(net.Conv3d_1a_7x7)
    clone = copy.deepcopy(net)
    assert "_folded_cache" not in vars(clone.Conv3d_1a_7x7)
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    x = torch.randn(1, 3, 4, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x)) and torch.equal(clone(x), net(x))


def test_fold_batchnorm_is_the_affine_map() -> None:
    conv = nn.Conv3d(3, 5, (1, 3, 3), bias=False)
    bn = nn.BatchNorm3d(5, eps=1e-3).eval()
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2), bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    x = torch.randn(2, 3, 4, 6, 7)
    weight, bias = fold_batchnorm(conv.weight, bn)
    with torch.no_grad():
        assert _close(torch.nn.functional.conv3d(x, weight, bias), bn(conv(x)), 1e-5)


@pytest.mark.parametrize(("kernel", "stride", "size"), [
    ((7, 7, 7), (2, 2, 2), (9, 25, 37)), ((3, 3, 3), (1, 1, 1), (4, 5, 6)), ((1, 1, 1), (1, 1, 1), (3, 4, 5)),
    ((3, 3, 3), (2, 2, 2), (1, 2, 3)),
])
def test_conv3d_same_is_pad_then_convolve(kernel, stride, size) -> None:
    weight, bias = torch.randn(4, 2, *kernel), torch.randn(4)
    x = torch.randn(2, 2, *size, requires_grad=True)
    out = conv3d_same(x, weight, bias, stride)
    ref_x = x.detach().clone().requires_grad_(True)
    ref = torch.nn.functional.conv3d(pad_same(ref_x, kernel, stride, 0.0), weight, bias, stride=stride)
    assert out.shape == ref.shape and _close(out, ref, 1e-5)
    grad = torch.randn_like(ref)
    out.backward(grad)
    ref.backward(grad)
    assert _close(x.grad, ref_x.grad, 1e-5)


@pytest.mark.parametrize(("kernel", "stride"), [((1, 3, 3), (1, 2, 2)), ((3, 3, 3), (2, 2, 2)),
                                                ((2, 2, 2), (2, 2, 2)), ((3, 3, 3), (1, 1, 1))])
@pytest.mark.parametrize("size", [(1, 1, 1), (2, 5, 7), (9, 24, 36), (10, 25, 37)])
def test_max_pool3d_same_is_bit_identical_to_the_inf_padded_pool(kernel, stride, size) -> None:
    x = -torch.rand(2, 3, *size) - 1.0  # strictly negative: a zero pad would win somewhere
    x.requires_grad_(True)
    out = max_pool3d_same(x, kernel, stride)
    ref_x = x.detach().clone().requires_grad_(True)
    ref = torch.nn.functional.max_pool3d(pad_same(ref_x, kernel, stride, -math.inf), kernel, stride)
    assert torch.equal(out, ref)
    out.sum().backward()
    ref.sum().backward()
    assert torch.equal(x.grad, ref_x.grad)
    assert torch.equal(MaxPool3dSame(kernel, stride)(x.detach()), ref.detach())


def test_unit_on_a_padded_input_matches_its_forward() -> None:
    unit = _frozen(nn.Sequential(Unit3D(2, 3, kernel=(3, 3, 3), stride=(2, 1, 2))), seed=0)[0]  # type: ignore[arg-type]
    x = torch.randn(1, 2, 5, 5, 6)
    with torch.no_grad():
        fast = unit.apply_padded(pad_same(x, (3, 3, 3), (2, 1, 2), 0.0))
        assert _close(fast, unit(x), 1e-6)
        with _module_by_module(unit):
            assert _close(fast, unit(x), 1e-5)
