"""How much the ranking depends on the model instance: the same submissions scored on several trained models.

Two clones that train the default checkpoint on two machines get different weights (float results depend on
the CPU kind), and so different scores. ``benchmark stability`` measures what that does to the board: it
trains one model per training seed (``train.seed`` replaced; everything else as ``params.yaml`` says), scores
the chosen submissions on each (one evaluation seed each; no sanity check) and reports, per metric,

* **Kendall's W** over the model instances (raters) ranking the submissions (items): 1 when every instance
  orders the submissions the same way;
* the **mean pairwise Kendall tau** between instances;
* each submission's mean, standard deviation (ddof 1), minimum and maximum of the metric across instances;

plus each instance's held-out ROC-AUC. It is a separate command, not a DVC stage: it costs one training and
one evaluation per instance. Each instance lives in ``<workdir>/seed<k>/`` (linked to the repository's
prepared data, split, pretrained weights and submissions), so an interrupted study resumes without retraining;
the report is written atomically to ``stability/<data.source>.json``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.atomic import atomic_write_json
from benchmark.harness.backends import Backend
from benchmark.harness.evaluate import evaluate_submission
from benchmark.harness.inputs import load_eval_set
from benchmark.layout import RepoLayout
from benchmark.metrics.spec import get_metric
from benchmark.metrics.statistics import kendall_w, mean_pairwise_tau
from benchmark.results import SCORE_COLUMNS, read_result
from benchmark.settings import Settings

__all__ = ["STABILITY_SCHEMA", "stability_study"]

STABILITY_SCHEMA = 1


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.resolve() == target.resolve():
            return
        raise FileExistsError(f"{link}: exists and is not a link to {target}; delete the study folder and re-run.")
    link.symlink_to(target.resolve(), target_is_directory=target.is_dir())


def _instance(settings: Settings, layout: RepoLayout, workdir: Path, seed: int) -> tuple[Settings, RepoLayout]:
    """The settings and layout of the model instance trained with ``seed`` (inputs linked, not copied)."""
    inst = RepoLayout(workdir / f"seed{seed}")
    for src, dst in ((layout.prepared, inst.prepared), (layout.splits, inst.splits),
                     (layout.pretrained, inst.pretrained), (layout.submissions, inst.submissions)):
        _link(src, dst)
    s = dataclasses.replace(settings, train=dataclasses.replace(settings.train, seed=seed),
                            evaluate=dataclasses.replace(settings.evaluate, seeds=1))
    return s, inst


def _trained(inst: RepoLayout, seed: int, split_id: str) -> bool:
    if not (inst.checkpoint.is_file() and inst.train_metrics.is_file()):
        return False
    meta = json.loads(inst.train_metrics.read_text()).get("meta", {})
    return meta.get("seed") == seed and meta.get("split_id") == split_id


def stability_study(settings: Settings, layout: RepoLayout, *, seeds: Sequence[int], names: Sequence[str],
                    workdir: Path, out: Path, backend: Backend | None = None,
                    left_out: Mapping[str, str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Train one model per seed, score ``names`` on each, write the agreement report to ``out`` and return it.

    Args:
        settings: the typed ``params.yaml`` (the profile and data the study is about).
        layout: the repository (its prepared data, split and pretrained weights must exist: ``dvc repro train``).
        seeds: training seeds, at least 2.
        names: submissions to score on every instance.
        workdir: where the instances live (``.cache/stability/<source>`` by default on the command line).
        out: the report (``stability/<data.source>.json``).
        backend: where the units run (default: ``BENCHMARK_BACKEND``).
        left_out: submissions left out of the study and why (recorded in the report).
    """
    from benchmark.data.split import load_split
    from benchmark.model.stages import train_stage

    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"stability: give at least 2 distinct training seeds, got {list(seeds)}.")
    split_id = load_split(layout.split(settings.data.source)).split_id
    started = time.perf_counter()
    instances, means, status = [], {}, {}
    for seed in seeds:
        s, inst = _instance(settings, layout, Path(workdir), seed)
        if not _trained(inst, seed, split_id):
            if progress:
                print(f"stability: training the model instance with seed {seed}", flush=True)
            train_stage(s, inst, progress=False)
        train_metrics = json.loads(inst.train_metrics.read_text())
        es = load_eval_set(s, inst)
        for name in names:
            if progress:
                print(f"stability: seed {seed}: scoring {name}", flush=True)
            result = read_result(evaluate_submission(name, s, inst, eval_set=es, progress=False, backend=backend))
            status[(seed, name)] = result.summary.get("status")
            if result.ok:
                means[(seed, name)] = {m: float(result.summary["metrics"][m]["mean"]) for m in SCORE_COLUMNS}
        instances.append({"seed": seed, "checkpoint": _shown(inst.checkpoint, layout.root),
                          "held_out_roc_auc": train_metrics.get("test_roc_auc"),
                          "held_out_accuracy": train_metrics.get("test_accuracy")})
    scored = [n for n in names if all((seed, n) in means for seed in seeds)]
    failed = {n: [seed for seed in seeds if status.get((seed, n)) != "ok"] for n in names if n not in scored}
    agreement, spread = {}, {n: {} for n in scored}
    for metric in SCORE_COLUMNS:
        matrix = np.array([[means[(seed, n)][metric] for n in scored] for seed in seeds])
        spec = get_metric(metric)
        if len(scored) >= 2:
            agreement[metric] = {"kendall_w": kendall_w(matrix), "mean_pairwise_tau": mean_pairwise_tau(matrix),
                                 "direction": spec.direction}
        for j, n in enumerate(scored):
            column = matrix[:, j]
            spread[n][metric] = {"mean": float(column.mean()), "std": float(column.std(ddof=1)),
                                 "min": float(column.min()), "max": float(column.max())}
    report = {
        "schema": STABILITY_SCHEMA,
        "data_source": settings.data.source,
        "profile": settings.profile.name,
        "split_id": split_id,
        "instances": instances,
        "submissions": scored,
        "failed": failed,
        "left_out": dict(left_out or {}),
        "evaluation_seeds": 1,
        "agreement": agreement,
        "kendall_w": {m: a["kendall_w"] for m, a in agreement.items()},
        "mean_pairwise_tau": {m: a["mean_pairwise_tau"] for m, a in agreement.items()},
        "spread": spread,
        "wall_s": time.perf_counter() - started,
    }
    atomic_write_json(Path(out), _finite(report))
    return report


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the repository ``root`` when it lies inside it (a committed report names no machine's
    folders), else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def _finite(obj: Any) -> Any:
    """JSON has no NaN: undefined agreement (every instance ties) becomes ``null``."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
