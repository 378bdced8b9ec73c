"""An inference-only copy of a trained I3D for the harness's own forward passes (scoring).

Deletion and insertion run about a hundred forward passes per clip and seed, for every submission: on the real
board they are the largest single cost of a run. :class:`FoldedI3D` computes the same logits as the network it
copies with less memory traffic:

* each BatchNorm (eval mode) is folded into its convolution's weights and a bias, and the ReLU runs in place;
* SAME padding is handed to the convolution or pool where it can be (:func:`~benchmark.model.i3d.conv3d_same`,
  :func:`~benchmark.model.i3d.max_pool3d_same`), as the eval-mode ``I3D`` itself does;
* grey clips run the first convolution from one channel, as ``gray_stem`` does.

What it adds to the eval-mode network's own folded path: in-place ReLUs, no autograd, hooks or module calls,
and weights that stay as they were when the copy was made.

The logits equal the network's to float rounding (``tests/model/test_model_inference.py``); ``FoldedI3D`` has
no gradients, hooks or training mode. It serves the harness's trusted scoring only: submissions always get
the :class:`~benchmark.model.i3d.I3D` itself.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmark.model.i3d import (
    I3D,
    InceptionBlock,
    MaxPool3dSame,
    Unit3D,
    _is_gray,
    conv3d_same,
    fold_batchnorm,
    max_pool3d_same,
)

__all__ = ["FoldedI3D", "fold_for_inference"]

class _Unit(nn.Module):
    def __init__(self, unit: Unit3D, gray: bool) -> None:
        super().__init__()
        weight, bias = fold_batchnorm(unit.conv.weight, unit.bn)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.register_buffer("gray_weight", weight.sum(1, keepdim=True) if gray else None)
        self.stride = tuple(unit.stride)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight
        if self.gray_weight is not None and _is_gray(x):
            x, weight = x[:, :1], self.gray_weight
        return conv3d_same(x, weight, self.bias, self.stride).relu_()


class _MaxPool(nn.Module):
    def __init__(self, pool: MaxPool3dSame) -> None:
        super().__init__()
        self.kernel, self.stride = tuple(pool.kernel), tuple(pool.stride)

    def forward(self, x: Tensor) -> Tensor:
        return max_pool3d_same(x, self.kernel, self.stride)


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
