"""A strided 3-D convolution whose input gradient is computed by polyphase decomposition.

Every gradient explainer backpropagates to the input voxels, through the I3D's first convolution (7x7x7,
stride 2, 3 input channels). On a CPU, oneDNN's backward-data kernel for that shape is slow: measured on the
development machine (one thread, batch 16, the `ucsd_cpu` grid), 1.1 s against 0.21 s for the forward, close
to half of a whole forward+backward pass of the truncated network.

The same gradient is a stride-1 convolution: split the input positions by their phase modulo the stride
(``s_T * s_H * s_W`` phases); each phase receives the output gradient through the taps of the kernel with that
phase, and all phases together are one ordinary convolution from the ``C_out`` gradient channels to
``phases * C_in`` channels, interleaved back onto the input grid. It computes exactly the same sums in another
order (equal to float rounding), and about 1.7x faster for the first I3D convolution
(``scripts/bench_first_conv.py`` prints the figures).

Used only where it cannot change anything but speed: the weights must not need a gradient (explainers, the
frozen trunk), the input must (the explainers' input gradient), and only the input gradient is computed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["StridedConv3d", "polyphase_conv3d", "polyphase_input_grad", "polyphase_weight"]


def polyphase_weight(weight: Tensor, stride: tuple[int, int, int]) -> Tensor:
    """The stride-1 kernel that maps an output gradient to all input phases at once.

    Args:
        weight: the convolution's kernel ``(C_out, C_in, kT, kH, kW)``.
        stride: ``(sT, sH, sW)``.

    Returns:
        ``(P * C_in, C_out, MT, MH, MW)`` with ``P = sT * sH * sW`` phases (phase-major) and
        ``M = ceil(k / s)`` taps per axis, spatially flipped (a correlation kernel for ``F.conv3d``).
    """
    taps = [-(-k // s) for k, s in zip(weight.shape[2:], stride)]
    padded = F.pad(weight, [p for k, s, m in reversed(list(zip(weight.shape[2:], stride, taps)))
                            for p in (0, s * m - k)])
    phases = [padded[:, :, a::stride[0], b::stride[1], c::stride[2]]
              for a in range(stride[0]) for b in range(stride[1]) for c in range(stride[2])]
    stacked = torch.stack(phases, 0).flip(-1, -2, -3)  # (P, C_out, C_in, MT, MH, MW)
    return stacked.transpose(1, 2).reshape(-1, weight.shape[0], *taps).contiguous()


def polyphase_input_grad(grad_out: Tensor, weight: Tensor, stride: tuple[int, int, int],
                         input_size: tuple[int, int, int]) -> Tensor:
    """The gradient of ``F.conv3d(x, weight, stride=stride)`` (no padding) with respect to ``x``.

    Args:
        grad_out: ``(B, C_out, OT, OH, OW)``, the gradient of the convolution's output.
        weight: ``(C_out, C_in, kT, kH, kW)``.
        stride: ``(sT, sH, sW)``.
        input_size: ``(T, H, W)`` of ``x``.

    Returns:
        ``(B, C_in, T, H, W)`` in ``grad_out``'s memory format; positions no window reaches get 0.
    """
    kernel = polyphase_weight(weight, stride)
    taps = kernel.shape[2:]
    batch, c_in = grad_out.shape[0], weight.shape[1]
    pads = [p for m in reversed(taps) for p in (m - 1, m - 1)]
    y = F.conv3d(F.pad(grad_out, pads), kernel.to(grad_out.dtype))  # (B, P * C_in, Q_T, Q_H, Q_W)
    q = y.shape[2:]
    y = y.reshape(batch, *stride, c_in, *q).permute(0, 4, 5, 1, 6, 2, 7, 3)
    full = y.reshape(batch, c_in, *(n * s for n, s in zip(q, stride)))
    full = full[:, :, : input_size[0], : input_size[1], : input_size[2]]
    missing = [p for n, size in reversed(list(zip(full.shape[2:], input_size))) for p in (0, size - n)]
    if any(missing):
        full = F.pad(full, missing)
    return full.contiguous(memory_format=_format_of(grad_out))


def _format_of(t: Tensor) -> torch.memory_format:
    if t.dim() == 5 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last_3d):
        return torch.channels_last_3d
    return torch.contiguous_format


class _PolyphaseConv3d(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int, int]) -> Tensor:
        ctx.save_for_backward(weight)
        ctx.stride = stride
        ctx.input_size = tuple(x.shape[2:])
        return F.conv3d(x, weight, bias, stride=stride)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, None, None]:
        (weight,) = ctx.saved_tensors
        grad_x = polyphase_input_grad(grad_out, weight, ctx.stride, ctx.input_size)
        return grad_x, None, None, None


def polyphase_conv3d(x: Tensor, weight: Tensor, stride: tuple[int, int, int], bias: Tensor | None = None) -> Tensor:
    """``F.conv3d(x, weight, bias, stride=stride)`` (no padding) with the polyphase input gradient.

    Only for a ``weight`` and ``bias`` that need no gradient (they get none); ``x`` ``(B, C_in, T, H, W)``. The
    forward is ``F.conv3d`` itself, so the output is bit-identical; only the input gradient's sums run in another
    order.
    """
    if weight.requires_grad or (bias is not None and bias.requires_grad):
        raise ValueError("polyphase_conv3d: the weight must not require a gradient (use F.conv3d to train it).")
    if math.prod(stride) == 1:
        raise ValueError("polyphase_conv3d: only a strided convolution benefits; use F.conv3d for stride 1.")
    return _PolyphaseConv3d.apply(x, weight, bias, tuple(int(s) for s in stride))


class StridedConv3d(nn.Conv3d):
    """``nn.Conv3d`` without padding or bias that backpropagates to its input by :func:`polyphase_conv3d`.

    The same module, parameters and hooks as ``nn.Conv3d``; only the input gradient is computed another way,
    and only when the weight is frozen and the input needs a gradient (an explainer's pass). Training passes,
    which need the weight's gradient, and passes without gradients run ``nn.Conv3d`` itself. The backward is
    itself differentiable (double backward works).

    Shape: (B, C_in, T, H, W) -> (B, C_out, T', H', W'), ``T' = floor((T - kT) / sT) + 1`` and so on.
    """

    def forward(self, x: Tensor) -> Tensor:
        if (torch.is_grad_enabled() and x.requires_grad and not self.weight.requires_grad and self.bias is None
                and self.padding == (0, 0, 0) and self.dilation == (1, 1, 1) and self.groups == 1
                and math.prod(self.stride) > 1):
            return polyphase_conv3d(x, self.weight, self.stride)
        return super().forward(x)
