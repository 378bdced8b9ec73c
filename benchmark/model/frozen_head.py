"""The frozen-trunk recipe: a pretrained I3D kept as it is, and a logistic head trained on its pooled features.

Used by profiles whose ``train.mode`` is ``frozen_head`` (the real-data CPU profile). Every layer up to the
profile's ``final_endpoint`` keeps its Kinetics-400 weights and BatchNorm statistics; only the 1x1x1 ``logits``
convolution is trained. Explainers then run the whole network end to end (input clip -> softmax), exactly as
for a fine-tuned one.

1. **Features**: the globally pooled ``final_endpoint`` activations of every training clip, for the clip itself
   and ``views`` augmented views (the project's random crop-rescale, :func:`benchmark.model.train.random_crop_rescale`,
   drawn from one ``torch.Generator`` seeded with the training seed), in batches of 16 in clip order.
2. **Head**: an L2-regularised logistic regression (``head_c``) on standardised features, class-balanced sample
   weights (each class weighs half), lbfgs; the standardisation is folded into the logits convolution
   (``weight = w / sigma``, ``bias = b - sum(w mu / sigma)``; class 0's row is zero, so ``p(anomalous) =
   sigmoid(w . f + b)``). With ``baseline_normals`` the protocol's baseline of every normal training clip (the
   blurred clip, ``evaluate.baseline``) joins the normal class: a frozen trunk sees a blurred clip as unlike any
   training clip, and a head trained without it calls the reference input of deletion, insertion and every
   perturbation explainer anomalous (p about 1 on real Ped2).
3. **Cross-validation** over the training videos (``cv_folds`` folds grouped by video: the videos with anomalies,
   sorted, are dealt to the folds in turn, then the normal-only videos), on the cached features: out-of-fold
   predictions of the clips themselves give the cross-validated AUC and accuracy (a baseline row follows its clip's
   fold). The out-of-fold p of each anomalous clip's baseline is recorded beside its own p: the baseline must be
   less anomalous than the clip for deletion and insertion to measure anything.
4. **Calibration** (``calibration: cv_balanced_accuracy``): the head's bias is shifted by ``-t*``, where ``t*`` is
   the logit threshold that maximises the balanced accuracy of the out-of-fold predictions (the midpoint of the
   optimal interval), so that ``p = 0.5`` is that threshold. The head is class-balanced, but held-out-fold
   anomalies score lower than training ones: without the shift the threshold would be too high.

Everything is decided on the training videos; the held-out videos are only scored afterwards. Deterministic for
a seed and a thread count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from benchmark.data.transforms import to_model_input
from benchmark.settings import Profile

from .i3d import ANOMALOUS, I3D
from .quality import accuracy
from .train import random_crop_rescale
from .weights import init_from_pretrained

__all__ = ["Baseline", "FeatureSet", "FrozenHeadResult", "balanced_threshold", "pooled_features",
           "train_frozen_head", "video_folds"]

FEATURE_BATCH = 16

Baseline = Callable[[torch.Tensor], torch.Tensor]
"""The reference input of a model-input batch ``(B, 3, T, H, W)`` (same shape): the protocol's baseline."""


@dataclass(frozen=True)
class FeatureSet:
    """Pooled features ``(1 + views, N, C)`` (view 0: the clips themselves), labels ``(N,)``, videos ``(N,)`` and,
    when the recipe adds baselines, the pooled features of each clip's baseline ``(N, C)``."""

    features: np.ndarray
    labels: np.ndarray
    videos: np.ndarray
    baseline: np.ndarray | None = None

    def design(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The head's training rows for the clips selected by the boolean ``rows`` ``(N,)``: every view of them,
        then the baselines of the normal ones; ``(M, C)`` features and ``(M,)`` labels."""
        x = [self.features[:, rows].reshape(-1, self.features.shape[-1])]
        y = [np.tile(self.labels[rows], self.features.shape[0])]
        if self.baseline is not None:
            normal = rows & (self.labels == 0)
            x.append(self.baseline[normal])
            y.append(np.zeros(int(normal.sum()), dtype=int))
        return np.concatenate(x), np.concatenate(y)


@dataclass(frozen=True)
class FrozenHeadResult:
    """The trained network and what the recipe measured on the training videos."""

    net: I3D
    shift: float
    cv: dict[str, Any] | None
    feature_seconds: float


def pooled_features(net: I3D, frames: np.ndarray, views: int, seed: int) -> np.ndarray:
    """``(1 + views, N, C)`` globally pooled features of ``frames`` uint8 ``(N, T, H, W)``: view 0 the clips, views
    ``1..`` random crop-rescales drawn from one generator seeded with ``seed`` (view by view, clip order)."""
    generator = torch.Generator().manual_seed(seed)
    return np.stack([_pooled(net, frames, (lambda x: random_crop_rescale(x, generator)) if view else None)
                     for view in range(1 + views)])


def _pooled(net: I3D, frames: np.ndarray, transform: Baseline | None) -> np.ndarray:
    """``(N, C)`` pooled features of ``frames`` uint8 ``(N, T, H, W)``, each model-input batch passed through
    ``transform`` first (none: the clips as they are)."""
    feats = []
    with torch.inference_mode():
        for start in range(0, len(frames), FEATURE_BATCH):
            x = to_model_input(frames[start : start + FEATURE_BATCH])
            if transform is not None:
                x = transform(x)
            h = net.features(x.contiguous(memory_format=torch.channels_last_3d))
            feats.append(net.pool(h).flatten(1))
    return torch.cat(feats).double().numpy()


def video_folds(videos: Sequence[str], labels: Sequence[int], k: int) -> np.ndarray:
    """Fold of each clip ``(N,)``: the videos with an anomalous clip (sorted) are dealt to folds ``0..k-1`` in turn,
    then the normal-only videos, so that every fold holds anomalies when there are ``>= k`` such videos."""
    videos, labels = np.asarray(videos), np.asarray(labels)
    anomalous = sorted({v for v, y in zip(videos, labels) if y == 1})
    normal = sorted(set(videos.tolist()) - set(anomalous))
    assign = {v: i % k for i, v in enumerate(anomalous)} | {v: i % k for i, v in enumerate(normal)}
    return np.array([assign[v] for v in videos])


def _class_weights(y: np.ndarray) -> np.ndarray:
    w = np.ones(len(y))
    for c in (0, 1):
        w[y == c] *= len(y) / (2 * max(1, int((y == c).sum())))
    return w


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    """Logistic head on the rows ``x`` ``(M, C)`` with labels ``y`` ``(M,)``; ``(weight, bias)`` in raw feature
    space."""
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(x), y, sample_weight=_class_weights(y))
    coef = model.coef_[0] / scaler.scale_
    return coef, float(model.intercept_[0] - (coef * scaler.mean_).sum())


def balanced_threshold(logits: np.ndarray, y: np.ndarray) -> float:
    """The logit threshold maximising balanced accuracy of ``logits >= t`` (midpoint of the optimal interval)."""
    z = np.unique(logits)
    candidates = np.concatenate([[z[0] - 1], (z[1:] + z[:-1]) / 2, [z[-1] + 1]])
    pos, neg = logits[y == 1], logits[y == 0]
    ba = np.array([((pos >= t).mean() + (neg < t).mean()) / 2 for t in candidates])
    best = np.flatnonzero(ba >= ba.max() - 1e-12)
    return float((candidates[best[0]] + candidates[best[-1]]) / 2)


def _cv(fs: FeatureSet, folds: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Out-of-fold logits of the clips themselves ``(N,)``, of their baselines ``(N,)`` (``None`` without
    baseline features), and the CV figures."""
    z = np.zeros(len(fs.labels))
    z_baseline = None if fs.baseline is None else np.zeros(len(fs.labels))
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        coef, b = _fit(*fs.design(train), c)
        z[test] = fs.features[0, test] @ coef + b
        if z_baseline is not None:
            z_baseline[test] = fs.baseline[test] @ coef + b
    y = fs.labels
    p = 1 / (1 + np.exp(-z))
    per_fold = {int(k): float(roc_auc_score(y[folds == k], z[folds == k])) if len(np.unique(y[folds == k])) == 2
                else None for k in np.unique(folds)}
    figures = {"folds": int(len(np.unique(folds))), "roc_auc": float(roc_auc_score(y, z)),
               "accuracy_unshifted": accuracy(p, y), "per_fold_roc_auc": per_fold,
               "fold_videos": {int(k): sorted(set(fs.videos[folds == k].tolist())) for k in np.unique(folds)}}
    return z, z_baseline, figures


def train_frozen_head(frames: np.ndarray, labels: np.ndarray, videos: Sequence[str], *, profile: Profile,
                      pretrained: dict[str, torch.Tensor], seed: int,
                      baseline: Baseline | None = None) -> FrozenHeadResult:
    """Build the truncated pretrained network, train its head on ``frames`` uint8 ``(N, T, H, W)`` with ``labels``
    ``(N,)`` from ``videos`` ``(N,)``, cross-validate and calibrate (see the module docstring).

    ``baseline`` (the protocol's reference input) is required when ``profile.train.baseline_normals`` is set.
    """
    settings = profile.train
    if settings.baseline_normals and baseline is None:
        raise ValueError(f"profile '{profile.name}': train.baseline_normals needs the baseline function.")
    net = I3D(num_classes=2, width=profile.model_width, final_endpoint=profile.final_endpoint, pool=profile.pool,
              gray_stem=profile.gray_stem)
    init_from_pretrained(net, pretrained)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    started = time.perf_counter()
    fs = FeatureSet(pooled_features(net, frames, settings.views, seed), np.asarray(labels, dtype=int),
                    np.asarray(videos), _pooled(net, frames, baseline) if settings.baseline_normals else None)
    feature_seconds = time.perf_counter() - started
    cv, shift = None, 0.0
    if settings.cv_folds > 1:
        folds = video_folds(fs.videos, fs.labels, settings.cv_folds)
        z, z_baseline, cv = _cv(fs, folds, settings.head_c)
        if settings.calibration == "cv_balanced_accuracy":
            shift = balanced_threshold(z, fs.labels)
        p = 1 / (1 + np.exp(-(z - shift)))
        if z_baseline is not None:
            anomalous = fs.labels == 1
            p_baseline = 1 / (1 + np.exp(-(z_baseline[anomalous] - shift)))
            cv.update(baseline_p_anomalous_mean=float(p_baseline.mean()),
                      clip_p_anomalous_mean=float(p[anomalous].mean()),
                      baseline_below_clip_fraction=float((p_baseline < p[anomalous]).mean()))
        cv.update(shift_logit=shift, shift_p=float(1 / (1 + np.exp(-shift))), accuracy=accuracy(p, fs.labels),
                  balanced_accuracy=float(((p[fs.labels == 1] >= 0.5).mean() + (p[fs.labels == 0] < 0.5).mean()) / 2))
    coef, bias = _fit(*fs.design(np.ones(len(fs.labels), dtype=bool)), settings.head_c)
    with torch.no_grad():
        net.logits.weight.zero_()
        net.logits.bias.zero_()
        net.logits.weight[ANOMALOUS, :, 0, 0, 0] = torch.as_tensor(coef, dtype=torch.float32)
        net.logits.bias[ANOMALOUS] = float(bias - shift)
    return FrozenHeadResult(net, shift, cv, feature_seconds)
