"""How similar two attribution maps are, and the randomisation test's verdict (Adebayo et al., 2018).

Used by the sanity stage (:mod:`benchmark.harness.sanity`) to compare a submission's map on the trained
I3D with its map on each progressively randomised copy (:mod:`benchmark.model.randomization`):

* the maps compared are the protocol's scored map ``E = clip(sum_c A, 0)`` (the verdict's basis, because
  it is what the leaderboard scores) and, recorded beside it, ``|sum_c A|`` (Adebayo et al.'s absolute
  maps: a method whose sign flips under randomisation but whose magnitude keeps the input's edges shows
  up there); see :data:`MAP_BASES`;
* **Spearman** rank correlation of the flattened maps (:func:`scipy.stats.spearmanr`, ties by average
  ranks). When either map is constant the correlation is undefined: it is recorded as ``1`` if the two
  maps are identical (nothing changed) and ``0`` otherwise, and the comparison is flagged (``constant``);
  never NaN;
* **SSIM** (:func:`skimage.metrics.structural_similarity`, ``data_range=1``) of each frame of the maps,
  each map normalised to ``[0, 1]`` by its maximum over the clip (the protocol's normalisation; an
  all-zero map stays zero), averaged over the frames.

Verdict (:func:`verdict`, basis ``E``, at full randomisation): ``pass`` when the mean Spearman over the
clips is below the threshold (``params.yaml: sanity.threshold``, 0.5), ``fail`` when it is not (the maps
survive the destruction of the model), ``inconclusive`` when the trained model's map is constant for more
than half the clips (there is nothing to compare). A rank correlation of 0.5 means the two maps still share
a quarter of their rank variance after every weight is random; Adebayo et al. report correlations near 0
for model-dependent gradients and well above 0.5 for Guided Backprop, whose maps are driven by the input.

Arrays only (NumPy; SciPy and scikit-image are imported when a measure runs): no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAP_BASES", "SIMILARITY_RULES", "VERDICTS", "Similarity", "compare_maps", "frame_ssim", "spearman",
           "verdict"]

VERDICTS: tuple[str, ...] = ("pass", "fail", "inconclusive")
MAP_BASES: Mapping[str, str] = {
    "scored": "E = clip(sum_c A, 0)",
    "absolute": "|sum_c A|",
}
"""The maps compared: ``scored`` (the verdict's basis) and ``absolute``."""
SIMILARITY_RULES: Mapping[str, str] = {
    "spearman": "scipy.stats.spearmanr on the flattened map, ties by average ranks; a constant map "
    "gives 1 if both maps are identical, else 0 (flagged)",
    "ssim": "skimage structural_similarity per frame, maps normalised by their clip maximum, "
    "data_range 1, mean over frames",
}
"""The two measures, in words, as the sanity records state them."""




@dataclass(frozen=True)
class Similarity:
    """How similar a map stayed: ``spearman`` in ``[-1, 1]``, ``ssim`` in ``[-1, 1]``; ``constant`` when
    either map is constant (the correlation is then 1 for identical maps, else 0)."""

    spearman: float
    ssim: float
    constant: bool


def _as_map(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(
        values.detach().cpu().numpy() if hasattr(values, "detach") else values, dtype=np.float64
    )
    if arr.ndim != 3 or arr.size == 0:
        raise ValueError(f"{name}: expected a map of shape (T, H, W), got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name}: holds NaN or inf; an explainer's output is validated before it is compared."
        )
    return arr


def spearman(a: Any, b: Any) -> tuple[float, bool]:
    """Spearman rank correlation of two maps of equal shape, flattened (ties: average ranks).

    Returns:
        ``(rho, constant)``: ``constant`` is True when either map is constant; ``rho`` is then 1 when
        the maps are identical and 0 otherwise. Never NaN.
    """
    a, b = _as_map(a, "a"), _as_map(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"spearman: maps of different shapes {a.shape} and {b.shape}.")
    fa, fb = a.ravel(), b.ravel()
    if fa.min() == fa.max() or fb.min() == fb.max():
        return (1.0 if np.array_equal(fa, fb) else 0.0), True
    from scipy import stats

    rho = float(stats.spearmanr(fa, fb).statistic)
    return rho, False


def _unit(E: np.ndarray) -> np.ndarray:
    top = float(E.max())
    return E / top if top > 0 else np.zeros_like(E)


def frame_ssim(a: Any, b: Any) -> float:
    """Mean over frames of the SSIM of two non-negative maps ``(T, H, W)``, each normalised to ``[0, 1]``
    by its maximum over the clip (``data_range=1``; the window shrinks to the largest odd size <= 7
    that fits a small frame)."""
    a, b = _as_map(a, "a"), _as_map(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"frame_ssim: maps of different shapes {a.shape} and {b.shape}.")
    if (a < 0).any() or (b < 0).any():
        raise ValueError("frame_ssim: maps must be non-negative (pass E or |sum_c A|).")
    side = min(7, a.shape[1], a.shape[2])
    win = side if side % 2 else side - 1
    if win < 3:
        raise ValueError(f"frame_ssim: frames of {a.shape[1:]} are too small for SSIM (at least 3 x 3).")
    from skimage.metrics import structural_similarity

    ua, ub = _unit(a), _unit(b)
    return float(
        np.mean(
            [structural_similarity(ua[t], ub[t], data_range=1.0, win_size=win) for t in range(a.shape[0])]
        )
    )


def compare_maps(reference: Any, other: Any) -> dict[str, Similarity]:
    """Similarity of two channel-summed attributions ``(T, H, W)`` on both bases of :data:`MAP_BASES`."""
    ref, oth = _as_map(reference, "reference"), _as_map(other, "other")
    out = {}
    for basis, fn in (("scored", lambda m: np.maximum(m, 0.0)), ("absolute", np.abs)):
        ra, ob = fn(ref), fn(oth)
        rho, constant = spearman(ra, ob)
        out[basis] = Similarity(rho, frame_ssim(ra, ob), constant)
    return out


def verdict(spearman_at_full: Sequence[float], reference_constant: Sequence[bool], threshold: float) -> str:
    """``pass`` | ``fail`` | ``inconclusive`` from the per-clip Spearman at full randomisation.

    ``inconclusive`` when more than half of ``reference_constant`` (the trained model's map is constant)
    is True; else ``pass`` when the mean is strictly below ``threshold``, ``fail`` otherwise.
    """
    values = np.asarray(spearman_at_full, dtype=float)
    if values.size == 0:
        raise ValueError("verdict: no clips.")
    if 2 * int(np.sum(reference_constant)) > values.size:
        return "inconclusive"
    return "pass" if float(values.mean()) < threshold else "fail"


