"""RISE for video: random spatio-temporal masks and the probability-weighted sum of them.

RISE (Petsiuk, Das and Saenko, BMVC 2018) defines the importance of a voxel ``v`` as the expected model
output over random masks given that they keep it, ``S(v) = E[f(x_M) | M(v) = 1] = E[f(x_M) M(v)] / E[M(v)]``
(their Eqs. 2 and 5), with ``x_M = b + M (x - b)`` and ``f = p(target)``. For a clip ``x`` ``(C, T, H, W)``,
a baseline ``b`` and ``N`` masks ``M_i`` ``(T, H, W)`` of mean ``p``, two Monte Carlo estimates
(``normalization``):

    keep:      S(v) = sum_i f(x_Mi) M_i(v) / (N p)             the authors' (their Eq. 6: E[M(v)] = p)
    coverage:  S(v) = sum_i f(x_Mi) M_i(v) / sum_i M_i(v)      the ratio estimator of the same quantity

Both converge to the same map. ``keep`` divides by the expected coverage of ``v``, so its map carries the
sampling noise of the actual coverage, ``mean(f) (sum_i M_i(v) / (N p) - 1)``, a pattern of the masks that
does not depend on the model; when ``f`` varies little between masks (a confident detector keeps
``p(anomalous)`` high under most masks) that noise dominates. ``coverage`` divides it out (to first order
it is ``keep`` with ``mean(f)`` as a control variate). Measured on the default profile (the trained model,
four evaluation clips, two seeds each; ``submissions/README.md``): at N = 1000 the two seeds' maps correlate
at 0.18 (Pearson) with ``keep`` and 0.86 with ``coverage``, their top 5 % of voxels overlap at 0.26 and 0.81
(IoU), and their clip-level localisation AUCs differ by 0.087 and 0.005 on average.

Each mask is the authors' smooth random mask extended to space-time (:class:`RiseMasks`): a binary grid of
``(g_t, g_h, g_w)`` cells, each kept with probability ``p``, upsampled trilinearly to ``(g + 1) * c`` voxels
per axis (``c = ceil(size / g)``, the cell size), then cropped to ``(T, H, W)`` at a random shift in
``[0, c)`` per axis. Removed voxels take the baseline (the protocol's blurred clip) rather than black.

Everything random comes from the ``generator`` passed in (the grids first, then the shifts), so a seeded
generator gives the same masks; the same masks are used for every clip of a call (as in the authors' code),
so a batched call equals per-clip calls. :func:`rise` evaluates the masked clips in batches (channels-last
on a CPU, :func:`benchmark.explain.batching.forward_batch_size`) under ``torch.inference_mode`` and builds
each batch's masks when it needs them: at the paper's 158x237, 1000 full masks would take 3 GB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.explain.batching import model_memory_format

__all__ = ["NORMALIZATIONS", "RiseMasks", "rise"]

NORMALIZATIONS: tuple[str, ...] = ("coverage", "keep")
"""How the weighted sum of masks is normalised (see the module docstring)."""


class RiseMasks:
    """``n_masks`` random smooth masks for a ``(T, H, W)`` volume (see the module docstring).

    Args:
        volume: ``(T, H, W)``.
        cells: ``(g_t, g_h, g_w)``, the cells of the random grid per axis (each at most the axis' size).
        keep: ``p``, the probability that a cell is kept, in ``(0, 1]``.
        n_masks: ``N``.
        generator: where the grids (``N`` draws of ``g_t x g_h x g_w`` uniforms) and then the shifts (``N``
            per axis, ``t`` first) come from.

    Attributes:
        cell: the cell size per axis, ``ceil(size / g)``.
        grids: ``(N, g_t, g_h, g_w)`` bool, the kept cells.
        shifts: ``(N, 3)`` long, the crop offset per axis.
    """

    def __init__(
        self,
        volume: Sequence[int],
        cells: Sequence[int],
        keep: float,
        n_masks: int,
        generator: torch.Generator,
    ) -> None:
        volume, cells = tuple(int(v) for v in volume), tuple(int(c) for c in cells)
        if len(volume) != 3 or len(cells) != 3:
            raise ValueError(f"RiseMasks: volume and cells are (T, H, W), got {volume} and {cells}.")
        if any(c < 1 or c > n for c, n in zip(cells, volume)):
            raise ValueError(f"RiseMasks: cells {cells} must be between 1 and the volume {volume} per axis.")
        if not 0.0 < float(keep) <= 1.0:
            raise ValueError(f"RiseMasks: keep must be in (0, 1], got {keep!r}.")
        if int(n_masks) < 1:
            raise ValueError(f"RiseMasks: n_masks must be >= 1, got {n_masks!r}.")
        self.volume, self.cells, self.keep, self.n_masks = volume, cells, float(keep), int(n_masks)
        self.cell = tuple(math.ceil(n / g) for n, g in zip(volume, cells))
        self.upsampled = tuple((g + 1) * c for g, c in zip(cells, self.cell))
        device = generator.device
        self.grids = torch.rand((self.n_masks, *cells), generator=generator, device=device) < self.keep
        self.shifts = torch.stack(
            [torch.randint(0, c, (self.n_masks,), generator=generator, device=device) for c in self.cell], dim=1
        )
        # trilinear upsampling is separable: per axis, the (upsampled, cells) matrix of linear interpolation with
        # half-pixel centres (F.interpolate's align_corners=False), of which a mask needs the rows of its crop
        self._axes = [_linear_upsampling(g, up) for g, up in zip(cells, self.upsampled)]

    def __len__(self) -> int:
        return self.n_masks

    def masks(self, start: int, stop: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Masks ``start .. stop - 1`` as ``(n, T, H, W)`` values in ``[0, 1]``.

        Equal, to float rounding, to ``F.interpolate(grid, size=upsampled, mode="trilinear",
        align_corners=False)`` cropped at the shift; computed as three small products with the rows of the
        crop only (20 masks at 20x48x72 on one CPU thread: 2 ms instead of 21 ms for the full upsampling and the
        crops).
        """
        grids = self.grids[start:stop].to(dtype)
        n = len(grids)
        rows = [
            axis.to(dtype)[self.shifts[start:stop, a].view(n, 1) + torch.arange(size, device=axis.device)]
            for a, (axis, size) in enumerate(zip(self._axes, self.volume))
        ]  # per axis (n, size, cells)
        out = torch.einsum("nwk,nijk->nijw", rows[2], grids)
        out = torch.einsum("nhj,nijw->nihw", rows[1], out)
        return torch.einsum("nti,nihw->nthw", rows[0], out).contiguous()


def _linear_upsampling(cells: int, size: int) -> torch.Tensor:
    """``(size, cells)``: 1-D linear upsampling of ``cells`` values to ``size`` (``align_corners=False``)."""
    eye = torch.eye(cells, dtype=torch.float64).unsqueeze(1)  # (cells, 1, cells): one basis vector per row
    return F.interpolate(eye, size=size, mode="linear", align_corners=False)[:, 0].t().contiguous()


def rise(
    model: nn.Module,
    clips: torch.Tensor,
    baselines: torch.Tensor,
    masks: RiseMasks,
    *,
    target: int,
    batch_size: int,
    normalization: str = "coverage",
    memory_format: torch.memory_format | None = None,
) -> torch.Tensor:
    """RISE saliency ``(B, T, H, W)`` of ``p(target)`` for ``clips`` ``(B, C, T, H, W)``.

    Args:
        model: maps ``(n, C, T, H, W)`` to class probabilities ``(n, classes)``.
        clips: the clips ``x``; baselines: ``b``, the same shape (what a removed voxel takes).
        masks: the masks (the same for every clip).
        target: the class whose probability weighs the masks.
        batch_size: masked clips per model call.
        normalization: ``"coverage"`` (``sum_i f_i M_i / sum_i M_i``; 0 where no mask keeps a voxel) or
            ``"keep"`` (``sum_i f_i M_i / (N p)``, the authors').
        memory_format: the layout the model gets its batches in (default
            :func:`benchmark.explain.batching.model_memory_format`: channels-last on a CPU).

    Returns:
        The saliency per clip, in the clips' dtype (the sums run in float64).
        Cost: ``N`` forward samples per clip, no backward.
    """
    if clips.dim() != 5 or baselines.shape != clips.shape:
        raise ValueError(
            f"rise: clips and baselines must both be (B, C, T, H, W), got {tuple(clips.shape)} and "
            f"{tuple(baselines.shape)}."
        )
    if tuple(clips.shape[2:]) != masks.volume:
        raise ValueError(f"rise: the masks are for a {masks.volume} volume, the clips are {tuple(clips.shape[2:])}.")
    if batch_size < 1:
        raise ValueError(f"rise: batch_size must be >= 1, got {batch_size}.")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"rise: normalization must be one of {list(NORMALIZATIONS)}, got {normalization!r}.")
    layout = model_memory_format(clips) if memory_format is None else memory_format
    n, volume = len(masks), math.prod(masks.volume)
    out = []
    with torch.inference_mode():
        for x, b in zip(clips, baselines):
            saliency = x.new_zeros(volume, dtype=torch.float64)
            coverage = x.new_zeros(volume, dtype=torch.float64)
            delta = x - b
            for start in range(0, n, batch_size):
                m = masks.masks(start, min(start + batch_size, n), dtype=x.dtype).to(x.device)
                batch = torch.addcmul(b, m.unsqueeze(1), delta)  # b + M (x - b), (n, C, T, H, W)
                p = model(batch.contiguous(memory_format=layout))[:, target]
                flat = m.view(len(m), volume).double()
                saliency.addmv_(flat.t(), p.double())
                coverage += flat.sum(dim=0)
            if normalization == "keep":
                saliency /= n * masks.keep
            else:
                saliency = torch.where(coverage > 0, saliency / coverage.clamp(min=1e-300), 0.0)
            out.append(saliency.view(masks.volume).to(x.dtype))
    return torch.stack(out)
