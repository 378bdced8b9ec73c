"""An inference-only copy of a trained I3D for the harness's own forward passes (scoring).

Deletion and insertion run about a hundred forward passes per clip and seed, for every submission: on the real
board they are the largest single cost of a run. :class:`FoldedI3D` computes the same logits as the network it
copies with less memory traffic:

* each BatchNorm (eval mode) is folded into its convolution's weights and a bias, and the ReLU runs in place;
* SAME padding is handed to the convolution or pool when it is symmetric (every stride-1 unit and the
  inception blocks' pools), and asymmetric max-pool padding becomes ``ceil_mode`` (an overhanging window
  ignores the missing cells, as TensorFlow's ``-inf`` padding does), instead of a padded copy of the input;
* grey clips run the first convolution from one channel, as ``gray_stem`` does.

The logits equal the network's to float rounding (``tests/model/test_model_inference.py``); ``FoldedI3D`` has
no gradients, hooks or training mode. It serves the harness's trusted scoring only: submissions always get
the :class:`~benchmark.model.i3d.I3D` itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmark.model.i3d import I3D, InceptionBlock, MaxPool3dSame, Unit3D, _is_gray, pad_same, same_padding

__all__ = ["FoldedI3D", "fold_for_inference"]

Op = Callable[[Tensor], Tensor]


def _folded(unit: Unit3D) -> tuple[Tensor, Tensor]:
    """The unit's convolution with its BatchNorm folded in: weight (C_out, C_in, k...) and bias (C_out,)."""
    bn = unit.bn
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    weight = unit.conv.weight.detach() * scale.view(-1, 1, 1, 1, 1)
    return weight.contiguous(), (bn.bias.detach() - bn.running_mean * scale).contiguous()


def _pads(x: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...]) -> list[tuple[int, int]]:
    return [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], kernel, stride)]


class _Unit(nn.Module):
    def __init__(self, unit: Unit3D, gray: bool) -> None:
        super().__init__()
        weight, bias = _folded(unit)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.register_buffer("gray_weight", weight.sum(1, keepdim=True) if gray else None)
        self.kernel, self.stride = tuple(unit.kernel), tuple(unit.stride)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight
        if self.gray_weight is not None and _is_gray(x):
            x, weight = x[:, :1], self.gray_weight
        pads = _pads(x, self.kernel, self.stride)
        if all(a == b for a, b in pads):
            y = F.conv3d(x, weight, self.bias, stride=self.stride, padding=tuple(a for a, _ in pads))
        else:
            y = F.conv3d(pad_same(x, self.kernel, self.stride, 0.0), weight, self.bias, stride=self.stride)
        return y.relu_()


class _MaxPool(nn.Module):
    def __init__(self, pool: MaxPool3dSame) -> None:
        super().__init__()
        self.kernel, self.stride = tuple(pool.kernel), tuple(pool.stride)

    def forward(self, x: Tensor) -> Tensor:
        pads = _pads(x, self.kernel, self.stride)
        before = tuple(a for a, _ in pads)
        ceil = any(b > a for a, b in pads)
        if all(0 <= b - a <= 1 and 2 * a <= k for (a, b), k in zip(pads, self.kernel)):
            out = F.max_pool3d(x, self.kernel, self.stride, padding=before, ceil_mode=ceil)
            if tuple(out.shape[2:]) == tuple(-(-n // s) for n, s in zip(x.shape[2:], self.stride)):
                return out
        return F.max_pool3d(pad_same(x, self.kernel, self.stride, -math.inf), self.kernel, self.stride)


class _Inception(nn.Module):
    def __init__(self, block: InceptionBlock) -> None:
        super().__init__()
        self.b0, self.b1a, self.b1b = _Unit(block.b0, False), _Unit(block.b1a, False), _Unit(block.b1b, False)
        self.b2a, self.b2b = _Unit(block.b2a, False), _Unit(block.b2b, False)
        self.b3a, self.b3b = _MaxPool(block.b3a), _Unit(block.b3b, False)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


class FoldedI3D(nn.Module):
    """The logits of an eval-mode :class:`~benchmark.model.i3d.I3D`, for inference only.

    Shape: ``(B, 3, T, H, W)`` -> logits ``(B, num_classes)``, as the network. Built by
    :func:`fold_for_inference`; later changes to the network's weights do not reach the copy.
    """

    def __init__(self, net: I3D) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for name, child in net.named_children():
            if name == "pool":
                break
            if isinstance(child, Unit3D):
                layers.append(_Unit(child, gray=child.gray_input))
            elif isinstance(child, MaxPool3dSame):
                layers.append(_MaxPool(child))
            elif isinstance(child, InceptionBlock):
                layers.append(_Inception(child))
            else:
                raise ValueError(f"FoldedI3D: unexpected layer {name!r} ({type(child).__name__}).")
        self.layers = nn.Sequential(*layers)
        self.pool_kind = net.pool_kind
        self.register_buffer("head_weight", net.logits.weight.detach().flatten(1).clone())
        self.register_buffer("head_bias", net.logits.bias.detach().clone())
        self.in_channels = net.in_channels

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f"FoldedI3D: expected input of shape (B, {self.in_channels}, T, H, W), "
                             f"got {tuple(x.shape)}.")
        h = self.layers(x)
        pooled = h.mean(dim=(2, 3, 4)) if self.pool_kind == "avg" else h.amax(dim=(2, 3, 4))
        return F.linear(pooled, self.head_weight, self.head_bias)


def fold_for_inference(net: nn.Module) -> nn.Module:
    """:class:`FoldedI3D` of ``net`` when it is an :class:`~benchmark.model.i3d.I3D` in eval mode, else ``net``.

    A network in training mode (BatchNorm on batch statistics, dropout) or of another kind is returned as is.
    """
    if isinstance(net, I3D) and not net.training:
        return FoldedI3D(net).to(next(net.parameters()).device)
    return net
