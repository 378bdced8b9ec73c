"""Model-centric (faithfulness) scores: deletion and insertion.

Protocol, "Model-centric (faithfulness) scores": ``E`` is normalised to ``[0, 1]`` by its maximum and
the thresholds ``tau_i = i / N`` are visited from ``i = N`` down to 0. With ``x`` the clip and ``b``
the baseline, ``x_del(tau) = where(E >= tau, b, x)`` and ``x_ins(tau) = where(E >= tau, x, b)``, the
voxel mask broadcast over every channel;

* ``deletion = mean_i (p(x) - p(x_del(tau_i)))`` (higher is better),
* ``insertion = mean_i (p(x) - p(x_ins(tau_i)))`` (lower is better: the paper's convention).

Exact savings, equal results: the selections ``E >= tau_i`` are nested, so two thresholds that select
as many voxels select the same voxels and share one model pass; an empty selection is ``p(x)`` for
deletion and ``p(b)`` for insertion, a full one the reverse (``tau_0 = 0`` always selects every voxel).
A dense map therefore costs 50 + 50 perturbed clips + ``x`` + ``b`` = 102 samples (100 when ``p_clip``
and ``p_baseline`` are passed in), against 2 x 51 + 1 = 103 for the plain loop; a blocky occlusion or
superpixel map costs far fewer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmark.metrics._arrays import check_n_thresholds
from benchmark.metrics.maps import scored_map, thresholds
from benchmark.metrics.spec import MetricSpec

FAITHFULNESS_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("deletion", "model-centric", "higher", "Deletion",
               "Mean drop of p(anomalous) as the most attributed voxels are replaced by the baseline.", True),
    MetricSpec("insertion", "model-centric", "lower", "Insertion",
               "Mean gap to p(anomalous) of the clip as the most attributed voxels are inserted into the "
               "baseline (the paper's convention: lower is better).", True),
)
"""The model-centric metrics (registered by :mod:`benchmark.metrics`)."""

if TYPE_CHECKING:
    import torch

Forward = Callable[["torch.Tensor"], "torch.Tensor"]
"""Maps a batch ``(B, 3, T, H, W)`` to ``p(anomalous)`` of shape ``(B,)``."""

# A sample to evaluate: the clip, the baseline, or a selection (threshold index) with a direction.
_CLIP, _BASELINE, _DELETE, _INSERT = "clip", "baseline", "delete", "insert"


def deletion_insertion(
    forward: Forward,
    clip: torch.Tensor,
    attribution: Any,
    baseline: torch.Tensor,
    n_thresholds: int = 50,
    *,
    batch_size: int = 16,
    p_clip: float | None = None,
    p_baseline: float | None = None,
) -> dict[str, Any]:
    """Deletion and insertion scores and curves of one clip.

    Args:
        forward: maps ``(B, C, T, H, W)`` to ``p(anomalous)`` of shape ``(B,)``; called under
            ``torch.inference_mode`` on batches of at most ``batch_size`` clips, never one by one.
        clip: the input ``x``, ``(C, T, H, W)`` (``C = 3``), in model-input space.
        attribution: ``(C, T, H, W)`` or ``(T, H, W)`` array or tensor (see :func:`scored_map`).
        baseline: the reference ``b``, same shape, dtype and device as ``clip`` (see :mod:`.baselines`).
        n_thresholds: ``N``; ``N + 1`` thresholds.
        batch_size: perturbed clips per ``forward`` call.
        p_clip: ``p(x)`` when the caller already has it (saves one sample).
        p_baseline: ``p(b)`` when the caller already has it (saves one sample).

    Returns:
        ``deletion`` and ``insertion`` (floats); ``deletion_curve`` and ``insertion_curve``: the model's
        probabilities ``p(x_del(tau_i))`` and ``p(x_ins(tau_i))`` (lists of ``N + 1`` floats, in visiting
        order: not the differences); ``thresholds``: the normalised ``tau_i`` in the same order
        (``1.0`` down to ``0.0``); ``p_clip`` and ``p_baseline``; ``forward_samples``: how many clips
        ``forward`` actually ran on in this call, ``x`` and ``b`` included; ``degenerate``: the scored map
        is all zero (every threshold then selects every voxel: deletion ``p(x) - p(b)``, insertion 0).

    Raises:
        ValueError: shapes, dtypes or devices that differ, NaN/inf attributions or probabilities, a
            ``forward`` output that is not ``(B,)``, a non-positive ``batch_size``.
    """
    import torch  # imported when a score is computed: the page reads metric declarations only

    n_thresholds = check_n_thresholds(n_thresholds)
    _check_inputs(clip, baseline, batch_size)
    E = scored_map(attribution)
    if E.shape != tuple(clip.shape[1:]):
        raise ValueError(
            f"attribution: scored map of shape {E.shape} does not match the clip's voxels {tuple(clip.shape[1:])}."
        )
    peak = float(E.max())
    degenerate = peak == 0.0
    normalised = E / peak if not degenerate else E
    taus = thresholds(normalised, n_thresholds)  # i / N, ascending
    # passes[v] = number of thresholds voxel v clears; it is selected at tau_i exactly when passes[v] > i.
    passes = np.searchsorted(taus, normalised.reshape(-1), side="right").reshape(E.shape)
    cleared_at_most = np.cumsum(np.bincount(passes.reshape(-1), minlength=n_thresholds + 2))
    n_selected = E.size - cleared_at_most[: n_thresholds + 1]  # (N + 1,), non-increasing in i

    visiting = list(range(n_thresholds, -1, -1))
    del_source, ins_source = _plan(n_selected, visiting, E.size)

    known: dict[tuple[str, int], float] = {}
    if p_clip is not None:
        known[(_CLIP, -1)] = _check_probability(p_clip, "p_clip")
    if p_baseline is not None:
        known[(_BASELINE, -1)] = _check_probability(p_baseline, "p_baseline")
    needed = [(_CLIP, -1), (_BASELINE, -1)] + del_source + ins_source
    to_run = [s for s in dict.fromkeys(needed) if s not in known]

    small = np.uint8 if n_thresholds + 1 <= np.iinfo(np.uint8).max else np.int32
    passes_t = torch.as_tensor(passes.astype(small), device=clip.device)
    known.update(_evaluate(forward, clip, baseline, passes_t, to_run, batch_size))

    p_x = known[(_CLIP, -1)]
    deletion_curve = [known[s] for s in del_source]
    insertion_curve = [known[s] for s in ins_source]
    return {
        "deletion": float(np.mean(p_x - np.asarray(deletion_curve))),
        "insertion": float(np.mean(p_x - np.asarray(insertion_curve))),
        "deletion_curve": deletion_curve,
        "insertion_curve": insertion_curve,
        "thresholds": [float(taus[i]) for i in visiting],
        "p_clip": p_x,
        "p_baseline": known[(_BASELINE, -1)],
        "forward_samples": len(to_run),
        "degenerate": degenerate,
    }


def _plan(
    n_selected: np.ndarray, visiting: list[int], n_voxels: int
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The sample that answers each visited threshold, for deletion and for insertion.

    The selections are nested, so equal sizes mean equal sets: they share the sample of the first
    threshold visited with that size. Empty and full selections are the clip or the baseline.
    """
    representative: dict[int, int] = {}  # selection size -> threshold index that builds it
    del_source: list[tuple[str, int]] = []
    ins_source: list[tuple[str, int]] = []
    for i in visiting:
        count = int(n_selected[i])
        if count == 0:
            del_source.append((_CLIP, -1))
            ins_source.append((_BASELINE, -1))
        elif count == n_voxels:
            del_source.append((_BASELINE, -1))
            ins_source.append((_CLIP, -1))
        else:
            rep = representative.setdefault(count, i)
            del_source.append((_DELETE, rep))
            ins_source.append((_INSERT, rep))
    return del_source, ins_source


def _check_inputs(clip: torch.Tensor, baseline: torch.Tensor, batch_size: Any) -> None:
    import torch

    for name, tensor in (("clip", clip), ("baseline", baseline)):
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{name}: expected a torch tensor (C, T, H, W), got {type(tensor).__name__}.")
        if tensor.ndim != 4:
            raise ValueError(f"{name}: expected shape (C, T, H, W), got {tuple(tensor.shape)}.")
        if not tensor.is_floating_point():
            raise ValueError(f"{name}: expected a floating-point tensor, got {tensor.dtype}.")
    if baseline.shape != clip.shape or baseline.dtype != clip.dtype or baseline.device != clip.device:
        raise ValueError(
            f"baseline: {tuple(baseline.shape)} {baseline.dtype} on {baseline.device} does not match the clip's "
            f"{tuple(clip.shape)} {clip.dtype} on {clip.device}; build it with make_baseline(name, clip)."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}.")


def _check_probability(value: Any, name: str) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite probability, got {value}.")
    return value


def _evaluate(
    forward: Forward,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    passes: torch.Tensor,
    samples: list[tuple[str, int]],
    batch_size: int,
) -> dict[tuple[str, int], float]:
    """``p`` of every sample, run through ``forward`` in batches under inference mode."""
    import torch

    results: dict[tuple[str, int], float] = {}
    with torch.inference_mode():
        for start in range(0, len(samples), batch_size):
            chunk = samples[start : start + batch_size]
            batch = clip.new_empty((len(chunk), *clip.shape))
            for slot, (kind, i) in zip(batch, chunk):
                _build(kind, i, clip, baseline, passes, out=slot)
            probs = forward(batch)
            if not isinstance(probs, torch.Tensor) or tuple(probs.shape) != (len(chunk),):
                shape = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
                raise ValueError(
                    f"forward: must map a batch {tuple(batch.shape)} to p(anomalous) of shape ({len(chunk)},), "
                    f"got {shape}."
                )
            values = probs.detach().to("cpu", torch.float64).numpy()
            if not np.isfinite(values).all():
                raise ValueError("forward: returned NaN or inf probabilities.")
            results.update(zip(chunk, (float(v) for v in values)))
    return results


def _build(
    kind: str, i: int, clip: torch.Tensor, baseline: torch.Tensor, passes: torch.Tensor, *, out: torch.Tensor
) -> None:
    """Write one input ``(C, T, H, W)`` into ``out``: the clip, the baseline, or ``x_del`` / ``x_ins`` at ``tau_i``."""
    import torch

    if kind == _CLIP:
        out.copy_(clip)
    elif kind == _BASELINE:
        out.copy_(baseline)
    else:
        selected = (passes > i).unsqueeze(0)  # (1, T, H, W): broadcast over every channel
        first, second = (baseline, clip) if kind == _DELETE else (clip, baseline)
        torch.where(selected, first, second, out=out)
