"""Estimate the wall time of the paper profile's evaluate and sanity stages on N GPUs (prints figures).

No GPU was available to measure the paper profile, so the per-unit costs come from the only GPU figures there
are: the paper's Table II runtime per sample (``leaderboard/data/paper_tables.csv``, the authors' GPU). The
rest is this project's structure, read from the repository:

* ``evaluate``: for each baseline, ``profiles.paper.seeds`` seeds if its ``submission.yaml`` says
  ``stochastic: true`` (else 1); each seed's 40 clips cut into ``min(40, N)`` contiguous shards, one unit each;
  the driver then scores every (clip, seed) with deletion and insertion, ``2 * evaluate.n_thresholds`` forward
  samples at most, one after another (scoring never runs inside a submission's unit);
* ``sanity``: the trained model and each step of the randomisation cascade on ``sanity.clips.paper`` clips, one
  seed; each step cut into ``N // steps`` shards when the cluster is wider than the cascade;
* units run ``N`` at a time (one GPU each); DVC runs the stages one after another.

A forward sample's time is derived from Integrated Gradients' row (30 forward and 30 backward samples) with the
backward/forward cost ratio measured on this project's CPU floor (``guide/performance.md``); each unit pays a
fixed start cost (worker start, checkpoint load, calibration). Both are arguments.

Usage: ``python scripts/estimate_cluster_time.py [--gpus 1 8 40 160 320] [--bwd-over-fwd 1.87] [--unit-start 20]``
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
IG_SAMPLES = 30  # Integrated Gradients' steps in the paper: 30 forward and 30 backward samples per clip


def _stage_time(per_clip_s: float, groups: int, clips: int, gpus: int, shards: int, unit_start_s: float) -> float:
    """Wall time of ``groups`` x ``shards`` units (contiguous shards of ``clips``) run ``gpus`` at a time."""
    shards = max(1, min(clips, shards))
    size = math.ceil(clips / shards)
    return math.ceil(groups * shards / gpus) * (size * per_clip_s + unit_start_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 8, 40, 160, 320])
    parser.add_argument("--bwd-over-fwd", type=float, default=945.3 / 505.6,
                        help="backward/forward cost per sample (default: the CPU floor at 158x237)")
    parser.add_argument("--unit-start", type=float, default=20.0, help="fixed seconds per unit (default 20)")
    args = parser.parse_args()

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    seeds = int(params["profiles"]["paper"].get("seeds", params["evaluate"]["seeds"]))
    clips = int(params["split"]["eval_clips"])
    sanity_clips = int(params["sanity"]["clips"]["paper"])
    passes = 2 * int(params["evaluate"]["n_thresholds"])
    from benchmark.model.randomization import CASCADE

    steps = len(CASCADE) + 1
    rows = [r for r in csv.DictReader(line for line in (ROOT / "leaderboard/data/paper_tables.csv").open()
                                      if not line.startswith("#"))]
    runtime = {r["method"]: float(r["runtime_s"]) for r in rows}
    stochastic = {m: bool(yaml.safe_load((ROOT / "submissions" / m / "submission.yaml").read_text())
                          .get("stochastic", False)) for m in runtime}
    fwd = runtime["integrated_gradients"] / (IG_SAMPLES * (1 + args.bwd_over_fwd))
    print(f"per unit: a forward sample {fwd:.3f} s, deletion + insertion {passes * fwd:.1f} s per clip and seed; "
          f"{seeds} seeds for {', '.join(m for m in runtime if stochastic[m])}; sanity {steps} runs x "
          f"{sanity_clips} clips; {args.unit_start:g} s to start a unit")
    work = sum(clips * (seeds if stochastic[m] else 1) * (t + passes * fwd) + steps * sanity_clips * t
               for m, t in runtime.items())
    print(f"total work: {work / 3600:.1f} GPU-hours (explain, scoring and sanity of the 8 baselines)")
    print("| GPUs | evaluate: units (h) | evaluate: driver scoring (h) | sanity (h) | total (h) |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.gpus:
        units = sum(_stage_time(t, seeds if stochastic[m] else 1, clips, n, n, args.unit_start)
                    for m, t in runtime.items())
        scoring = sum(clips * (seeds if stochastic[m] else 1) * passes * fwd for m in runtime)
        sanity = sum(_stage_time(t, steps, sanity_clips, n, n // steps, args.unit_start) for t in runtime.values())
        print(f"| {n} | {units / 3600:.1f} | {scoring / 3600:.1f} | {sanity / 3600:.1f} | "
              f"{(units + scoring + sanity) / 3600:.1f} |")


if __name__ == "__main__":
    main()
