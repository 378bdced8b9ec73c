"""The data and model card at the top of the index page, model-instance stability, and the training curve.

Reads three optional files, none of which the page needs in order to build:

* ``models/model_card.json`` (written by the ``train`` stage): architecture, initialisation, grid, recipe,
  training time, the held-out scores with clip- and video-level intervals, the cross-validated scores
  and how many evaluation clips the model detects. Missing: the card says "not available" and shows
  what the results' provenance records (data source, split, grid, the checkpoint's own held-out AUC).
* ``stability/<data.source>.json`` (a separate command): how much the ranking moves when the model is
  retrained with other seeds (Kendall's W per metric, mean pairwise tau, the spread of each
  submission's figures across model instances, and who was left out).
* ``models/train_metrics.json``: per-epoch lists (``train_loss``, ``lr``, ``epoch_time_s``) drawn as the
  training curve and written to ``data/training.csv``.

Every value is read defensively (a missing key prints as a dash); a file that is not valid JSON raises,
naming it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from benchmark.leaderboard import plots
from benchmark.leaderboard.formatting import MISSING, finite_or_none, fmt, fmt_seconds
from benchmark.results import SubmissionResult

EPOCH_KEYS: tuple[str, ...] = ("train_loss", "val_loss", "lr", "epoch_time_s")
"""Per-epoch lists of ``train_metrics.json`` that the training curve and ``training.csv`` carry."""


def read_json(path: Path | None) -> dict[str, Any] | None:
    """``path`` parsed (a mapping), or ``None`` when there is no such file.

    Raises:
        ValueError: naming the file, when it is not a JSON object.
    """
    if path is None or not Path(path).is_file():
        return None
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); re-run the stage that writes it.") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object; re-run the stage that writes it.")
    return data


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(k)
    return obj


def _score(value: Any) -> str:
    v = finite_or_none(value)
    return MISSING if v is None else f"{v:.3f}"


def _interval(pair: Any) -> str:
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        lo, hi = finite_or_none(pair[0]), finite_or_none(pair[1])
        if lo is not None and hi is not None:
            return f"[{lo:.3f}, {hi:.3f}]"
    return ""


def _with_ci(entry: Any) -> str:
    """``0.684 (clip 95% CI [0.55, 0.81]; by video [0.40, 0.93])`` from ``{value, clip_ci, video_ci}``
    (or ``{value, ci}``)."""
    if not isinstance(entry, Mapping):
        return _score(entry)
    parts = []
    for key, name in (("clip_ci", "clips"), ("video_ci", "videos"), ("ci", "")):
        text = _interval(entry.get(key))
        if text:
            parts.append(f"{name} {text}".strip() if name else text)
    value = _score(entry.get("value"))
    return f"{value} (95% CI {'; '.join(parts)})" if parts else value


@dataclass
class Card:
    """What the header says about the data and the model: ``rows`` of ``(label, text)``."""

    available: bool
    data_rows: list[tuple[str, str]] = field(default_factory=list)
    model_rows: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def _common(results: Sequence[SubmissionResult], key: str) -> Any:
    values = {json.dumps((r.summary.get("provenance") or {}).get(key), sort_keys=True) for r in results}
    if len(values) != 1:
        return None
    return json.loads(values.pop())


def build_card(card: Mapping[str, Any] | None, results: Sequence[SubmissionResult]) -> Card:
    """The header card from ``model_card.json`` (``card``) and, for the data, the results themselves."""
    ok = [r for r in results if r.ok]
    source = (card or {}).get("data_source") or _common(ok, "data_source")
    split = (card or {}).get("split_id") or _common(ok, "split_id")
    grid = (card or {}).get("grid") or _common(ok, "input")
    profile = (card or {}).get("profile") or _common(ok, "profile")
    clips, videos, detected = set(), set(), None
    for r in ok:
        if r.per_clip is not None:
            clips |= set(r.per_clip["clip_id"])
            videos |= {f"{s}/{v}" for s, v in zip(r.per_clip["scene"], r.per_clip["video"])}
            if detected is None and "p_clip" in r.per_clip:
                p = r.per_clip["p_clip"].astype(float)
                detected = (int((p >= 0.5).sum()), len(p))
    data_rows = [
        ("Data", str(source) if source else MISSING),
        ("Evaluation clips", f"{len(clips)} clips from {len(videos)} videos" if clips else MISSING),
        ("Split", str(split) if split else MISSING),
        ("Grid (H \u00d7 W)", " \u00d7 ".join(str(x) for x in grid) if isinstance(grid, list) else MISSING),
        ("Profile", str(profile) if profile else MISSING),
    ]
    ev = (card or {}).get("evaluation_clips")
    if isinstance(ev, Mapping) and ev.get("n"):
        frac = finite_or_none(ev.get("fraction"))
        data_rows.append(("Model detects", f"{ev.get('detected')}/{ev.get('n')} evaluation clips "
                          f"({frac:.0%}) at p(anomalous) \u2265 0.5" if frac is not None else MISSING))
    elif detected is not None:
        data_rows.append(("Model detects", f"{detected[0]}/{detected[1]} evaluation clips at p(anomalous) \u2265 0.5"))
    if card is None:
        meta = _common(ok, "checkpoint_meta") or {}
        auc, acc = finite_or_none(meta.get("test_roc_auc")), finite_or_none(meta.get("test_accuracy"))
        rows = []
        if auc is not None or acc is not None:
            rows.append(("Held-out (from the checkpoint)",
                         f"ROC-AUC {_score(auc)}, accuracy {_score(acc)} (no interval recorded)"))
        return Card(False, data_rows, rows, note="Model card: not available (models/model_card.json was not found "
                    "when the page was built).")
    held = card.get("held_out") or {}
    cv = card.get("cross_validated")
    rows = [
        ("Architecture", str(card.get("architecture") or MISSING)),
        ("Initialisation", str(card.get("initialisation") or MISSING)),
        ("Clip length", str(card.get("clip_length") or MISSING)),
        ("Held-out clips", f"{held.get('n_clips', MISSING)} clips from {held.get('n_videos', MISSING)} videos"),
        ("Held-out ROC-AUC", _with_ci(held.get("roc_auc"))),
        ("Held-out accuracy", _with_ci(held.get("accuracy"))),
    ]
    if isinstance(cv, Mapping):
        rows.append(("Cross-validated ROC-AUC", f"{_with_ci(cv.get('roc_auc'))}, {cv.get('folds', MISSING)} folds"))
        rows.append(("Cross-validated accuracy", _with_ci(cv.get("accuracy"))))
        pb, px = finite_or_none(cv.get("baseline_p_anomalous_mean")), finite_or_none(cv.get("clip_p_anomalous_mean"))
        below = finite_or_none(cv.get("baseline_below_clip_fraction"))
        if pb is not None and px is not None and below is not None:
            rows.append(("Cross-validated p(baseline)", f"{pb:.3f} on the baselines of the anomalous training clips "
                         f"(the clips themselves: {px:.3f}); below the clip's own p on {below:.0%} of them"))
    else:
        rows.append(("Cross-validated", "not run"))
    recipe = card.get("recipe")
    if isinstance(recipe, Mapping) and recipe:
        rows.append(("Recipe", ", ".join(f"{k} {json.dumps(v)}" for k, v in sorted(recipe.items()))))
    rows.append(("Training", f"{fmt_seconds(card.get('training_time_s'))} on {card.get('threads', MISSING)} thread(s)"))
    return Card(True, data_rows, rows)


@dataclass
class Stability:
    """Model-instance stability as the index page prints it."""

    instances: str
    metrics: list[tuple[str, str, str]]
    spread: dict[str, dict[str, str]]
    left_out: list[str]


def build_stability(record: Mapping[str, Any] | None, labels: Mapping[str, str]) -> Stability | None:
    """The stability section from ``stability/<source>.json`` (``None`` when there is none).

    ``labels``: metric name -> its column label.
    """
    if record is None:
        return None
    inst = record.get("instances")
    instances = (f"{len(inst)} model instances (training seeds {', '.join(map(str, inst))})"
                 if isinstance(inst, list) else f"{inst} model instances")
    w = record.get("kendall_w") or {}
    tau = record.get("mean_pairwise_tau") or {}
    metrics = [(labels.get(m, m), _score(w.get(m)), _score(tau.get(m))) for m in sorted(set(w) | set(tau),
               key=lambda m: list(labels).index(m) if m in labels else len(labels))]
    spread = {}
    for sub, per in (record.get("spread") or {}).items():
        if isinstance(per, Mapping):
            spread[str(sub)] = {
                m: f"{fmt(s.get('mean'), 3)} \u00b1 {fmt(s.get('std'), 2)} "
                f"[{fmt(s.get('min'), 3)}, {fmt(s.get('max'), 3)}]"
                for m, s in per.items() if isinstance(s, Mapping)
            }
    left = record.get("left_out") or []
    if isinstance(left, Mapping):
        left = [f"{k}: {v}" for k, v in left.items()]
    left_out = [
        f"{e.get('name', '?')}: {e.get('why', e.get('reason', ''))}" if isinstance(e, Mapping) else str(e) for e in left
    ]
    return Stability(instances, metrics, spread, left_out)


def training_history(train_metrics: Mapping[str, Any] | None) -> list[dict[str, float]]:
    """One row per epoch: ``epoch`` (from 1) and every :data:`EPOCH_KEYS` list of that length."""
    if not train_metrics:
        return []
    lists = {k: train_metrics.get(k) for k in EPOCH_KEYS if isinstance(train_metrics.get(k), list)}
    if not lists:
        return []
    n = max(len(v) for v in lists.values())
    lists = {k: v for k, v in lists.items() if len(v) == n}
    rows = []
    for i in range(n):
        row: dict[str, float] = {"epoch": i + 1}
        for k, v in lists.items():
            x = finite_or_none(v[i])
            row[k] = x if x is not None else math.nan
        rows.append(row)
    return rows


def training_chart(history: Sequence[Mapping[str, float]]) -> Markup | None:
    """The training loss (and validation loss when recorded) against the epoch."""
    if not history or "train_loss" not in history[0]:
        return None
    xs = [r["epoch"] for r in history]
    series = [plots.Series("training loss", xs, [r["train_loss"] for r in history], plots.Style("#1b1f24"))]
    if "val_loss" in history[0]:
        series.append(plots.Series("validation loss", xs, [r["val_loss"] for r in history],
                                   plots.Style("#0072b2", "7 3", "square"), marker_every=1))
    return plots.line_chart(series, chart_id="training-curve", title="Training curve", x_label="epoch",
                            y_label="loss", description="The classifier's training loss per epoch.", width=420,
                            plot_height=150)
