"""The polyphase input gradient of a strided convolution equals autograd's, to float rounding."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmark.model.i3d import build_model
from benchmark.model.polyphase import StridedConv3d, polyphase_conv3d, polyphase_input_grad


def _reference_grad(x: torch.Tensor, weight: torch.Tensor, stride, grad_out: torch.Tensor) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    F.conv3d(x, weight, stride=stride).backward(grad_out)
    return x.grad


def _close(a: torch.Tensor, b: torch.Tensor, rel: float) -> bool:
    """Equal up to ``rel`` of the larger tensor's magnitude (a tolerance relative to what it bounds)."""
    return bool((a - b).abs().max() <= rel * b.abs().max().clamp_min(1e-30))


@pytest.mark.parametrize(
    ("kernel", "stride", "size"),
    [
        ((7, 7, 7), (2, 2, 2), (13, 17, 20)),  # the I3D's first convolution, odd and even sizes
        ((3, 3, 3), (1, 2, 2), (6, 9, 10)),
        ((1, 3, 5), (2, 1, 3), (5, 8, 14)),
        ((2, 2, 2), (2, 2, 2), (4, 6, 8)),  # kernel = stride: every input position reached once
        ((3, 3, 3), (3, 3, 3), (10, 10, 11)),  # trailing positions that no window reaches get 0
    ],
)
def test_input_grad_matches_autograd(kernel, stride, size) -> None:
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(5, 3, *kernel, generator=g)
    x = torch.randn(2, 3, *size, generator=g)
    out_shape = F.conv3d(x, weight, stride=stride).shape
    grad_out = torch.randn(out_shape, generator=g)
    ours = polyphase_input_grad(grad_out, weight, stride, size)
    assert ours.shape == x.shape
    assert _close(ours, _reference_grad(x, weight, stride, grad_out), 1e-5)


def test_input_grad_keeps_channels_last() -> None:
    weight = torch.randn(4, 3, 3, 3, 3)
    grad_out = torch.randn(2, 4, 3, 4, 5).contiguous(memory_format=torch.channels_last_3d)
    ours = polyphase_input_grad(grad_out, weight, (2, 2, 2), (7, 9, 11))
    assert ours.is_contiguous(memory_format=torch.channels_last_3d)


def test_strided_conv_forward_is_conv3d_and_gradient_matches() -> None:
    torch.manual_seed(0)
    conv = StridedConv3d(3, 6, (7, 7, 7), stride=(2, 2, 2), bias=False).requires_grad_(False)
    x = torch.randn(2, 3, 11, 16, 18, requires_grad=True)
    out = conv(x)
    assert torch.equal(out, F.conv3d(x, conv.weight, stride=2))  # the forward is F.conv3d itself
    assert out.grad_fn is not None and "Polyphase" in type(out.grad_fn).__name__
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    assert _close(x.grad, _reference_grad(x, conv.weight, (2, 2, 2), grad_out), 1e-5)


def test_strided_conv_trains_its_weight_as_conv3d() -> None:
    conv = StridedConv3d(3, 4, (3, 3, 3), stride=(2, 2, 2), bias=False)
    x = torch.randn(1, 3, 6, 7, 8, requires_grad=True)
    out = conv(x)
    assert "Polyphase" not in type(out.grad_fn).__name__
    out.sum().backward()
    assert conv.weight.grad is not None and x.grad is not None


def test_double_backward() -> None:
    weight = torch.randn(2, 1, 3, 3, 3, dtype=torch.float64)
    x = torch.randn(1, 1, 5, 6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: polyphase_conv3d(t, weight, (2, 2, 2)), (x,))
    assert torch.autograd.gradgradcheck(lambda t: polyphase_conv3d(t, weight, (2, 2, 2)) ** 2, (x,))


def test_rejects_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="must not require a gradient"):
        polyphase_conv3d(torch.randn(1, 1, 4, 4, 4), torch.randn(1, 1, 3, 3, 3, requires_grad=True), (2, 2, 2))
    with pytest.raises(ValueError, match="stride 1"):
        polyphase_conv3d(torch.randn(1, 1, 4, 4, 4), torch.randn(1, 1, 3, 3, 3), (1, 1, 1))


def test_i3d_input_gradient_and_hooks() -> None:
    """The whole network's input gradient is autograd's, and hooks on the first convolution still fire."""
    net = build_model(0.25, seed=0, final_endpoint="Mixed_3b").eval().requires_grad_(False)
    assert isinstance(net.Conv3d_1a_7x7.conv, StridedConv3d)
    assert not isinstance(net.Conv3d_2c_3x3.conv, StridedConv3d)
    x = torch.randn(2, 3, 8, 24, 36)
    seen = []
    handle = net.Conv3d_1a_7x7.conv.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    try:
        xx = x.clone().requires_grad_(True)
        net(xx)[:, 1].sum().backward()
    finally:
        handle.remove()
    assert len(seen) == 1
    net.Conv3d_1a_7x7.conv.weight.requires_grad_(True)  # autograd's own backward through the same weights
    ref = x.clone().requires_grad_(True)
    net(ref)[:, 1].sum().backward()
    assert _close(xx.grad, ref.grad, 1e-4)


def test_bias_is_added_and_gets_no_gradient() -> None:
    weight, bias = torch.randn(2, 1, 3, 3, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    x = torch.randn(1, 1, 5, 6, 7, dtype=torch.float64, requires_grad=True)
    out = polyphase_conv3d(x, weight, (2, 2, 2), bias)
    assert torch.allclose(out, torch.nn.functional.conv3d(x, weight, bias, stride=2))
    assert torch.autograd.gradcheck(lambda t: polyphase_conv3d(t, weight, (2, 2, 2), bias), (x,))
    with pytest.raises(ValueError, match="must not require a gradient"):
        polyphase_conv3d(x, weight, (2, 2, 2), bias.clone().requires_grad_(True))
