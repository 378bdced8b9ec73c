"""The Inflated 3-D ConvNet (I3D) of Carreira & Zisserman (CVPR 2017), one RGB stream.

Layer for layer the published Inception-v1 inflation (the DeepMind ``kinetics-i3d`` graph):

====================  =========================  =====================
endpoint              operation                  output channels (w=1)
====================  =========================  =====================
``Conv3d_1a_7x7``     conv 7x7x7, stride 2       64
``MaxPool3d_2a_3x3``  max 1x3x3, stride 1x2x2
``Conv3d_2b_1x1``     conv 1x1x1                 64
``Conv3d_2c_3x3``     conv 3x3x3                 192
``MaxPool3d_3a_3x3``  max 1x3x3, stride 1x2x2
``Mixed_3b``          inception                  256
``Mixed_3c``          inception                  480
``MaxPool3d_4a_3x3``  max 3x3x3, stride 2x2x2
``Mixed_4b`` .. 4f    inception                  512 .. 832
``MaxPool3d_5a_2x2``  max 2x2x2, stride 2x2x2
``Mixed_5b``, 5c      inception                  832, 1024
``logits``            avg pool, dropout, 1x1x1 conv (with bias)
====================  =========================  =====================

Every convolution unit is ``Conv3d`` (no bias) + ``BatchNorm3d`` (eps 1e-3, momentum 0.1) + ``ReLU``. Padding follows
TensorFlow's ``SAME`` rule, applied as explicit (possibly asymmetric) padding computed from the input
size, so that converted Kinetics weights reproduce the TensorFlow / Flax outputs exactly. Max pools pad
with ``-inf`` (TensorFlow ignores padded cells in a max).

Deviation from the paper, documented: the published final average pool has a fixed ``(2, 7, 7)`` window,
which only fits 16x224x224 inputs (a 20x158x237 clip leaves a 3x5x8 feature map). Here the final pool is
**adaptive**: it averages over whatever ``(T, H, W)`` remains. At 16x224x224 this is exactly the published
network (its ``(2, 7, 7)`` window then covers the whole map).

Explainer compatibility: ReLUs are never in-place and every use has its own ``nn.ReLU`` instance, so
Captum's Guided Backprop / Deconvolution hooks see each one exactly once.

Speed without changing the function: in eval mode with frozen weights (every explainer's pass, the frozen
trunk), a unit runs its convolution with the BatchNorm folded in (:meth:`Unit3D.folded`), SAME padding goes
to the op where it is symmetric, and max pools pad through ``ceil_mode`` where that is the same window
(:func:`conv3d_same`, :func:`max_pool3d_same`): the same outputs and input gradients to float rounding, with
less memory traffic. A unit or pool whose inner module carries a hook, or was replaced, runs module by
module as before, so hooks on every module keep firing.
"""

from __future__ import annotations

import math
import weakref

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmark.model.polyphase import StridedConv3d, polyphase_conv3d

__all__ = [
    "ANOMALOUS", "ENDPOINTS", "I3D", "INCEPTION_CHANNELS", "POOLS", "ProbabilityModel", "build_model",
    "conv3d_same", "fold_batchnorm", "max_pool3d_same", "pad_same", "same_padding", "scaled_channels",
]

INCEPTION_CHANNELS: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
"""Published channel counts per inception block: ``(b0, b1a, b1b, b2a, b2b, b3b)`` where branch 0 is a
1x1x1 conv, branches 1 and 2 a 1x1x1 reduction followed by a 3x3x3 conv, branch 3 a 3x3x3 max pool
followed by a 1x1x1 conv. The block outputs ``b0 + b1b + b2b + b3b`` channels."""

ENDPOINTS: tuple[str, ...] = (
    "Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
    "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f",
    "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c",
)
"""The feature layers in order; ``I3D(final_endpoint=...)`` keeps those up to and including one of them."""
POOLS: tuple[str, ...] = ("avg", "max")
"""The global pool over ``(T', H', W')`` before the logits: ``avg`` (published) or ``max``."""

_BN_EPS = 1e-3
_BN_MOMENTUM = 0.1
"""PyTorch's default. TensorFlow's 0.99 decay (momentum 0.01 here) was measured to leave the running
statistics far behind the weights in short runs: on the synthetic data, after 12 epochs (204 steps), the
same training run scored a held-out ROC-AUC of 0.28 in eval mode with 0.01 and 0.78 with 0.1. Momentum
only affects running statistics during training, so converted Kinetics weights are unaffected."""


def scaled_channels(channels: int, width: float) -> int:
    """``channels * width`` rounded half up, at least 1 (``width = 1`` returns ``channels``)."""
    return max(1, int(math.floor(channels * width + 0.5)))


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow ``SAME`` padding ``(before, after)`` for one axis of length ``size``.

    The I3D's padding rule: engines that run its layers piecewise (``benchmark.explain.engines``) must
    reproduce it exactly.
    """
    out = -(-size // stride)  # ceil
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int], value: float) -> Tensor:
    """Pad ``x`` of shape (B, C, T, H, W) so that a VALID op gives TensorFlow's SAME output size.

    Returns ``x`` itself when no axis needs padding.
    """
    pads: list[int] = []
    # F.pad lists the last axis first: (W_before, W_after, H_before, H_after, T_before, T_after).
    for axis in (4, 3, 2):
        pads.extend(same_padding(x.shape[axis], kernel[axis - 2], stride[axis - 2]))
    if not any(pads):
        return x
    return F.pad(x, pads, mode="constant", value=value)


def conv3d_same(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int, int]) -> Tensor:
    """``F.conv3d`` with TensorFlow ``SAME`` zero padding: (B, C_in, T, H, W) -> (B, C_out, ceil(T / sT), ...).

    Symmetric padding is handed to the op (no padded copy of ``x``), asymmetric padding pads a copy. A strided
    convolution whose input needs a gradient, with ``weight`` and ``bias`` that do not, backpropagates to the
    input by polyphase decomposition (:mod:`benchmark.model.polyphase`). Equal to padding then convolving, to
    float rounding.
    """
    kernel = tuple(weight.shape[2:])
    pads = [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], kernel, stride)]
    if (math.prod(stride) > 1 and torch.is_grad_enabled() and x.requires_grad and not weight.requires_grad
            and (bias is None or not bias.requires_grad)):
        return polyphase_conv3d(pad_same(x, kernel, stride, 0.0), weight, stride, bias)
    if all(a == b for a, b in pads):
        return F.conv3d(x, weight, bias, stride=stride, padding=tuple(a for a, _ in pads))
    return F.conv3d(pad_same(x, kernel, stride, 0.0), weight, bias, stride=stride)


def max_pool3d_same(x: Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> Tensor:
    """3-D max pool with TensorFlow ``SAME`` padding (padded cells never win): (B, C, T, H, W) in and out.

    Where the padding is symmetric, or one cell longer after, it goes to the op (the extra cell through
    ``ceil_mode``: an overhanging window ignores the missing cells, as a ``-inf`` pad does) instead of a padded
    copy of ``x``; the output size is checked, and any other case pads a copy with ``-inf``. Bit-identical.
    """
    pads = [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], kernel, stride)]
    if all(0 <= b - a <= 1 and 2 * a <= k for (a, b), k in zip(pads, kernel)):
        out = F.max_pool3d(x, kernel, stride, padding=tuple(a for a, _ in pads),
                           ceil_mode=any(b > a for a, b in pads))
        if tuple(out.shape[2:]) == tuple(-(-n // s) for n, s in zip(x.shape[2:], stride)):
            return out
    return F.max_pool3d(pad_same(x, kernel, stride, -math.inf), kernel, stride)


def fold_batchnorm(conv_weight: Tensor, bn: nn.BatchNorm3d) -> tuple[Tensor, Tensor]:
    """A bias-free convolution followed by eval-mode ``bn`` as one convolution: ``(weight, bias)``.

    ``conv_weight`` ``(C_out, C_in, kT, kH, kW)``; returns the scaled weight of that shape and a bias
    ``(C_out,)``, detached and contiguous: ordinary tensors even under ``torch.inference_mode`` (a unit caches
    them, and a later pass may need gradients through them).
    """
    with torch.inference_mode(False), torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        if bn.weight is not None:
            scale = scale * bn.weight
        shift = -bn.running_mean * scale
        if bn.bias is not None:
            shift = shift + bn.bias
        weight = conv_weight * scale.view(-1, *([1] * (conv_weight.dim() - 1)))
        return weight.detach().contiguous(), shift.detach().contiguous()


def _hooked(module: nn.Module) -> bool:
    """Whether calling ``module`` does anything but its own ``forward``: a hook on it, a global module hook, or a
    ``forward`` replaced on the instance."""
    own = (module._forward_hooks, module._forward_pre_hooks, module._backward_hooks, module._backward_pre_hooks)
    glob = (getattr(nn.modules.module, name, None) for name in (
        "_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks", "_global_backward_pre_hooks"))
    return any(own) or any(glob) or "forward" in vars(module)


def _values_key(t: Tensor) -> tuple | None:
    """What changes with ``t``'s values: its version, storage, dtype, device (``None`` for an inference tensor,
    which keeps no version: never cached)."""
    if t.is_inference():
        return None
    return t._version, t.data_ptr(), t.dtype, t.device


class Unit3D(nn.Module):
    """Conv3d (no bias) + BatchNorm3d + ReLU with TensorFlow ``SAME`` padding.

    Args:
        in_channels: channels of the input (B, in_channels, T, H, W).
        out_channels: channels of the output (B, out_channels, T', H', W').
        kernel: ``(kT, kH, kW)``.
        stride: ``(sT, sH, sW)``; ``T' = ceil(T / sT)`` and so on.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
    ) -> None:
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        # A strided unit (the first convolution) backpropagates to its input by polyphase decomposition: the same
        # gradient to float rounding, about 1.7x faster on a CPU (benchmark/model/polyphase.py).
        conv = StridedConv3d if math.prod(self.stride) > 1 else nn.Conv3d
        self.conv = conv(in_channels, out_channels, kernel, stride=stride, padding=0, bias=False)
        self.bn = nn.BatchNorm3d(out_channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=False)

    gray_input: bool = False
    """Set on the first unit of an ``I3D(gray_stem=True)``: see :meth:`forward`."""

    def forward(self, x: Tensor) -> Tensor:
        folded = self.folded()
        if self.gray_input and not torch.is_grad_enabled() and _is_gray(x):
            # Grey frames replicated to RGB: conv(x, W) = conv(x_0, sum_c W_c), the same map from a third of the
            # input (about half the time of this layer; equal to float rounding). Forward-only: with gradients
            # enabled every channel keeps its own weights, so attributions per channel are unchanged.
            if folded is not None:
                return self._relu(conv3d_same(x[:, :1], folded[0].sum(1, keepdim=True), folded[1], self.stride))
            x = pad_same(x[:, :1], self.kernel, self.stride, 0.0)
            return self.relu(self.bn(F.conv3d(x, self.conv.weight.sum(1, keepdim=True), stride=self.stride)))
        if folded is not None:
            return self._relu(conv3d_same(x, *folded, self.stride))
        return self.relu(self.bn(self.conv(pad_same(x, self.kernel, self.stride, 0.0))))

    def apply_padded(self, x: Tensor) -> Tensor:
        """The unit on an input already ``SAME``-padded (a VALID convolution): (B, C_in, ...) -> (B, C_out, ...)."""
        folded = self.folded()
        if folded is not None:
            return self._relu(F.conv3d(x, *folded, stride=self.stride))
        return self.relu(self.bn(self.conv(x)))

    def _relu(self, y: Tensor) -> Tensor:
        """The ReLU module on a fresh convolution output; in place where nothing can tell (no autograd, no hook)."""
        if torch.is_grad_enabled() or type(self.relu) is not nn.ReLU or _hooked(self.relu):
            return self.relu(y)
        return y.relu_()

    def folded(self) -> tuple[Tensor, Tensor] | None:
        """The convolution with the BatchNorm folded in, ``(weight, bias)``, where that is the same function.

        ``None`` (run the modules one by one) in training mode, when a parameter of the unit needs a gradient,
        when the convolution or the BatchNorm carries a hook (or a global module hook is set), or when either
        was replaced. The folded tensors are cached until a weight or statistic changes (in place or replaced).
        """
        conv, bn = self.conv, self.bn
        if (self.training or type(conv) not in (nn.Conv3d, StridedConv3d) or type(bn) is not nn.BatchNorm3d
                or bn.training or not bn.track_running_stats or bn.running_mean is None or bn.running_var is None
                or conv.bias is not None or conv.groups != 1 or conv.padding != (0, 0, 0) or conv.dilation != (1, 1, 1)
                or tuple(conv.stride) != self.stride or _hooked(conv) or _hooked(bn)):
            return None
        tensors = [t for t in (conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var) if t is not None]
        if any(t.requires_grad for t in tensors):
            return None
        key = (*(_values_key(t) for t in tensors), bn.eps)
        cached = self.__dict__.get("_folded_cache")
        if (cached is not None and cached[1] == key and None not in key
                and all(ref() is t for ref, t in zip(cached[0], tensors, strict=True))):
            return cached[2]
        folded = fold_batchnorm(conv.weight, bn)
        self.__dict__["_folded_cache"] = (tuple(weakref.ref(t) for t in tensors), key, folded)
        return folded

    def __getstate__(self) -> dict:
        """Pickling and ``copy.deepcopy`` leave the folded cache behind (it holds weak references)."""
        state = dict(self.__dict__)
        state.pop("_folded_cache", None)
        return state


def _is_gray(x: Tensor) -> bool:
    """Whether the three channels of ``x`` (B, 3, T, H, W) are equal (every clip of the benchmark is grey)."""
    return x.dim() == 5 and x.shape[1] == 3 and torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])


class MaxPool3dSame(nn.Module):
    """3-D max pool with TensorFlow ``SAME`` padding (padded cells never win): (B, C, T, H, W) in and out."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.pool = nn.MaxPool3d(kernel, stride=stride, padding=0)

    def forward(self, x: Tensor) -> Tensor:
        if _hooked(self.pool) or type(self.pool) is not nn.MaxPool3d:
            return self.pool(pad_same(x, self.kernel, self.stride, -math.inf))
        return max_pool3d_same(x, self.kernel, self.stride)


class InceptionBlock(nn.Module):
    """One ``Mixed_*`` block: four branches concatenated along channels.

    Args:
        in_channels: channels of the input (B, in_channels, T, H, W).
        channels: ``(b0, b1a, b1b, b2a, b2b, b3b)`` (already scaled by the width).
    """

    def __init__(self, in_channels: int, channels: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        b0, b1a, b1b, b2a, b2b, b3b = channels
        self.b0 = Unit3D(in_channels, b0)
        self.b1a = Unit3D(in_channels, b1a)
        self.b1b = Unit3D(b1a, b1b, kernel=(3, 3, 3))
        self.b2a = Unit3D(in_channels, b2a)
        self.b2b = Unit3D(b2a, b2b, kernel=(3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, b3b)
        self.out_channels = b0 + b1b + b2b + b3b

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1
        )


class I3D(nn.Module):
    """Inception-v1 I3D, one RGB stream.

    Args:
        num_classes: size of the logits head (2 for normal / anomalous; 400 for Kinetics).
        width: multiplier of every channel count (rounded half up, at least 1). ``1.0`` is the published
            network (12.3M parameters with a 2-class head); the CPU profile uses ``0.25``.
        dropout: dropout probability before the logits (the published keep-probability 0.5).
        in_channels: input channels (3: grayscale frames are replicated to RGB).
        final_endpoint: the last feature layer kept (one of :data:`ENDPOINTS`); the layers after it are
            not built, and the head pools that layer's output. ``"Mixed_5c"`` is the published network.
        pool: the global pool before the logits, ``"avg"`` (published) or ``"max"`` (over time and space).
        gray_stem: without gradients, compute the first convolution of a grey clip (three equal channels) from one
            channel with the weights summed over channels (the same map to float rounding, about twice as fast for
            that layer). Off in the published network; a profile may turn it on (``gray_stem: true``).

    Shape:
        ``forward(x)``: ``x`` (B, in_channels, T, H, W) float, RGB in ``[-1, 1]`` -> logits (B, num_classes).
        Any ``T, H, W >= 1`` works (the final pool is adaptive). ``torch.channels_last_3d`` inputs are fine.
    """

    def __init__(
        self,
        num_classes: int = 2,
        width: float = 1.0,
        dropout: float = 0.5,
        in_channels: int = 3,
        final_endpoint: str = "Mixed_5c",
        pool: str = "avg",
        gray_stem: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"I3D: num_classes must be a positive int, got {num_classes!r}.")
        if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
            raise ValueError(f"I3D: width must be a positive number (1.0 = published), got {width!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"I3D: dropout must be in [0, 1), got {dropout!r}.")
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"I3D: in_channels must be a positive int, got {in_channels!r}.")
        if final_endpoint not in ENDPOINTS:
            raise ValueError(f"I3D: final_endpoint must be one of {ENDPOINTS}, got {final_endpoint!r}.")
        if pool not in POOLS:
            raise ValueError(f"I3D: pool must be one of {POOLS}, got {pool!r}.")
        self.num_classes = num_classes
        self.final_endpoint = final_endpoint
        self.pool_kind = pool
        self.gray_stem = bool(gray_stem)
        self.width = float(width)
        self.in_channels = in_channels
        self.dropout_p = float(dropout)

        def c(n: int) -> int:
            return scaled_channels(n, self.width)

        layers: dict[str, nn.Module] = {}
        channels = in_channels
        for name in ENDPOINTS[: ENDPOINTS.index(final_endpoint) + 1]:
            if name == "Conv3d_1a_7x7":
                layers[name], channels = Unit3D(channels, c(64), kernel=(7, 7, 7), stride=(2, 2, 2)), c(64)
                layers[name].gray_input = self.gray_stem and in_channels == 3
            elif name == "Conv3d_2b_1x1":
                layers[name], channels = Unit3D(channels, c(64)), c(64)
            elif name == "Conv3d_2c_3x3":
                layers[name], channels = Unit3D(channels, c(192), kernel=(3, 3, 3)), c(192)
            elif name in ("MaxPool3d_2a_3x3", "MaxPool3d_3a_3x3"):
                layers[name] = MaxPool3dSame((1, 3, 3), (1, 2, 2))
            elif name == "MaxPool3d_4a_3x3":
                layers[name] = MaxPool3dSame((3, 3, 3), (2, 2, 2))
            elif name == "MaxPool3d_5a_2x2":
                layers[name] = MaxPool3dSame((2, 2, 2), (2, 2, 2))
            else:
                block = InceptionBlock(channels, tuple(c(n) for n in INCEPTION_CHANNELS[name]))
                layers[name], channels = block, block.out_channels
        for name, module in layers.items():
            self.add_module(name, module)
        self.feature_channels = channels
        self.pool = nn.AdaptiveAvgPool3d(1) if pool == "avg" else nn.AdaptiveMaxPool3d(1)
        self.dropout = nn.Dropout(p=self.dropout_p)
        self.logits = nn.Conv3d(channels, num_classes, kernel_size=1, bias=True)

    def features(self, x: Tensor) -> Tensor:
        """The ``final_endpoint`` feature map: (B, in_channels, T, H, W) -> (B, C, T', H', W')."""
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"I3D: expected input of shape (B, {self.in_channels}, T, H, W), got {tuple(x.shape)}."
            )
        for name, module in self.named_children():
            if name == "pool":
                break
            x = module(x)
        return x

    def head(self, h: Tensor) -> Tensor:
        """The head on a feature map: global pool, dropout, 1x1x1 logits: (B, C, T', H', W') -> (B, num_classes)."""
        return self.logits(self.dropout(self.pool(h))).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_channels, T, H, W) -> logits (B, num_classes)."""
        return self.head(self.features(x))


ANOMALOUS = 1
"""The anomalous class: the column of :class:`ProbabilityModel`'s output that every explainer explains
and every score reads (``p(anomalous) = model(x)[:, ANOMALOUS]``; column 0 is normal)."""


class ProbabilityModel(nn.Module):
    """Softmax over a classifier's logits: (B, 3, T, H, W) -> probabilities (B, num_classes).

    With the 2-class head, ``p(anomalous) = model(x)[:, ANOMALOUS]``: the output every explainer explains.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.net(x), dim=1)


def build_model(
    width: float,
    num_classes: int = 2,
    *,
    dropout: float = 0.5,
    seed: int | None = None,
    final_endpoint: str = "Mixed_5c",
    pool: str = "avg",
    gray_stem: bool = False,
) -> I3D:
    """A freshly initialised :class:`I3D`.

    Args:
        width: channel multiplier (1.0 = published).
        num_classes: head size.
        dropout: dropout probability before the logits.
        seed: when given, the initial weights depend on it only (the global RNG is left untouched);
            when ``None`` they come from the global RNG, as for any ``nn.Module``.
        final_endpoint: the last feature layer kept (:data:`ENDPOINTS`).
        pool: ``"avg"`` or ``"max"``, the global pool before the logits.
        gray_stem: the forward-only shortcut of the first convolution on grey clips (see :class:`I3D`).
    """
    kwargs = dict(num_classes=num_classes, width=width, dropout=dropout, final_endpoint=final_endpoint, pool=pool,
                  gray_stem=gray_stem)
    if seed is None:
        return I3D(**kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return I3D(**kwargs)
