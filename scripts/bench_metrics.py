"""Micro-benchmark of the scoring library at the paper's clip size (prints figures; not a test).

1. ``human_centric`` (clip + max-attribution-frame IoU/F1/AUC and mAUC/stdAUC/Cv) on one
   20 x 158 x 237 clip, against the straightforward computation (51 boolean masks per level and
   ``sklearn.metrics.roc_auc_score`` per AUC), with an equality check.
2. ``deletion_insertion``'s cost in model passes for a dense map, a blocky occlusion-like map and a
   superpixel-like map, with a cheap stand-in model, against the plain loop's 2 x 51 + 1 = 103.

Usage: ``python scripts/bench_metrics.py [--repeats 7] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from benchmark.metrics import blur_baseline, deletion_insertion, human_centric

T, H, W = 20, 158, 237
N = 50


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _smooth_map(rng: np.random.Generator) -> np.ndarray:
    """A dense, gradient-like map: blurred noise of both signs plus a bright blob on the anomaly."""
    noise = torch.from_numpy(rng.normal(size=(1, T, H, W)))
    smooth = blur_baseline(blur_baseline(noise))[0].numpy()
    return smooth


def _moving_mask() -> np.ndarray:
    """A 30 x 20 px object crossing the scene from frame 3 on (frames 0-2 are normal)."""
    mask = np.zeros((T, H, W), dtype=bool)
    for t in range(3, T):
        x = 10 + 9 * t
        mask[t, 60:90, x : x + 20] = True
    return mask


def _straightforward(E: np.ndarray, mask: np.ndarray) -> dict[str, float | int]:
    """The obvious computation: 51 boolean masks per level, sklearn for every AUC."""

    def iou_f1_auc(e: np.ndarray, m: np.ndarray) -> tuple[float, float, float]:
        ious, f1s = [], []
        for i in range(N + 1):
            sel = e >= (i / N) * e.max()
            tp = np.count_nonzero(sel & m)
            fp = np.count_nonzero(sel & ~m)
            fn = np.count_nonzero(~sel & m)
            ious.append(tp / (tp + fp + fn))
            f1s.append(2 * tp / (2 * tp + fp + fn))
        return max(ious), max(f1s), roc_auc_score(m.ravel(), e.ravel())

    clip = iou_f1_auc(E, mask)
    anomalous = mask.any(axis=(1, 2))
    t_star = int(np.argmax(np.where(anomalous, E.sum(axis=(1, 2)), -np.inf)))
    frame = iou_f1_auc(E[t_star], mask[t_star])
    aucs = np.array(
        [roc_auc_score(mask[t].ravel(), E[t].ravel()) for t in range(T) if 0 < mask[t].sum() < mask[t].size]
    )
    std = aucs.std()
    return {
        "clip_iou": clip[0], "clip_f1": clip[1], "clip_auc": clip[2], "frame_index": t_star,
        "frame_iou": frame[0], "frame_f1": frame[1], "frame_auc": frame[2],
        "mauc": aucs.mean(), "stdauc": std, "cv": std / aucs.mean() if std > 0 else 0.0,
    }


def _occlusion_like_map(rng: np.random.Generator) -> np.ndarray:
    """Mean score of overlapping 10 x 52 x 78 windows at stride 10 x 32 x 32 (the paper's large occlusion)."""
    total = np.zeros((T, H, W))
    count = np.zeros((T, H, W))
    for t in range(0, T - 10 + 1, 10):
        for y in list(range(0, H - 52, 32)) + [H - 52]:
            for x in list(range(0, W - 78, 32)) + [W - 78]:
                total[t : t + 10, y : y + 52, x : x + 78] += rng.normal()
                count[t : t + 10, y : y + 52, x : x + 78] += 1
    return total / count


def _superpixel_like_map(rng: np.random.Generator, n_segments: int = 80) -> np.ndarray:
    """A random score per cell of a 4 x 4 x 5 grid of supervoxels (LIME/KernelSHAP-like)."""
    t_idx = np.minimum(np.arange(T) * 4 // T, 3)
    y_idx = np.minimum(np.arange(H) * 4 // H, 3)
    x_idx = np.minimum(np.arange(W) * 5 // W, 4)
    labels = (t_idx[:, None, None] * 20 + y_idx[None, :, None] * 5 + x_idx[None, None, :])
    return rng.normal(size=n_segments)[labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"clip {T}x{H}x{W} = {T * H * W} voxels; torch threads {torch.get_num_threads()}")

    attribution = _smooth_map(rng)
    mask = _moving_mask()
    E = np.maximum(attribution, 0.0)

    fast = human_centric(attribution, mask)
    slow = _straightforward(E, mask)
    for key, value in slow.items():
        same = fast[key] == value if key in ("clip_iou", "clip_f1", "frame_iou", "frame_f1", "frame_index") \
            else abs(fast[key] - value) <= 1e-12
        if not same:
            raise SystemExit(f"MISMATCH {key}: human_centric {fast[key]!r} vs straightforward {value!r}")
    print("human_centric equals the straightforward computation "
          "(IoU/F1/t* exactly, AUCs within 1e-12 of sklearn)")

    t_fast = _median_seconds(lambda: human_centric(attribution, mask), args.repeats)
    t_slow = _median_seconds(lambda: _straightforward(E, mask), max(1, args.repeats // 3))
    t_sk = _median_seconds(lambda: roc_auc_score(mask.ravel(), E.ravel()), max(1, args.repeats // 3))
    print(f"human_centric (all 10 scores):          {t_fast * 1e3:8.1f} ms  (median of {args.repeats})")
    print(f"straightforward (51 masks + sklearn):   {t_slow * 1e3:8.1f} ms  ({t_slow / t_fast:.0f}x slower)")
    print(f"sklearn roc_auc_score, clip AUC alone:  {t_sk * 1e3:8.1f} ms")

    weights = torch.from_numpy(rng.normal(size=3 * T * H * W)).float() / np.sqrt(3 * T * H * W)

    def stand_in(batch: torch.Tensor) -> torch.Tensor:
        """A linear probe through a sigmoid: about a millisecond per clip, so the timings are the metric's."""
        return torch.sigmoid(batch.reshape(batch.shape[0], -1) @ weights)

    clip = torch.from_numpy(rng.uniform(-1, 1, size=(3, T, H, W))).float()
    baseline = blur_baseline(clip)
    print(f"\ndeletion/insertion with a stand-in model (plain loop: 2 x {N + 1} + 1 = {2 * (N + 1) + 1} passes)")
    maps = {
        "dense (gradient-like)": attribution,
        "uniform ramp (every bin filled)": rng.permutation(np.linspace(0, 1, T * H * W)).reshape(T, H, W),
        "occlusion-like (10x52x78 / 10x32x32)": _occlusion_like_map(rng),
        "superpixel-like (80 segments)": _superpixel_like_map(rng),
    }
    for name, amap in maps.items():
        out = deletion_insertion(stand_in, clip, amap, baseline, N, batch_size=16)
        known = deletion_insertion(
            stand_in, clip, amap, baseline, N, batch_size=16, p_clip=out["p_clip"], p_baseline=out["p_baseline"]
        )
        seconds = _median_seconds(lambda amap=amap: deletion_insertion(stand_in, clip, amap, baseline, N), 1)
        print(f"  {name:38s} {out['forward_samples']:4d} passes ({known['forward_samples']:3d} with p(x), p(b) given)"
              f"  {seconds:6.2f} s = {seconds / out['forward_samples'] * 1e3:5.1f} ms per pass (stand-in model)")


if __name__ == "__main__":
    main()
