"""Training the I3D anomaly classifier: the paper's recipe, deterministic on CPU for a given seed.

Recipe (paper, Sec. IV-A; numbers from the profile's ``train`` settings): Adam (``lr``, ``weight_decay``),
``StepLR(lr_step, lr_gamma)`` stepped once per epoch, ``batch_size``, ``epochs``. The loss is the
cross-entropy of the 2-class head, which equals the paper's binary cross-entropy on ``p(anomalous)``.

Choices the paper leaves open, made here and recorded in the metrics:

* **Class balance: loss weights.** Each class is weighted by ``N / (2 * N_c)`` in the cross-entropy (the
  sampler stays a plain shuffle, so every clip is seen once per epoch).
* **Augmentation** (when ``augment``): a random crop, the same for every frame of a clip, of side
  ``s * (H, W)`` with ``s ~ U(0.8, 1)`` (aspect kept) at a uniform position, rescaled back to ``(H, W)``
  with bilinear interpolation. No horizontal flip (the paper does not use one).
* **Randomness**: one ``seed`` drives the initial weights, the shuffling and crops (a private
  ``torch.Generator``) and dropout (the global RNG, forked and restored around training, so callers'
  RNG state is untouched). On CPU two runs with the same seed and the same thread count give identical
  weights (oneDNN's reductions depend on the thread count); on CUDA, cuDNN kernels may differ in the last bits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import Tensor
from tqdm.auto import tqdm

from benchmark.settings import Profile

from .i3d import ANOMALOUS, I3D, build_model
from .quality import THRESHOLD
from .weights import init_from_pretrained

__all__ = ["train_model", "predict_proba", "random_crop_rescale", "CROP_SCALE"]

CROP_SCALE: tuple[float, float] = (0.8, 1.0)
"""Range of the crop side as a fraction of the frame side (the augmentation's random crop)."""

ClipSet = tuple[Any, Any]
"""``(frames, labels)``: frames uint8 (N, T, H, W) (numpy or torch), labels int (N,) in {0, 1}."""


def _as_clip_tensors(clips: ClipSet, name: str, input_size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    if not isinstance(clips, (tuple, list)) or len(clips) != 2:
        raise ValueError(f"train_model: `{name}` must be a (frames, labels) pair.")
    frames = torch.as_tensor(np.asarray(clips[0]))
    labels = torch.as_tensor(np.asarray(clips[1])).long()
    if frames.dtype != torch.uint8 or frames.dim() != 4:
        raise ValueError(
            f"train_model: `{name}` frames must be uint8 of shape (N, T, H, W), got {frames.dtype} "
            f"{tuple(frames.shape)}."
        )
    if labels.dim() != 1 or labels.shape[0] != frames.shape[0]:
        raise ValueError(
            f"train_model: `{name}` labels must have shape ({frames.shape[0]},), got {tuple(labels.shape)}."
        )
    if frames.shape[0] and not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError(f"train_model: `{name}` labels must be 0 (normal) or 1 (anomalous).")
    if tuple(frames.shape[2:]) != tuple(input_size):
        raise ValueError(
            f"train_model: `{name}` frames are {tuple(frames.shape[2:])} but the profile's input is "
            f"{tuple(input_size)}; prepare the data at the profile's grid (re-run the clips stage)."
        )
    return frames, labels


def _batch_slices(n: int, batch_size: int) -> list[slice]:
    """Consecutive batches covering ``0..n``; a final batch of one clip joins the previous batch (batch norm
    cannot normalise a single sample whose feature map has shrunk to 1x1x1)."""
    bounds = list(range(0, n, batch_size)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _default_transform() -> Callable[[np.ndarray], Tensor]:
    from benchmark.data.transforms import to_model_input

    def transform(frames: np.ndarray) -> Tensor:
        return torch.as_tensor(to_model_input(frames), dtype=torch.float32)

    return transform


def random_crop_rescale(
    x: Tensor, generator: torch.Generator, scale: tuple[float, float] = CROP_SCALE
) -> Tensor:
    """Per clip, crop a random ``s * (H, W)`` window (the same for all frames) and resize it back.

    Args:
        x: clips (B, C, T, H, W), float.
        generator: CPU generator for the crop sizes and positions.
        scale: range of the side fraction ``s``.

    Returns:
        Tensor of the same shape, dtype and device as ``x``.
    """
    b, _, t, h, w = x.shape
    lo, hi = scale
    s = lo + (hi - lo) * torch.rand(b, generator=generator)
    u = torch.rand(b, 2, generator=generator)
    out = torch.empty_like(x)
    for i in range(b):
        ch, cw = max(1, round(h * float(s[i]))), max(1, round(w * float(s[i])))
        y0, x0 = int(u[i, 0] * (h - ch + 1)), int(u[i, 1] * (w - cw + 1))
        crop = x[i : i + 1, :, :, y0 : y0 + ch, x0 : x0 + cw]
        if (ch, cw) == (h, w):
            out[i : i + 1] = crop
        else:
            out[i : i + 1] = F.interpolate(crop, size=(t, h, w), mode="trilinear", align_corners=False)
    return out


@torch.no_grad()
def predict_proba(
    net: I3D,
    frames: Tensor | np.ndarray,
    *,
    transform: Callable[[np.ndarray], Tensor] | None = None,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """``p(anomalous)`` for every clip: frames uint8 (N, T, H, W) -> float64 (N,). Runs ``net`` in eval mode."""
    transform = transform or _default_transform()
    frames = torch.as_tensor(np.asarray(frames))
    was_training = net.training
    net.eval()
    out = []
    for start in range(0, frames.shape[0], batch_size):
        x = transform(frames[start : start + batch_size].numpy()).to(device)
        out.append(torch.softmax(net(x), dim=1)[:, ANOMALOUS].double().cpu())
    net.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0)


def train_model(
    train: ClipSet,
    test: ClipSet,
    *,
    profile: Profile,
    seed: int,
    device: str | torch.device | None = None,
    pretrained: Mapping[str, Tensor] | None = None,
    transform: Callable[[np.ndarray], Tensor] | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, I3D, float], None] | None = None,
) -> tuple[I3D, dict[str, Any]]:
    """Train a fresh (or pretrained-initialised) I3D on ``train`` and score it on ``test``.

    Args:
        train: ``(frames uint8 (N, T, H, W), labels (N,))``, both classes present; ``(H, W)`` must equal
            ``profile.input``.
        test: the same for the held-out clips (may be empty).
        profile: model width, input size and the ``train`` settings.
        seed: the only source of randomness (init, shuffling, crops, dropout).
        device: ``None`` picks ``cuda`` when available, else ``cpu``.
        pretrained: a state dict for :func:`~.weights.init_from_pretrained` (width 1.0 only).
        transform: uint8 (N, T, H, W) -> float (N, 3, T, H, W) in ``[-1, 1]``; defaults to
            :func:`benchmark.data.transforms.to_model_input`.
        progress: show a tqdm bar per epoch.
        on_epoch_end: called as ``on_epoch_end(epoch, net, mean_loss)`` after each epoch (1-based), e.g.
            for logging; ``net`` is in train mode and must be left so. It must not draw from the global RNG
            (e.g. use :func:`predict_proba`, which runs in eval mode) or determinism is lost.

    Returns:
        ``(net, metrics)``: the trained network in eval mode (on ``device``) and a JSON-ready dict with
        ``test_accuracy`` (threshold 0.5), ``test_roc_auc`` (``None`` if the test set has one class),
        ``train_loss`` per epoch, ``wall_time_s``, ``device``, the seeds and the settings used.
    """
    settings = profile.train
    if settings.epochs < 1 or settings.batch_size < 1:
        raise ValueError(f"train_model: epochs and batch_size must be >= 1 (profile {profile.name}).")
    x_train, y_train = _as_clip_tensors(train, "train", profile.input)
    x_test, y_test = _as_clip_tensors(test, "test", profile.input)
    counts = torch.bincount(y_train, minlength=2)
    if int(counts.min()) == 0:
        raise ValueError(
            f"train_model: the training set needs both classes, got {counts.tolist()} (normal, anomalous). "
            "Check the split file."
        )
    transform = transform or _default_transform()
    dev = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    n = int(y_train.shape[0])
    class_weights = (n / (2.0 * counts.double())).float()

    fork_devices = [dev.index or 0] if dev.type == "cuda" else []
    started = time.perf_counter()
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)  # dropout draws from the global RNG; restored when the block ends
        generator = torch.Generator().manual_seed(seed)
        net = build_model(profile.model_width, num_classes=2, seed=seed, final_endpoint=profile.final_endpoint,
                          pool=profile.pool, gray_stem=profile.gray_stem)
        if pretrained is not None:
            init_from_pretrained(net, pretrained)
        net.to(dev)
        optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=settings.lr_step, gamma=settings.lr_gamma)
        loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights.to(dev))
        epoch_loss: list[float] = []
        epoch_lr: list[float] = []
        epoch_time: list[float] = []
        batches = _batch_slices(n, settings.batch_size)
        for epoch in range(settings.epochs):
            net.train()
            t0 = time.perf_counter()
            order = torch.randperm(n, generator=generator)
            total, seen = 0.0, 0
            bar = tqdm(batches, desc=f"epoch {epoch + 1}/{settings.epochs}", disable=not progress,
                       leave=False, unit="batch")
            for sl in bar:
                idx = order[sl]
                x = transform(x_train[idx].numpy()).to(dev)
                if settings.augment:
                    x = random_crop_rescale(x, generator)
                y = y_train[idx].to(dev)
                loss = loss_fn(net(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * int(idx.numel())
                seen += int(idx.numel())
                bar.set_postfix(loss=f"{total / seen:.4f}")
            bar.close()
            epoch_lr.append(float(optimizer.param_groups[0]["lr"]))
            scheduler.step()
            epoch_loss.append(total / seen)
            epoch_time.append(time.perf_counter() - t0)
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, net, epoch_loss[-1])
            if progress:
                tqdm.write(f"epoch {epoch + 1}/{settings.epochs}: loss {epoch_loss[-1]:.4f} "
                           f"({epoch_time[-1]:.1f} s)")
        train_time = time.perf_counter() - started
        p_test = predict_proba(net, x_test, transform=transform, batch_size=max(settings.batch_size, 8), device=dev)
    net.eval()
    y = y_test.numpy()
    accuracy = float(((p_test >= THRESHOLD).astype(int) == y).mean()) if y.size else None
    auc = float(roc_auc_score(y, p_test)) if y.size and len(np.unique(y)) == 2 else None
    metrics: dict[str, Any] = {
        "test_accuracy": accuracy,
        "test_roc_auc": auc,
        "threshold": THRESHOLD,
        "train_loss": epoch_loss,
        "lr": epoch_lr,
        "epoch_time_s": epoch_time,
        "train_time_s": train_time,
        "wall_time_s": time.perf_counter() - started,
        "device": str(dev),
        "torch_threads": torch.get_num_threads(),
        "seeds": {"init": seed, "shuffle_and_crop": seed, "dropout": seed},
        "n_train": n,
        "n_train_per_class": counts.tolist(),
        "n_test": int(y.size),
        "n_test_per_class": np.bincount(y, minlength=2).tolist() if y.size else [0, 0],
        "class_balance": "loss_weights",
        "class_weights": class_weights.tolist(),
        "augment": {"enabled": settings.augment, "crop_scale": list(CROP_SCALE), "flip": False},
        "settings": {
            "epochs": settings.epochs, "batch_size": settings.batch_size, "lr": settings.lr,
            "weight_decay": settings.weight_decay, "lr_step": settings.lr_step, "lr_gamma": settings.lr_gamma,
        },
        "model_width": profile.model_width,
        "input_size": list(profile.input),
        "pretrained": pretrained is not None,
    }
    return net, metrics
