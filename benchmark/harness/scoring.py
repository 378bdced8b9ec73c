"""Every metric of every clip: the human-centric scores against the masks and deletion/insertion on the model.

Clips are scored independently (by ``workers`` threads: torch releases the GIL in the model passes); only
the aggregation over clips (:mod:`benchmark.harness.evaluate`) looks at all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from benchmark.explain.batching import model_memory_format
from benchmark.harness.inputs import EvalSet
from benchmark.harness.outcomes import RunOutcome
from benchmark.metrics import deletion_insertion, human_centric
from benchmark.model.i3d import ANOMALOUS, ProbabilityModel
from benchmark.model.inference import fold_for_inference
from benchmark.results import SCORE_COLUMNS

__all__ = ["ClipScores", "ProbabilityFn", "batched_probabilities", "probability_forward", "score_clips",
           "seed_spread"]

ProbabilityFn = Callable[[torch.Tensor], torch.Tensor]
"""``(B, 3, T, H, W)`` clips -> ``p(anomalous)`` ``(B,)`` on the CPU."""


def probability_forward(net: torch.nn.Module, device: str) -> ProbabilityFn:
    """``(B, 3, T, H, W)`` -> p(anomalous) ``(B,)`` on ``device``, returned on the CPU.

    An eval-mode I3D runs as :class:`~benchmark.model.inference.FoldedI3D` (BatchNorm folded into the
    convolutions: the same probabilities to float rounding, with less memory traffic). On a CPU the batch goes
    in as ``torch.channels_last_3d``: from batch 16 on, the I3D's pooling layers run about twice as fast in
    that layout (:data:`benchmark.explain.batching.ONEDNN_MIN_BATCH`).
    """
    model = ProbabilityModel(fold_for_inference(net.to(device))).to(device).eval()

    def forward(batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(device)
        with torch.inference_mode():
            return model(batch.contiguous(memory_format=model_memory_format(batch)))[:, ANOMALOUS].float().cpu()

    return forward


def batched_probabilities(forward: ProbabilityFn, x: torch.Tensor, batch: int) -> torch.Tensor:
    """``forward`` over ``x`` ``(N, 3, T, H, W)`` in batches of ``batch``: ``(N,)``."""
    return torch.cat([forward(x[i : i + batch]) for i in range(0, len(x), batch)])


@dataclass(frozen=True)
class ClipScores:
    """One seed's scores of every clip: per-clip rows, the thresholds and the deletion/insertion curves."""

    rows: list[dict[str, Any]]
    thresholds: list[float]
    deletion_curves: dict[str, list[float]]
    insertion_curves: dict[str, list[float]]


def score_clips(outcome: RunOutcome, es: EvalSet, forward: ProbabilityFn, p_clip: torch.Tensor,
                p_base: torch.Tensor, *, n_thresholds: int, batch_size: int, workers: int = 1,
                progress: bool = False, label: str = "scoring") -> ClipScores:
    """Every metric of every clip of ``outcome`` (its runs are ``es``'s clips in order).

    ``p_clip`` and ``p_base`` ``(N,)`` are the model's p(anomalous) of the clips and of their baselines,
    computed once per stage and shared by every submission.
    """

    def score(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        run = outcome.runs[i]
        hc = human_centric(run.attribution, es.masks[i], n_thresholds=n_thresholds)
        di = deletion_insertion(forward, es.clips[i], torch.from_numpy(run.attribution), es.baselines[i],
                                n_thresholds=n_thresholds, batch_size=batch_size,
                                p_clip=float(p_clip[i]), p_baseline=float(p_base[i]))
        return hc, di

    with ThreadPoolExecutor(max_workers=workers) as pool:
        bar = tqdm(pool.map(score, range(len(outcome.runs))), total=len(outcome.runs), desc=label,
                   unit="clip", disable=not progress)
        scored = list(bar)
    rows, del_curves, ins_curves, thresholds = [], {}, {}, []
    for i, (run, (hc, di)) in enumerate(zip(outcome.runs, scored)):
        thresholds = [float(t) for t in di["thresholds"]]
        del_curves[run.clip_id] = [float(v) for v in di["deletion_curve"]]
        ins_curves[run.clip_id] = [float(v) for v in di["insertion_curve"]]
        rows.append({
            **es.meta[i], **{k: float(hc[k]) for k in SCORE_COLUMNS if k in hc},
            "deletion": float(di["deletion"]), "insertion": float(di["insertion"]),
            "frame_index": int(hc["frame_index"]), "degenerate": bool(hc["degenerate"]),
            "p_clip": float(p_clip[i]), "p_baseline": float(p_base[i]),
            "runtime_s": run.runtime_s, "forward_samples": run.forward_samples,
            "backward_samples": run.backward_samples,
        })
    return ClipScores(rows, thresholds, del_curves, ins_curves)


def seed_spread(seeds: list[int], rows_per_seed: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Per metric, the mean over clips for each seed, and their spread (sample std, min, max)."""
    means = {m: [float(np.mean([r[m] for r in rows])) for rows in rows_per_seed] for m in SCORE_COLUMNS}
    spread = {m: {"std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, "min": min(v), "max": max(v)}
              for m, v in means.items()}
    return {"n": len(seeds), "seeds": seeds, "means": means, "spread": spread}
