"""3-D SLIC supervoxels: the feature mask that LIME and KernelSHAP perturb.

The paper builds 80 SLIC supervoxels with compactness 60 over the whole clip. Choices made here
(the paper leaves them open):

* the clip is reduced to grayscale (the mean of its channels: UCSD frames are grayscale copies)
  and segmented as one 3-D volume ``(T, H, W)`` with ``channel_axis=None``;
* ``spacing=(1, 1, 1)``: one frame step counts as much as one pixel step;
* ``sigma=0``: no pre-smoothing;
* scikit-image rescales the volume to ``[0, 1]`` first, so with compactness 60 the spatial term
  dominates and the supervoxels are compact blocks that bend only along strong edges;
* SLIC returns fewer segments than asked (51-67 for 80 on random input) and may leave gaps in its
  labels, so labels are relabelled to contiguous ids ``0..K-1`` in order of first appearance in
  raster order (what a Captum ``feature_mask`` needs).

The result is deterministic for a given clip.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import torch
from skimage.segmentation import slic

DEFAULT_SEGMENTS = 80
DEFAULT_COMPACTNESS = 60.0


def slic_supervoxels(
    clip: torch.Tensor, n_segments: int = DEFAULT_SEGMENTS, compactness: float = DEFAULT_COMPACTNESS
) -> torch.Tensor:
    """3-D SLIC supervoxels of one clip.

    Args:
        clip: ``(3, T, H, W)`` or ``(T, H, W)``, any real dtype, any device.
        n_segments: the number of supervoxels asked for (SLIC returns about that many).
        compactness: SLIC's balance between intensity and space (higher -> more regular blocks).

    Returns:
        A CPU ``LongTensor`` ``(T, H, W)`` with contiguous ids ``0..K-1``.
    """
    if not isinstance(clip, torch.Tensor) or clip.dim() not in (3, 4):
        shape = tuple(clip.shape) if isinstance(clip, torch.Tensor) else type(clip).__name__
        raise ValueError(f"slic_supervoxels: clip must be a (3, T, H, W) or (T, H, W) tensor, got {shape}.")
    if n_segments < 1 or compactness <= 0:
        raise ValueError(
            f"slic_supervoxels: n_segments must be >= 1 and compactness > 0, got {n_segments}, {compactness}."
        )
    volume = clip.detach().to("cpu", torch.float64)
    if volume.dim() == 4:
        volume = volume.mean(dim=0)
    labels = slic(
        volume.numpy(),
        n_segments=int(n_segments),
        compactness=float(compactness),
        channel_axis=None,
        spacing=np.ones(3),
        sigma=0,
        start_label=0,
        enforce_connectivity=True,
    )
    return torch.from_numpy(relabel_contiguous(labels))


def relabel_contiguous(labels: np.ndarray) -> np.ndarray:
    """Map arbitrary integer labels to ``0..K-1`` in order of first appearance (raster order).

    Args:
        labels: an integer array of any shape.

    Returns:
        An ``int64`` array of the same shape.
    """
    flat = np.asarray(labels).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first), dtype=np.int64)
    return rank[inverse].reshape(np.shape(labels))


class SupervoxelCache:
    """A bounded in-process cache of :func:`slic_supervoxels`, keyed by the clip's bytes.

    LIME and KernelSHAP segment the same clip with the same settings; an explicit cache object
    (rather than a module global) lets a caller decide how long segmentations live.

    Example:
        >>> cache = SupervoxelCache(maxsize=4)
        >>> mask = cache.get(clip, n_segments=80, compactness=60)   # computed
        >>> mask = cache.get(clip, n_segments=80, compactness=60)   # cached
    """

    def __init__(self, maxsize: int = 8) -> None:
        if maxsize < 1:
            raise ValueError(f"SupervoxelCache: maxsize must be >= 1, got {maxsize}.")
        self.maxsize = maxsize
        self._entries: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(
        self, clip: torch.Tensor, n_segments: int = DEFAULT_SEGMENTS, compactness: float = DEFAULT_COMPACTNESS
    ) -> torch.Tensor:
        """:func:`slic_supervoxels` of ``clip``, from the cache when the same clip was seen."""
        key = _clip_key(clip, n_segments, compactness)
        if key in self._entries:
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key].clone()
        self.misses += 1
        labels = slic_supervoxels(clip, n_segments, compactness)
        self._entries[key] = labels
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return labels.clone()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every entry (the hit/miss counters stay)."""
        self._entries.clear()


def _clip_key(clip: torch.Tensor, n_segments: int, compactness: float) -> str:
    data = clip.detach().to("cpu").contiguous()
    digest = hashlib.sha256()
    digest.update(f"{tuple(data.shape)}|{data.dtype}|{int(n_segments)}|{float(compactness)}|".encode())
    digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
