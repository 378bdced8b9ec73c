"""The model-parameter randomisation test (Adebayo et al., *Sanity Checks for Saliency Maps*, NeurIPS 2018).

An explanation of a model's output should depend on the model. The test re-initialises the trained
I3D's blocks one group at a time, **from the logits down** (a cascade: each step keeps the earlier
steps' randomisation), explains the same evaluation clips on every progressively randomised model
and measures how similar each map stays to the map on the trained model. A method whose maps barely
change when the weights that produce the prediction are destroyed is not explaining the model, and
fails the check.

Cascade (:data:`CASCADE`): the I3D's 13 parameterised blocks in reverse forward order, in 7 steps::

    1 logits       logits
    2 Mixed_5      Mixed_5c, Mixed_5b
    3 Mixed_4f-4e  Mixed_4f, Mixed_4e
    4 Mixed_4d-4b  Mixed_4d, Mixed_4c, Mixed_4b
    5 Mixed_3      Mixed_3c, Mixed_3b
    6 Conv3d_2     Conv3d_2c_3x3, Conv3d_2b_1x1
    7 Conv3d_1a    Conv3d_1a_7x7          (full randomisation: no trained weight is left)

Re-initialisation (:func:`randomize_blocks`): every ``Conv3d`` weight is drawn from
``N(0, gain^2 / fan_in)`` (He initialisation: ``gain = sqrt(2)`` for the convolutions followed by a
ReLU, ``1`` for the linear ``logits`` convolution, whose bias is set to 0); every ``BatchNorm3d`` is
reset to the identity (weight 1, bias 0, running mean 0, running variance 1). A variance-preserving
draw keeps the randomised network's activations, and so its gradients, at a usable scale (PyTorch's
default ``kaiming_uniform(a=sqrt(5))`` shrinks them about 6-fold per layer), so that a map changes
because the model changed, not because the output went flat. Block ``b`` is drawn from its own
``torch.Generator`` seeded with ``sha256("{sanity.seed}/{b}")``: a block gets the same random weights at
every step in which it is randomised, and two runs give identical models.

Similarity (per clip, against the map on the trained model):

* the maps compared are the protocol's scored map ``E = clip(sum_c A, 0)`` (the verdict's basis, because
  it is what the leaderboard scores) and, recorded beside it, ``|sum_c A|`` (Adebayo et al.'s absolute
  maps: a method whose sign flips under randomisation but whose magnitude keeps the input's edges shows
  up there);
* **Spearman** rank correlation of the flattened maps (:func:`scipy.stats.spearmanr`, ties by average
  ranks). When either map is constant the correlation is undefined: it is recorded as ``1`` if the two
  maps are identical (nothing changed) and ``0`` otherwise, and the comparison is flagged (``constant``);
  never NaN;
* **SSIM** (:func:`skimage.metrics.structural_similarity`, ``data_range=1``) of each frame of the maps,
  each map normalised to ``[0, 1]`` by its maximum over the clip (the protocol's normalisation; an
  all-zero map stays zero), averaged over the frames.

Both a submission's maps use the same per-clip generator at every step (the harness seeds it from
``(evaluate.seed, name, clip_id)``), so stochastic methods share their noise across the cascade and only
the model differs. The ``random`` control therefore returns *identical* noise on every model and fails
the check, as it should: its maps do not depend on the model at all.

Verdict (basis: ``E``), at full randomisation (the last step):

* ``pass``: the mean Spearman over the clips is below ``sanity.threshold``;
* ``fail``: it is not (the maps survive the destruction of the model);
* ``inconclusive``: the map on the trained model is constant for more than half the clips (there is
  nothing to compare).

The threshold ``0.5`` (``params.yaml: sanity.threshold``): a rank correlation of 0.5 means the two maps
still share a quarter of their rank variance after every weight is random; Adebayo et al. report
correlations near 0 for model-dependent gradients and well above 0.5 for Guided Backprop, whose maps
are driven by the input. The bound sits between those regimes.

The stage (``benchmark sanity NAME``, :func:`sanity_check`) runs the submission through the isolated
worker of :mod:`benchmark.runner`, once per step (the trained model and each randomised checkpoint,
written to a temporary folder with :func:`benchmark.model.checkpoint.save_checkpoint`), on the first
``sanity.clips`` evaluation clips, and writes ``sanity/<name>/sanity.json`` atomically (schema in
:func:`sanity_check`). A submission that fails on any model gives a ``failed`` record, never an exception.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from scipy import stats
from skimage.metrics import structural_similarity
from torch import nn

from benchmark.config import ConfigError, active_profile, get
from benchmark.metrics.statistics import bootstrap_ci
from benchmark.results import atomic_dir, write_json

if TYPE_CHECKING:
    from benchmark.evaluate import EvalSet, Paths

__all__ = [
    "CASCADE",
    "MAP_BASES",
    "SANITY_DIR",
    "SANITY_FILE",
    "SANITY_SCHEMA",
    "VERDICTS",
    "SanitySettings",
    "Similarity",
    "block_seed",
    "cascade_networks",
    "compare_maps",
    "frame_ssim",
    "load_sanity",
    "randomize_blocks",
    "read_sanity",
    "sanity_check",
    "sanity_settings",
    "spearman",
    "verdict",
]

SANITY_DIR = Path("sanity")
SANITY_FILE = "sanity.json"
SANITY_SCHEMA = 1
VERDICTS: tuple[str, ...] = ("pass", "fail", "inconclusive")
MAP_BASES: Mapping[str, str] = {
    "scored": "E = clip(sum_c A, 0)",
    "absolute": "|sum_c A|",
}
"""The maps compared: ``scored`` (the verdict's basis) and ``absolute``."""

CASCADE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("logits", ("logits",)),
    ("Mixed_5", ("Mixed_5c", "Mixed_5b")),
    ("Mixed_4f-4e", ("Mixed_4f", "Mixed_4e")),
    ("Mixed_4d-4b", ("Mixed_4d", "Mixed_4c", "Mixed_4b")),
    ("Mixed_3", ("Mixed_3c", "Mixed_3b")),
    ("Conv3d_2", ("Conv3d_2c_3x3", "Conv3d_2b_1x1")),
    ("Conv3d_1a", ("Conv3d_1a_7x7",)),
)
"""``(step label, I3D blocks re-initialised at that step)``, from the logits down; cumulative."""

_LINEAR_BLOCKS = frozenset({"logits"})
"""Blocks whose convolution is not followed by a ReLU (He gain 1 instead of sqrt(2))."""


# --------------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class SanitySettings:
    """``params.yaml: sanity`` for the active profile.

    Attributes:
        clips: how many evaluation clips (the first ones of the split) the check explains.
        threshold: the verdict's bound on the mean Spearman at full randomisation.
        seed: the re-initialisation seed.
    """

    clips: int
    threshold: float
    seed: int


def sanity_settings(params: Mapping[str, Any]) -> SanitySettings:
    """Read ``sanity.clips`` (an int, or ``{profile: int}``), ``sanity.threshold`` and ``sanity.seed``.

    Raises:
        ConfigError: a key is missing or malformed (the message names it and the fix).
    """
    profile = active_profile(params).name
    raw_clips = get(params, "sanity.clips")
    if isinstance(raw_clips, Mapping):
        if profile not in raw_clips:
            raise ConfigError(
                f"params.yaml: sanity.clips has no entry for profile '{profile}'; add `{profile}: N` "
                "(or give one integer for every profile)."
            )
        raw_clips = raw_clips[profile]
    threshold = get(params, "sanity.threshold")
    seed = get(params, "sanity.seed")
    if isinstance(raw_clips, bool) or not isinstance(raw_clips, int) or raw_clips < 1:
        raise ConfigError(f"params.yaml: sanity.clips must be a positive integer, got {raw_clips!r}.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1.0 < threshold <= 1.0:
        raise ConfigError(f"params.yaml: sanity.threshold must be a number in (-1, 1], got {threshold!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"params.yaml: sanity.seed must be an integer, got {seed!r}.")
    return SanitySettings(clips=int(raw_clips), threshold=float(threshold), seed=int(seed))


# --------------------------------------------------------------------------------------------------
# The cascade


def block_seed(seed: int, block: str) -> int:
    """The 63-bit seed of ``block``'s re-initialisation: ``sha256("{seed}/{block}")``."""
    digest = hashlib.sha256(f"{int(seed)}/{block}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def _reinit_module(module: nn.Module, generator: torch.Generator, gain: float) -> None:
    if isinstance(module, nn.Conv3d):
        fan_in = module.weight[0].numel()
        std = gain / math.sqrt(fan_in)
        draw = torch.randn(module.weight.shape, generator=generator, dtype=torch.float32)
        module.weight.copy_(draw.to(module.weight) * std)
        if module.bias is not None:
            module.bias.zero_()
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.reset_parameters()  # weight 1, bias 0, running mean 0, running variance 1
    elif any(True for _ in module.parameters(recurse=False)):
        raise TypeError(f"randomize_blocks: no re-initialisation rule for {type(module).__name__}.")


def randomize_blocks(net: nn.Module, blocks: Sequence[str], *, seed: int) -> nn.Module:
    """Re-initialise the named top-level ``blocks`` of ``net`` in place (see the module docstring).

    Args:
        net: an :class:`benchmark.model.i3d.I3D` (or any module with those children).
        blocks: names of ``net``'s direct children, e.g. ``("Mixed_5c", "Mixed_5b")``.
        seed: the sanity seed; block ``b`` draws from :func:`block_seed` ``(seed, b)`` only.

    Returns:
        ``net`` (for chaining).

    Raises:
        ValueError: a name is not a child of ``net``.
    """
    children = dict(net.named_children())
    unknown = [b for b in blocks if b not in children]
    if unknown:
        raise ValueError(
            f"randomize_blocks: {unknown} are not blocks of the network; known: {sorted(children)}."
        )
    with torch.no_grad():
        for block in blocks:
            gen = torch.Generator().manual_seed(block_seed(seed, block))
            gain = 1.0 if block in _LINEAR_BLOCKS else math.sqrt(2.0)
            for module in children[block].modules():
                _reinit_module(module, gen, gain)
    return net


def cascade_networks(net: nn.Module, *, seed: int) -> Iterator[tuple[int, str, nn.Module]]:
    """The progressively randomised copies of ``net``: ``(step, label, network)`` for steps ``1..K``.

    Step ``k`` has the blocks of :data:`CASCADE` ``[0..k-1]`` re-initialised; ``net`` is not modified.
    One copy is kept and advanced, so memory holds two networks at most.
    """
    current = copy.deepcopy(net).eval()
    for step, (label, blocks) in enumerate(CASCADE, start=1):
        randomize_blocks(current, blocks, seed=seed)
        yield step, label, current


# --------------------------------------------------------------------------------------------------
# Similarity of two maps


@dataclass(frozen=True)
class Similarity:
    """How similar a map stayed: ``spearman`` in ``[-1, 1]``, ``ssim`` in ``[-1, 1]``; ``constant`` when
    either map is constant (the correlation is then 1 for identical maps, else 0)."""

    spearman: float
    ssim: float
    constant: bool


def _as_map(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(
        values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values, dtype=np.float64
    )
    if arr.ndim != 3 or arr.size == 0:
        raise ValueError(f"{name}: expected a map of shape (T, H, W), got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name}: holds NaN or inf; an explainer's output is validated before it is compared."
        )
    return arr


def spearman(a: Any, b: Any) -> tuple[float, bool]:
    """Spearman rank correlation of two maps of equal shape, flattened (ties: average ranks).

    Returns:
        ``(rho, constant)``: ``constant`` is True when either map is constant; ``rho`` is then 1 when
        the maps are identical and 0 otherwise. Never NaN.
    """
    a, b = _as_map(a, "a"), _as_map(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"spearman: maps of different shapes {a.shape} and {b.shape}.")
    fa, fb = a.ravel(), b.ravel()
    if fa.min() == fa.max() or fb.min() == fb.max():
        return (1.0 if np.array_equal(fa, fb) else 0.0), True
    rho = float(stats.spearmanr(fa, fb).statistic)
    return rho, False


def _unit(E: np.ndarray) -> np.ndarray:
    top = float(E.max())
    return E / top if top > 0 else np.zeros_like(E)


def frame_ssim(a: Any, b: Any) -> float:
    """Mean over frames of the SSIM of two non-negative maps ``(T, H, W)``, each normalised to ``[0, 1]``
    by its maximum over the clip (``data_range=1``; the window shrinks to the largest odd size <= 7
    that fits a small frame)."""
    a, b = _as_map(a, "a"), _as_map(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"frame_ssim: maps of different shapes {a.shape} and {b.shape}.")
    if (a < 0).any() or (b < 0).any():
        raise ValueError("frame_ssim: maps must be non-negative (pass E or |sum_c A|).")
    side = min(7, a.shape[1], a.shape[2])
    win = side if side % 2 else side - 1
    if win < 3:
        raise ValueError(f"frame_ssim: frames of {a.shape[1:]} are too small for SSIM (at least 3 x 3).")
    ua, ub = _unit(a), _unit(b)
    return float(
        np.mean(
            [structural_similarity(ua[t], ub[t], data_range=1.0, win_size=win) for t in range(a.shape[0])]
        )
    )


def compare_maps(reference: Any, other: Any) -> dict[str, Similarity]:
    """Similarity of two channel-summed attributions ``(T, H, W)`` on both bases of :data:`MAP_BASES`."""
    ref, oth = _as_map(reference, "reference"), _as_map(other, "other")
    out = {}
    for basis, fn in (("scored", lambda m: np.maximum(m, 0.0)), ("absolute", np.abs)):
        ra, ob = fn(ref), fn(oth)
        rho, constant = spearman(ra, ob)
        out[basis] = Similarity(rho, frame_ssim(ra, ob), constant)
    return out


def verdict(spearman_at_full: Sequence[float], reference_constant: Sequence[bool], threshold: float) -> str:
    """``pass`` | ``fail`` | ``inconclusive`` from the per-clip Spearman at full randomisation.

    ``inconclusive`` when more than half of ``reference_constant`` (the trained model's map is constant)
    is True; else ``pass`` when the mean is strictly below ``threshold``, ``fail`` otherwise.
    """
    values = np.asarray(spearman_at_full, dtype=float)
    if values.size == 0:
        raise ValueError("verdict: no clips.")
    if 2 * int(np.sum(reference_constant)) > values.size:
        return "inconclusive"
    return "pass" if float(values.mean()) < threshold else "fail"


# --------------------------------------------------------------------------------------------------
# The stage


def _interval(values: Sequence[float], resamples: int, seed: int) -> dict[str, float]:
    ci = bootstrap_ci(np.asarray(values, dtype=float), n_resamples=resamples, seed=seed)
    return {"mean": float(ci.mean), "ci_low": float(ci.low), "ci_high": float(ci.high)}


def _meta(name: str, submission: Any, merged: Mapping[str, Any] | None) -> dict[str, Any]:
    if submission is None:
        return {"submission": name, "display_name": name, "params": {}}
    return {"submission": name, "display_name": submission.meta.display_name, "params": dict(merged or {})}


def _write(final: Path, record: Mapping[str, Any]) -> Path:
    with atomic_dir(final) as tmp:
        write_json(tmp / SANITY_FILE, dict(record))
    return final


def sanity_check(
    name: str,
    params: Mapping[str, Any],
    paths: Paths | None = None,
    *,
    eval_set: EvalSet | None = None,
    out_root: Path | None = None,
    progress: bool = True,
) -> Path:
    """Run the randomisation test on submission ``name``; returns ``sanity/<name>``.

    Args:
        name: a folder of ``paths.submissions``.
        params: ``params.yaml`` (``sanity.*``, ``evaluate.*``, the profile).
        paths: a :class:`benchmark.evaluate.Paths` (default: the repository root ``.``).
        eval_set: the loaded :class:`benchmark.evaluate.EvalSet` (loaded from ``paths`` when omitted);
            only its first ``sanity.clips`` clips are used.
        out_root: where ``<name>/sanity.json`` goes (default ``paths.root / "sanity"``).
        progress: print one line per cascade step.

    ``sanity.json``: ``schema``, ``submission``, ``display_name``, ``params``, ``status`` (``ok`` |
    ``failed``), ``failure`` (``None`` or ``{clip_id, kind, message, traceback, step, label}``),
    ``verdict`` (``pass`` | ``fail`` | ``inconclusive``; ``None`` when failed), ``basis`` (``scored``),
    ``threshold``, ``full`` (``{spearman, ssim}`` intervals at the last step, basis ``scored``),
    ``steps`` (one per cascade step: ``step``, ``label``, ``blocks`` re-initialised at it,
    ``randomized`` (every block random so far), and per basis ``scored``/``absolute`` the ``spearman``
    and ``ssim`` intervals ``{mean, ci_low, ci_high}``, ``constant`` (flagged comparisons) and
    ``per_clip`` ``{spearman: [...], ssim: [...]}``), ``reference_constant`` (clips whose trained-model
    map is constant), ``settings`` (clips, clip ids, seed, threshold, cascade, re-initialisation,
    bootstrap), ``provenance`` and ``stage_wall_s`` (ok records).

    Raises:
        FileNotFoundError / ValueError: the benchmark's own inputs (submission folder, checkpoint,
            data, ``params.yaml: sanity``) are missing or inconsistent. Nothing the submission does raises.
    """
    from benchmark.evaluate import TARGET, Paths, prepare_run, run_context, sandbox_provenance
    from benchmark.explain.contract import SubmissionError, load_submission
    from benchmark.model.checkpoint import save_checkpoint
    from benchmark.runner import Failure, RunSpec, run_submissions

    paths = paths or Paths()
    settings = sanity_settings(params)
    run = prepare_run(name, params, paths, eval_set)
    profile, folder, threads, device = run.profile, run.folder, run.threads, run.device
    net, ckpt_meta, es = run.net, run.ckpt_meta, run.eval_set
    final = Path(out_root if out_root is not None else paths.root / SANITY_DIR) / name
    n = min(settings.clips, len(es.clip_ids))
    clip_ids = tuple(es.clip_ids[:n])
    resamples = int(get(params, "evaluate.bootstrap.resamples"))
    bseed = int(get(params, "evaluate.bootstrap.seed"))
    record: dict[str, Any] = {
        "schema": SANITY_SCHEMA,
        **_meta(name, None, None),
        "status": "failed",
        "failure": None,
        "verdict": None,
        "basis": "scored",
        "threshold": settings.threshold,
        "full": None,
        "steps": [],
        "reference_constant": [],
        "settings": {
            "clips": n,
            "clip_ids": list(clip_ids),
            "seed": settings.seed,
            "threshold": settings.threshold,
            "cascade": [
                {"step": i, "label": lab, "blocks": list(b)} for i, (lab, b) in enumerate(CASCADE, 1)
            ],
            "reinit": "Conv3d weights ~ N(0, gain^2 / fan_in), gain sqrt(2) (1 for logits), logits bias 0; "
            "BatchNorm3d reset to the identity; block b seeded with sha256('{seed}/{b}')",
            "bases": dict(MAP_BASES),
            "bootstrap": {"resamples": resamples, "seed": bseed},
            "spearman": "scipy.stats.spearmanr on the flattened map, ties by average ranks; a constant map "
            "gives 1 if both maps are identical, else 0 (flagged)",
            "ssim": "skimage structural_similarity per frame, maps normalised by their clip maximum, "
            "data_range 1, mean over frames",
        },
        "provenance": run_context(params, paths, run),
    }

    try:
        submission = load_submission(folder)
        merged = submission.merged_params(
            profile.submission_params.get(name),
            source=f"params.yaml: profiles.{profile.name}.submission_params.{name}",
        )
    except SubmissionError as exc:
        record["failure"] = {
            **Failure(None, "invalid_submission", str(exc)).as_dict(),
            "step": None,
            "label": None,
        }
        return _write(final, record)
    record.update(_meta(name, submission, merged))

    started = time.perf_counter()
    sims: list[list[dict[str, Similarity]]] = []
    with tempfile.TemporaryDirectory(prefix=f"sanity-{name}-") as tmp:
        tmpdir = Path(tmp)
        np.save(tmpdir / "clips.npy", es.clips[:n].numpy())
        np.save(tmpdir / "baselines.npy", es.baselines[:n].numpy())
        cap = float(get(params, "evaluate.memory_cap_gb"))
        budget = float(get(params, "evaluate.clip_time_budget_s"))
        meta = {k: v for k, v in ckpt_meta.items() if k != "weights_sha256"}

        def spec(step: int, checkpoint: Path) -> RunSpec:
            out = tmpdir / f"run{step}"  # each run writes only into its own scratch folder
            out.mkdir()
            return RunSpec(
                submission_dir=str(folder.resolve()),
                checkpoint=str(checkpoint.resolve()),
                clips_file=str(tmpdir / "clips.npy"),
                baselines_file=str(tmpdir / "baselines.npy"),
                clip_ids=clip_ids,
                params=dict(merged),
                seed=int(get(params, "evaluate.seed")),
                target=TARGET,
                threads=threads,
                device=device,
                memory_cap_bytes=int(cap * 2**30) if cap > 0 else None,
                out_dir=str(out),
                warmup=False,
                sandbox=str(get(params, "evaluate.sandbox")),
            )

        # The trained model (step 0) and every cascade step are independent runs: write the randomised
        # checkpoints first, then explain on all of them, `evaluate.workers` at a time.
        steps: list[tuple[int, str, Path]] = [(0, "trained", paths.checkpoint)]
        for step, label, rnet in cascade_networks(net, seed=settings.seed):
            ckpt = tmpdir / f"step{step}.pt"
            save_checkpoint(ckpt, rnet, {**meta, "sanity_step": step, "sanity_seed": settings.seed})
            steps.append((step, label, ckpt))
        t0 = time.perf_counter()
        outcomes = run_submissions([spec(st, c) for st, _, c in steps], workers=run.workers, clip_time_budget_s=budget)
        record["provenance"]["sandbox"] = sandbox_provenance(outcomes[0].sandbox)
        maps_per_step = []
        for (step, label, _), outcome in zip(steps, outcomes):
            if progress:
                state = "ok" if outcome.failure is None else f"FAILED ({outcome.failure.kind})"
                print(f"[{name}] sanity step {step} ({label}): {len(outcome.runs)} clips, {state}", flush=True)
            if outcome.failure is not None:
                record["failure"] = {**outcome.failure.as_dict(), "step": step, "label": label}
                return _write(final, record)
            maps_per_step.append([r.attribution for r in outcome.runs])
        if progress:
            print(f"[{name}] sanity: {len(steps)} runs in {time.perf_counter() - t0:.1f} s "
                  f"({run.workers} worker(s))", flush=True)
        reference = maps_per_step[0]
        record["reference_constant"] = [bool(np.ptp(np.maximum(m, 0.0)) == 0) for m in reference]
        for maps in maps_per_step[1:]:
            sims.append([compare_maps(ref, m) for ref, m in zip(reference, maps)])

    randomized: list[str] = []
    for (step, (label, blocks)), per_clip in zip(enumerate(CASCADE, 1), sims):
        randomized += blocks
        entry: dict[str, Any] = {
            "step": step,
            "label": label,
            "blocks": list(blocks),
            "randomized": list(randomized),
        }
        for basis in MAP_BASES:
            rho = [c[basis].spearman for c in per_clip]
            ssim = [c[basis].ssim for c in per_clip]
            entry[basis] = {
                "spearman": _interval(rho, resamples, bseed),
                "ssim": _interval(ssim, resamples, bseed),
                "constant": int(sum(c[basis].constant for c in per_clip)),
                "per_clip": {"spearman": rho, "ssim": ssim},
            }
        record["steps"].append(entry)
    last = record["steps"][-1]["scored"]
    record.update(
        status="ok",
        verdict=verdict(last["per_clip"]["spearman"], record["reference_constant"], settings.threshold),
        full={"spearman": last["spearman"], "ssim": last["ssim"]},
        stage_wall_s=time.perf_counter() - started,
    )
    out = _write(final, record)
    if progress:
        print(
            f"[{name}] sanity: {record['verdict'].upper()} (Spearman at full randomisation "
            f"{last['spearman']['mean']:.3f}, threshold {settings.threshold:g}); wrote {out}",
            flush=True,
        )
    return out


# --------------------------------------------------------------------------------------------------
# Reading the records back (the leaderboard's side)


def read_sanity(folder: Path) -> dict[str, Any]:
    """Read ``folder/sanity.json`` (errors name the file and the fix)."""
    path = Path(folder) / SANITY_FILE
    if not path.is_file():
        raise ValueError(f"{path}: missing; run `benchmark sanity {Path(folder).name}`.")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON ({exc}); delete {folder} and re-run its sanity stage."
        ) from exc
    if not isinstance(record, dict) or record.get("schema") != SANITY_SCHEMA:
        got = record.get("schema") if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"{path}: schema {got!r}, expected {SANITY_SCHEMA}; re-run its sanity stage.")
    if record.get("status") == "ok":
        if (
            record.get("verdict") not in VERDICTS
            or not isinstance(record.get("steps"), list)
            or not record["steps"]
        ):
            raise ValueError(
                f"{path}: an ok record needs a verdict in {VERDICTS} and steps; re-run its sanity stage."
            )
    elif record.get("status") != "failed":
        raise ValueError(
            f"{path}: status {record.get('status')!r}, expected 'ok' or 'failed'; re-run its stage."
        )
    return record


def load_sanity(root: Path = SANITY_DIR, names: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """``{name: record}`` for every ``root/<name>/sanity.json`` (only ``names`` when given); a missing
    ``root`` or folder is simply absent (the page says "not run")."""
    root = Path(root)
    if not root.is_dir():
        return {}
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if names is not None and folder.name not in names:
            continue
        if (folder / SANITY_FILE).is_file():
            out[folder.name] = read_sanity(folder)
    return out
