"""Feature-mixed clips through the I3D without building them: the first convolution split by feature.

LIME and KernelSHAP evaluate the model on clips that take each feature (supervoxel) either from the
clip ``x`` or from the baseline ``b``::

    x_z = b + sum_k z_k * (x - b) * 1[feature k],      z in {0, 1}^K

The I3D's first unit is a convolution without bias (after TensorFlow ``SAME`` zero padding), then
BatchNorm and ReLU; in eval mode the BatchNorm folds into the convolution's weights and a bias
(:meth:`~benchmark.model.i3d.Unit3D.folded`). The convolution is linear, so its output for every ``x_z`` is::

    conv(x_z) = conv(b) + sum_k z_k * conv((x - b) * 1[feature k])     (the bias only in conv(b))

The baseline's response and each feature's response are computed once per clip, each feature's only
on the crop of the output its voxels reach (a supervoxel touches a few percent of it). A batch of
samples then costs one ``(n, K) @ (K, activations)`` product in place of ``n`` first convolutions,
about 40% of an I3D forward pass at the default profile, and the perturbed clips are never
materialised. From the first unit's ReLU on (its BatchNorm too, where it cannot be folded), the network's own
modules run as usual.

The result equals the model's output on ``x_z`` up to float rounding (the sum runs in another
order); the tests check it against full forward passes.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmark.explain.batching import batch_memory_format
from benchmark.explain.engines.layerwise import layerwise_support, unwrap_i3d
from benchmark.model.graph import run_after
from benchmark.model.i3d import same_padding

__all__ = ["StemSplit", "stem_split"]

STEM = "Conv3d_1a_7x7"
"""The I3D's first unit (``Unit3D``: SAME padding, convolution without bias, BatchNorm, ReLU)."""


class StemSplit:
    """The I3D's probabilities for feature-mixed versions of one clip (see the module docstring).

    Args:
        net: an eval-mode :class:`~benchmark.model.i3d.I3D`.
        clip: ``x``, ``(1, C, T, H, W)``.
        baseline: ``b``, the same shape.
        feature_mask: ``(T, H, W)`` integer ids ``0..K-1`` shared by every channel.

    Attributes:
        num_features: ``K``.
        response_bytes: memory the per-feature responses take.

    Example:
        >>> split = StemSplit(net, clip, baseline, segments)
        >>> p = split.probabilities(z)          # z (n, K) of 0/1 -> (n, classes)
    """

    def __init__(self, net: nn.Module, clip: torch.Tensor, baseline: torch.Tensor, feature_mask: torch.Tensor) -> None:
        unit = getattr(net, STEM)
        self.net, self.unit = net, unit
        x, b = clip[0], baseline[0]
        volume = tuple(int(n) for n in x.shape[1:])
        kernel, stride = unit.kernel, unit.stride
        pads = [same_padding(n, k, s) for n, k, s in zip(volume, kernel, stride)]
        out_size = tuple(-(-n // s) for n, s in zip(volume, stride))
        flat_pads = [p for pair in reversed(pads) for p in pair]  # F.pad lists the last axis first
        mask = feature_mask.to(x.device)
        self.num_features = k_count = int(mask.max()) + 1
        folded = unit.folded()
        self._folded = folded is not None

        def conv(t: torch.Tensor, with_bias: bool) -> torch.Tensor:
            if folded is None:
                return unit.conv(t)
            return F.conv3d(t, folded[0], folded[1] if with_bias else None, stride=stride)

        with torch.inference_mode():
            base = conv(F.pad(b, flat_pads).unsqueeze(0), True)[0]  # (C1, T1, H1, W1)
            delta = F.pad(x - b, flat_pads)
            padded_mask = F.pad(mask, flat_pads, value=-1)
            starts, size = _crops(mask, pads, kernel, stride, out_size)
            in_size = [(o - 1) * s + k for o, s, k in zip(size, stride, kernel)]
            crops = []
            for feature, start in enumerate(starts):
                lo = [o * s for o, s in zip(start, stride)]  # in padded input coordinates
                sl = tuple(slice(a, a + n) for a, n in zip(lo, in_size))
                crops.append(delta[(slice(None), *sl)] * (padded_mask[sl] == feature))
            responses = conv(torch.stack(crops), False)  # (K, C1, *size)
            channels = base.shape[0]
            full = base.new_zeros((k_count, *out_size, channels))  # channels last: the layout the batches use
            moved = responses.permute(0, 2, 3, 4, 1)
            for feature, start in enumerate(starts):
                sl = tuple(slice(a, a + n) for a, n in zip(start, size))
                full[(feature, *sl)] = moved[feature]
        self._base = base.permute(1, 2, 3, 0).reshape(1, -1)  # (1, T1*H1*W1*C1)
        self._responses = full.reshape(k_count, -1)  # (K, T1*H1*W1*C1)
        self._out_shape = (*out_size, channels)
        self.response_bytes = self._responses.numel() * self._responses.element_size()

    def probabilities(self, samples: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(n, classes)`` of the clips that keep the features where ``samples`` is 1.

        Args:
            samples: ``(n, K)``, 0/1 (any real or bool dtype): ``z`` per sample.
        """
        if samples.dim() != 2 or samples.shape[1] != self.num_features:
            raise ValueError(
                f"StemSplit: samples must be (n, {self.num_features}), got {tuple(samples.shape)}."
            )
        z = samples.to(self._responses.device, self._responses.dtype)
        with torch.inference_mode():
            pre = torch.addmm(self._base, z, self._responses)  # (n, T1*H1*W1*C1)
            pre = pre.view(len(z), *self._out_shape).permute(0, 4, 1, 2, 3)  # channels-last (n, C1, T1, H1, W1)
            pre = pre.contiguous(memory_format=batch_memory_format(pre))  # no copy where channels-last pays
            h = self.unit.relu(pre if self._folded else self.unit.bn(pre))
            return run_after(self.net, h, STEM)


def _crops(
    mask: torch.Tensor,
    pads: list[tuple[int, int]],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    out_size: tuple[int, ...],
) -> tuple[list[tuple[int, int, int]], tuple[int, int, int]]:
    """Per feature, the start of the output box its voxels reach, and one box size for all features.

    An output position ``o`` of an axis reads the padded inputs ``[o * s, o * s + k)``, i.e. the
    unpadded ``[o * s - before, o * s - before + k)``.
    """
    k_count = int(mask.max()) + 1
    ids = mask.flatten().cpu()
    lo, hi = [], []
    for axis, n in enumerate(mask.shape):
        coords = torch.arange(n).view([-1 if a == axis else 1 for a in range(3)]).expand(mask.shape).flatten()
        first = torch.full((k_count,), n, dtype=torch.long).scatter_reduce(0, ids, coords, "amin")
        last = torch.full((k_count,), -1, dtype=torch.long).scatter_reduce(0, ids, coords, "amax")
        before, k, s = pads[axis][0], kernel[axis], stride[axis]
        lo.append(np.maximum(0, -((k - 1 - before - first.numpy()) // s)))  # ceil((first + before - k + 1) / s)
        hi.append(np.minimum(out_size[axis], (last.numpy() + before) // s + 1))
    size = tuple(int(min(out_size[a], (hi[a] - lo[a]).max())) for a in range(3))
    starts = np.stack([np.clip(lo[a], 0, out_size[a] - size[a]) for a in range(3)], axis=1)
    return [tuple(int(v) for v in row) for row in starts], size


def stem_split(
    model: nn.Module,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    feature_mask: torch.Tensor,
    *,
    budget_bytes: float,
) -> tuple[StemSplit | None, str]:
    """A :class:`StemSplit` for ``model`` when it is an eval-mode ``ProbabilityModel(I3D)`` and the
    per-feature responses fit in ``budget_bytes``; else ``(None, reason)``.

    Args:
        model: the explained model, optionally inside the harness's :class:`PassCounter`.
        clip, baseline: ``(1, C, T, H, W)``.
        feature_mask: ``(T, H, W)`` integer ids ``0..K-1``.
        budget_bytes: the memory the responses ``(K, first-layer activations)`` may take.
    """
    reason = layerwise_support(model)
    if reason:
        return None, reason
    net = unwrap_i3d(model)[0]
    unit = getattr(net, STEM)
    volume = clip.shape[2:]
    activations = unit.conv.out_channels * math.prod(-(-n // s) for n, s in zip(volume, unit.stride))
    needed = (int(feature_mask.max()) + 1) * activations * clip.element_size()
    if needed > budget_bytes:
        return None, (f"the per-feature responses need {needed / 1024**3:.2f} GiB, over the "
                      f"{budget_bytes / 1024**3:.2f} GiB budget")
    return StemSplit(net, clip, baseline, feature_mask), ""
