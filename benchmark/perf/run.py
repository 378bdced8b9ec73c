"""One performance run: every selected baseline, its floors, Captum's defaults, scoring, the occlusion engines.

Each method is timed as the pipeline calls it, one clip per ``explain`` call (B = 1: per-clip latency);
the floor is measured after the methods, also at their per-clip sample counts (for the own-batch floor).
Methods whose samples per clip cannot fill the best batch are also timed on ``k`` clips in one call:
``batched_s_per_clip`` is a throughput figure, not what the pipeline reports.

Row fields (JSON): ``ours_s`` median seconds per clip; ``forward_samples``/``backward_samples`` per clip;
``floor_s``/``over_floor`` the best-batch floor and ours over it; ``own_floor_s``/``over_own_floor`` the
floor at the method's own batch ``min(samples, best batch)`` and ours over it; where one clip's samples are
below the best batch: ``clips_per_call`` (k), ``batched_call_s`` (median seconds of one call on k clips),
``batched_s_per_clip`` (that / k), ``batched_over_floor`` (that over ``floor_s``),
``batched_forward_samples``/``batched_backward_samples`` (counted in that call: k times the per-clip
counts) and ``batched_model_batch`` (the largest batch one model call saw in it).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmark.explain.batching import forward_batch_size, model_memory_format
from benchmark.explain.contract import load_submission
from benchmark.explain.engines.batched import occluded_probabilities
from benchmark.explain.engines.incremental import IncrementalOcclusion
from benchmark.explain.engines.stats import OcclusionStats
from benchmark.explain.engines.windows import occlusion_windows
from benchmark.explain.geometry import scale_window
from benchmark.explain.seeding import clip_generator
from benchmark.harness.metering import PassMeter
from benchmark.metrics import deletion_insertion, human_centric, make_baseline
from benchmark.model.i3d import ANOMALOUS, ProbabilityModel, build_model
from benchmark.perf.captum_defaults import CAPTUM_DEFAULTS
from benchmark.perf.floor import measure_floor
from benchmark.perf.scoring import plain_deletion_insertion, plain_human_centric
from benchmark.settings import PAPER_INPUT, Settings, load_params

CLIP_FRAMES = 20
EVAL_CLIPS = 40
PAPER_GEOMETRY_METHODS: tuple[str, ...] = (
    "integrated_gradients", "ig_smoothgrad", "gradient_shap", "guided_backprop", "occlusion_large",
    "grad_cam", "saliency",
)
NO_CAPTUM_METHODS: tuple[str, ...] = ("random", "rise", "extremal_perturbation")
"""The methods timed by default that have no Captum counterpart (the others are :data:`CAPTUM_DEFAULTS`)."""


@dataclass(frozen=True)
class PerfConfig:
    """What to measure.

    Attributes:
        profile: a ``params.yaml`` profile name (input size and model width).
        clips: clips each of our explainers runs on (after one warm-up call).
        captum_clips: clips each Captum-default run takes (it can be slow: 1 by default).
        methods: submission names (``None``: every method with a Captum counterpart, :data:`CAPTUM_DEFAULTS`,
            then ``random``, ``rise`` and ``extremal_perturbation``).
        paper_geometry: 158x237 and width 1 instead of the profile's (gradient methods, Grad-CAM, saliency and
            occlusion_large unless ``methods`` says otherwise).
        window_sample: windows timed for the plain vs incremental occlusion comparison.
        repeats: timed repeats of the floor per batch size.
        max_batch: the largest batch size the floor tries.
        params_file: ``params.yaml``.
        root: the repository root (``submissions/``, ``models/model.pt``).
        seed: seeds the synthetic clips.
        skip_captum: do not time Captum's defaults.
        engines_only: only the plain vs incremental occlusion comparison (no floor, no per-clip timing, no
            scoring): how ``occlusion_small`` is compared at the paper's geometry, where one whole clip takes
            tens of minutes on a CPU.
    """

    profile: str = "default"
    clips: int = 3
    captum_clips: int = 1
    methods: tuple[str, ...] | None = None
    paper_geometry: bool = False
    window_sample: int = 64
    repeats: int = 3
    max_batch: int = 64
    params_file: Path = Path("params.yaml")
    root: Path = Path(".")
    seed: int = 0
    skip_captum: bool = False
    engines_only: bool = False


@dataclass
class _Timed:
    times: list[float] = field(default_factory=list)
    forward: list[int] = field(default_factory=list)
    backward: list[int] = field(default_factory=list)


def _model(
    root: Path, width: float, input_hw: tuple[int, int], calibration: torch.Tensor | None = None
) -> tuple[nn.Module, str]:
    """The trained model when ``models/model.pt`` matches, else a random-init I3D of that width.

    A random-init I3D's BatchNorm statistics (mean 0, variance 1) leave its output almost constant
    (p = 0.5038 for every clip and occlusion at 158x237), which would make the engines' equality check
    empty; with ``calibration`` ``(N, 3, T, H, W)`` they are set from those clips (one train-mode pass,
    momentum 1), so that occluding a window moves p.
    """
    path = root / "models" / "model.pt"
    if path.is_file():
        from benchmark.model.checkpoint import load_checkpoint

        net, meta = load_checkpoint(path)
        if tuple(meta.get("input_size", ())) == tuple(input_hw) and float(meta.get("width", -1)) == width:
            return ProbabilityModel(net).eval(), str(path)
    net = build_model(width, seed=0)
    source = f"random-init I3D (width {width}, seed 0)"
    if calibration is not None:
        for module in net.modules():
            if isinstance(module, nn.BatchNorm3d):
                module.momentum = 1.0
        with torch.no_grad():
            net.train()(calibration)
        source += ", BatchNorm statistics from the benchmark clips"
    return ProbabilityModel(net).eval(), source


def _clips(n: int, input_hw: tuple[int, int], seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``n`` smooth random clips ``(n, 3, 20, H, W)`` in [-1, 1], their blurred baselines, and box masks."""
    generator = torch.Generator().manual_seed(seed)
    gray = torch.rand((n, 1, CLIP_FRAMES, *input_hw), generator=generator) * 2 - 1
    gray = nn.functional.avg_pool3d(gray, (1, 5, 5), stride=1, padding=(0, 2, 2)) * 3
    clips = gray.clamp(-1, 1).expand(-1, 3, -1, -1, -1).contiguous()
    baselines = make_baseline("blur", clips).contiguous()
    masks = np.zeros((n, CLIP_FRAMES, *input_hw), dtype=bool)
    h, w = input_hw
    masks[:, 5:15, h // 3 : 2 * h // 3, w // 3 : w // 2] = True
    return clips, baselines, masks


def _merged_params(submission, profile, config: PerfConfig) -> dict[str, Any]:
    """The submission's params as the profile runs them (the yaml's alone at the paper's geometry)."""
    overrides = None if config.paper_geometry else profile.submission_params.get(submission.name)
    return submission.merged_params(overrides)


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def run_benchmark(config: PerfConfig, *, log=print) -> dict[str, Any]:
    """Measure everything :class:`PerfConfig` asks for; returns the report as plain data."""
    params = load_params(config.params_file)
    settings = Settings.from_params({**params, "profile": config.profile})
    profile = settings.profile
    input_hw, width = (PAPER_INPUT, 1.0) if config.paper_geometry else (profile.input, profile.model_width)
    default_methods = PAPER_GEOMETRY_METHODS if config.paper_geometry else (*CAPTUM_DEFAULTS, *NO_CAPTUM_METHODS)
    methods = tuple(config.methods or default_methods)
    threads = torch.get_num_threads()
    clips, baselines, masks = _clips(config.clips, input_hw, config.seed)
    model, model_source = _model(config.root, width, input_hw, calibration=torch.cat([clips, baselines]))
    for p in model.parameters():
        p.requires_grad_(False)
    sample_shape = tuple(clips.shape[1:])
    log(f"perf: {config.profile} profile, input {input_hw}, width {width}, {threads} threads, {model_source}")
    header = {
        "profile": config.profile, "input": list(input_hw), "model_width": width, "model": model_source,
        "threads": threads, "clips": config.clips, "captum_clips": config.captum_clips,
        "paper_geometry": config.paper_geometry, "engines_only": config.engines_only,
    }
    if config.engines_only:
        return {**header, "rows": _engine_rows(model, clips, baselines, methods, profile, config, log)}

    measured = []
    for name in methods:
        submission = load_submission(config.root / "submissions" / name)
        merged = _merged_params(submission, profile, config)
        row, extra = _time_per_clip(name, submission, merged, model, clips, baselines, config)
        log(f"perf: {name:<22} {row['ours_s']:.3f} s/clip, {row['forward_samples']} fwd + "
            f"{row['backward_samples']} bwd samples")
        measured.append((submission, merged, row, extra))

    # One floor for the run, measured after the rows so that it is also timed at each method's samples per
    # clip (the own-batch floor needs the per-sample time at min(samples, best batch)).
    counts = sorted({n for _, _, r, _ in measured for n in (r["forward_samples"], r["backward_samples"]) if n > 0})
    floor = measure_floor(model, sample_shape, target=ANOMALOUS, repeats=config.repeats, max_batch=config.max_batch,
                          extra_batches=counts)
    log(f"perf: floor forward {floor.forward_s * 1e3:.1f} ms/sample (batch {floor.forward_batch}, "
        f"{floor.forward_layout}), backward {floor.backward_s * 1e3:.1f} ms/sample (batch {floor.backward_batch}, "
        f"{floor.backward_layout}); also timed at batch {counts}")

    rows = []
    for submission, merged, base, extra in measured:
        fwd, bwd, ours = base["forward_samples"], base["backward_samples"], base["ours_s"]
        row: dict[str, Any] = {**base, "floor_s": floor.floor(fwd, bwd)}
        row["over_floor"] = ours / row["floor_s"] if row["floor_s"] > 0 else float("nan")
        row["own_floor_s"] = floor.own_batch_floor(fwd, bwd)
        row["over_own_floor"] = ours / row["own_floor_s"] if row["own_floor_s"] > 0 else float("nan")
        row["projected_40_clips_s"] = ours * EVAL_CLIPS
        k = _clips_per_call(fwd, bwd, floor.forward_batch, floor.backward_batch)
        if k is not None:
            batched = _time_batched(base["method"], submission, merged, model, k, input_hw, config)
            batched["batched_over_floor"] = batched["batched_s_per_clip"] / row["floor_s"]
            if (batched["batched_forward_samples"], batched["batched_backward_samples"]) != (k * fwd, k * bwd):
                log(f"perf: warning: {base['method']} counted {batched['batched_forward_samples']} fwd + "
                    f"{batched['batched_backward_samples']} bwd samples on {k} clips, not {k} x ({fwd} + {bwd})")
            row.update(batched)
        row.update(extra)
        rows.append(row)
        log(_row_line(row))

    scoring = _scoring(model, clips, baselines, masks, settings)
    log(f"perf: deletion/insertion {scoring['deletion_insertion']['ours_s']:.3f} s vs plain "
        f"{scoring['deletion_insertion']['plain_s']:.3f} s; human-centric {scoring['human_centric']['ours_s']:.3f} s "
        f"vs plain {scoring['human_centric']['plain_s']:.3f} s per clip")
    scoring_per_clip = scoring["deletion_insertion"]["ours_s"] + scoring["human_centric"]["ours_s"]
    explain_total = sum(r["projected_40_clips_s"] for r in rows)
    return {
        **header,
        "floor": {
            "forward_ms_per_sample": floor.forward_s * 1e3, "backward_ms_per_sample": floor.backward_s * 1e3,
            "forward_batch": floor.forward_batch, "backward_batch": floor.backward_batch,
            "forward_layout": floor.forward_layout, "backward_layout": floor.backward_layout,
            "forward_ms_by_batch": {str(k): v * 1e3 for k, v in floor.forward_by_batch.items()},
            "train_ms_by_batch": {str(k): v * 1e3 for k, v in floor.train_by_batch.items()},
            "extra_batches": counts,
        },
        "rows": rows,
        "scoring": scoring,
        "projection": {
            "explain_40_clips_s": explain_total,
            "scoring_40_clips_s": scoring_per_clip * EVAL_CLIPS * len(rows),
            "total_s": explain_total + scoring_per_clip * EVAL_CLIPS * len(rows),
            "note": "explain + scoring of the measured methods over 40 clips (warm-ups, data, training and "
                    "the leaderboard not included)",
        },
    }


def _time_per_clip(name, submission, merged, model, clips, baselines, config: PerfConfig):
    """One method on ``clips`` ``(n, 3, T, H, W)`` one clip per call (B = 1), as the pipeline calls it.

    Returns ``(row, extra)``: the timing and sample counts (medians over the clips after a warm-up call
    on clip 0), and Captum's default and the occlusion engines where they apply.
    """
    counter = PassMeter(model.net)
    timed = _Timed()
    for i in [0, *range(config.clips)]:  # clip 0 twice: the first call is the warm-up
        counter.reset()
        generator = clip_generator(config.seed, name, f"clip{i}")
        t0 = time.perf_counter()
        submission.explain(model, clips[i : i + 1], target=ANOMALOUS, baselines=baselines[i : i + 1],
                           params=dict(merged), generator=generator)
        timed.times.append(time.perf_counter() - t0)
        timed.forward.append(counter.counts.forward)
        timed.backward.append(counter.counts.backward)
    counter.detach()
    ours = _median(timed.times[1:])
    row = {
        "method": name, "ours_s": ours, "ours_times_s": timed.times[1:],
        "forward_samples": int(_median(timed.forward[1:])), "backward_samples": int(_median(timed.backward[1:])),
    }
    extra: dict[str, Any] = {}
    if name in CAPTUM_DEFAULTS and not config.skip_captum:
        captum_times = []
        for i in range(min(config.captum_clips, config.clips)):
            generator = clip_generator(config.seed, name, f"clip{i}")
            t0 = time.perf_counter()
            CAPTUM_DEFAULTS[name](model, clips[i : i + 1], baselines[i : i + 1], merged, generator, ANOMALOUS)
            captum_times.append(time.perf_counter() - t0)
        extra["captum_default_s"] = _median(captum_times)
        extra["captum_over_ours"] = extra["captum_default_s"] / ours
    if name.startswith("occlusion"):
        extra["occlusion_engines"] = _occlusion_engines(model, clips[0], baselines[0], merged, config)
    return row, extra


def _clips_per_call(forward_samples: int, backward_samples: int, forward_batch: int, backward_batch: int) -> int | None:
    """``ceil(best batch / samples)`` when one clip's samples cannot fill the best batch, else ``None``.

    Gradient methods (backward samples > 0) against the best forward + backward batch, forward-only
    methods against the best forward batch; a method with no samples (``random``) gets ``None``.
    """
    samples, best = (backward_samples, backward_batch) if backward_samples > 0 else (forward_samples, forward_batch)
    if samples < 1 or samples >= best:
        return None
    return math.ceil(best / samples)


def _time_batched(name, submission, merged, model, k: int, input_hw, config: PerfConfig) -> dict[str, Any]:
    """One ``explain`` call on ``k`` clips ``(k, 3, T, H, W)`` at once: a throughput figure, not the pipeline's.

    The clips come from :func:`_clips` (seeded as the per-clip ones), every call gets clip 0's generator;
    one warm-up call, then the median of ``config.clips`` calls. ``batched_model_batch`` is the largest
    batch that went through the model wrapper in one call (0 if the explainer ran the layers itself).
    """
    clips, baselines, _ = _clips(k, input_hw, config.seed)
    counter = PassMeter(model.net)
    batches: list[int] = []

    def record(module: nn.Module, args: tuple[Any, ...]) -> None:
        if args and isinstance(args[0], torch.Tensor) and args[0].dim() > 0:
            batches.append(int(args[0].shape[0]))

    handle = model.net.logits.register_forward_pre_hook(record)
    times = []
    try:
        for _ in range(1 + config.clips):  # the first call is the warm-up
            counter.reset()
            batches.clear()
            generator = clip_generator(config.seed, name, "clip0")
            t0 = time.perf_counter()
            submission.explain(model, clips, target=ANOMALOUS, baselines=baselines, params=dict(merged),
                               generator=generator)
            times.append(time.perf_counter() - t0)
    finally:
        handle.remove()
        counter.detach()
    call = _median(times[1:])
    return {
        "clips_per_call": k, "batched_call_s": call, "batched_s_per_clip": call / k,
        "batched_forward_samples": counter.counts.forward, "batched_backward_samples": counter.counts.backward,
        "batched_model_batch": max(batches, default=0),
    }


def _row_line(row: dict[str, Any]) -> str:
    captum = batched = ""
    if "captum_default_s" in row:
        captum = f", Captum default {row['captum_default_s']:.2f} s ({row['captum_over_ours']:.1f}x)"
    if "clips_per_call" in row:
        batched = (f", batched {row['clips_per_call']} clips/call {row['batched_s_per_clip']:.3f} s/clip "
                   f"({row['batched_over_floor']:.2f}x floor, model batch {row['batched_model_batch']})")
    return (f"perf: {row['method']:<22} {row['ours_s']:.3f} s/clip, {row['forward_samples']} fwd + "
            f"{row['backward_samples']} bwd samples, floor {row['floor_s']:.3f} s ({row['over_floor']:.2f}x), "
            f"own-batch floor {row['own_floor_s']:.3f} s ({row['over_own_floor']:.2f}x){batched}{captum}")


def _engine_rows(model, clips, baselines, methods, profile, config: PerfConfig, log) -> list[dict[str, Any]]:
    """The engine comparison alone, for each occlusion method in ``methods``."""
    rows = []
    for name in methods:
        if not name.startswith("occlusion"):
            raise ValueError(f"perf: --engines-only compares occlusion engines; {name!r} is not an occlusion method.")
        submission = load_submission(config.root / "submissions" / name)
        merged = _merged_params(submission, profile, config)
        engines = _occlusion_engines(model, clips[0], baselines[0], merged, config)
        log(f"perf: {name:<22} {engines['windows']} windows ({engines['timed_windows']} timed): plain "
            f"{engines['plain_ms_per_window']:.1f} ms/window, incremental {engines['incremental_ms_per_window']:.1f}"
            f" ms/window ({engines['wall_ratio']:.2f}x wall, {engines['mac_ratio']:.2f}x fewer MACs)")
        rows.append({"method": name, "occlusion_engines": engines})
    return rows


def _occlusion_engines(model, clip, baseline, params, config: PerfConfig) -> dict[str, Any]:
    """Plain batched vs incremental occlusion on a sample of this geometry's windows of one clip."""
    _, _, height, width = clip.shape
    window = scale_window(params["window"], (height, width))
    stride = scale_window(params["stride"], (height, width))
    boxes = occlusion_windows(clip.shape[1:], window, stride)
    rng = np.random.default_rng(config.seed)
    idx = np.sort(rng.choice(len(boxes), min(config.window_sample, len(boxes)), replace=False))
    # as the occlusion submissions size them: the clean clip and the windows, no short last batch
    batch = forward_batch_size(clip.shape, 1 + len(idx), budget_bytes=float(params["memory_budget_gb"]) * 1024**3,
                               device=clip.device,
                               channels_last=model_memory_format(clip.unsqueeze(0)) == torch.channels_last_3d)
    engine = IncrementalOcclusion(model)
    timings: dict[str, list[float]] = {"plain": [], "incremental": []}
    for _ in range(2):
        t0 = time.perf_counter()
        p0, p = occluded_probabilities(model, clip, baseline, boxes[idx], target=ANOMALOUS, batch_size=batch)
        timings["plain"].append(time.perf_counter() - t0)
        engine.stats = OcclusionStats(engine="incremental")
        t0 = time.perf_counter()
        q0, q = engine.probabilities(clip, baseline, boxes, target=ANOMALOUS, batch_size=batch, indices=idx)
        timings["incremental"].append(time.perf_counter() - t0)
    stats = engine.stats
    full = stats.plain_macs / (1 + len(idx))
    plain_s, inc_s = min(timings["plain"]), min(timings["incremental"])
    return {
        "windows": len(boxes), "timed_windows": len(idx), "batch": batch, "stop": stats.stop,
        "full_pass_gmacs": full / 1e9,
        "incremental_gmacs_per_window": (stats.macs - full) / len(idx) / 1e9,
        "mac_ratio": (full * len(idx)) / (stats.macs - full),
        "plain_ms_per_window": plain_s / len(idx) * 1e3,
        "incremental_ms_per_window": inc_s / len(idx) * 1e3,
        "wall_ratio": plain_s / inc_s,
        "max_abs_difference": float(np.max(np.abs(p - q))),
        # the attributions are means of the drops p0 - p: their error relative to the largest drop
        "max_drop": float(np.max(np.abs(p0 - p))),
        "max_relative_difference": float(max(abs(p0 - q0), np.max(np.abs(p - q))) / max(np.max(np.abs(p0 - p)), 1e-30)),
    }


def _scoring(model, clips, baselines, masks, settings: Settings) -> dict[str, Any]:
    n_thr = settings.evaluate.n_thresholds
    batch = settings.evaluate.batch_size

    def forward(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(x)[:, ANOMALOUS]

    def forward_ours(x: torch.Tensor) -> torch.Tensor:  # as benchmark.evaluate.probability_forward runs it
        with torch.inference_mode():
            return model(x.contiguous(memory_format=model_memory_format(x)))[:, ANOMALOUS]

    # a dense random map: the worst case for deletion/insertion (no two thresholds share a selection)
    E = torch.from_numpy(np.random.default_rng(0).random(clips.shape[2:])).float()
    ours_di, plain_di, ours_hc, plain_hc = [], [], [], []
    for i in range(clips.shape[0]):
        with torch.inference_mode():
            p_x, p_b = float(forward(clips[i : i + 1])[0]), float(forward(baselines[i : i + 1])[0])
        t0 = time.perf_counter()
        di = deletion_insertion(forward_ours, clips[i], E, baselines[i], n_thr, batch_size=batch, p_clip=p_x,
                                p_baseline=p_b)
        ours_di.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain = plain_deletion_insertion(forward, clips[i], E.numpy(), baselines[i], n_thr)
        plain_di.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        hc = human_centric(E.numpy(), masks[i], n_thr)
        ours_hc.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain_h = plain_human_centric(E.numpy(), masks[i], n_thr)
        plain_hc.append(time.perf_counter() - t0)
    agree_di = abs(di["deletion"] - plain["deletion"]) + abs(di["insertion"] - plain["insertion"])
    # the scores are means of p(x) - p(perturbed): their error relative to the largest such change
    p_c = float(di["p_clip"])
    change = max(float(np.max(np.abs(np.asarray(di[k]) - p_c))) for k in ("deletion_curve", "insertion_curve"))
    agree_hc = max(abs(float(hc[k]) - plain_h[k]) for k in plain_h)
    return {
        "deletion_insertion": {"ours_s": _median(ours_di), "plain_s": _median(plain_di),
                               "speedup": _median(plain_di) / _median(ours_di),
                               "forward_samples": int(di["forward_samples"]), "max_abs_difference": agree_di,
                               "largest_change": change,
                               "max_relative_difference": agree_di / max(change, 1e-30)},
        "human_centric": {"ours_s": _median(ours_hc), "plain_s": _median(plain_hc),
                          "speedup": _median(plain_hc) / _median(ours_hc), "max_abs_difference": agree_hc},
    }
