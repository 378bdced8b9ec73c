"""``python -m benchmark.perf``: the performance table of the baselines (see :mod:`benchmark.perf`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmark.perf.report import write_report
from benchmark.perf.run import PerfConfig, run_benchmark


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmark.perf",
        description=("Time every method against its floor and Captum's defaults; "
                     "write bench/out/perf_<profile>.json/.md."),
    )
    parser.add_argument("--profile", default="default", help="params.yaml profile (input size, model width)")
    parser.add_argument("--clips", type=int, default=3, help="clips per method after one warm-up (default 3)")
    parser.add_argument("--captum-clips", type=int, default=1, help="clips per Captum-default run (default 1)")
    parser.add_argument("--methods", default=None,
                        help="comma-separated submission names (default: the baselines and the added methods)")
    parser.add_argument("--paper-geometry", action="store_true",
                        help="158x237, width 1 (gradient methods, Grad-CAM, saliency and occlusion_large "
                             "unless --methods)")
    parser.add_argument("--window-sample", type=int, default=64, help="windows timed per occlusion engine")
    parser.add_argument("--max-batch", type=int, default=64, help="largest batch tried for the floor (default 64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per floor batch size (default 3)")
    parser.add_argument("--engines-only", action="store_true",
                        help="only plain vs incremental occlusion on --window-sample windows (occlusion methods)")
    parser.add_argument("--skip-captum", action="store_true", help="do not time Captum's defaults")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: params evaluate.threads)")
    parser.add_argument("--params", default="params.yaml", help="path to params.yaml")
    parser.add_argument("--out", default="bench/out", help="output folder (git-ignored)")
    args = parser.parse_args(argv)
    if min(args.clips, args.captum_clips, args.window_sample, args.max_batch, args.repeats) < 1:
        parser.error("--clips, --captum-clips, --window-sample, --max-batch and --repeats must be >= 1")

    from benchmark.settings import load_settings

    threads = args.threads or load_settings(args.params).evaluate.threads
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    config = PerfConfig(
        profile=args.profile, clips=args.clips, captum_clips=args.captum_clips,
        methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()) if args.methods else None,
        paper_geometry=args.paper_geometry, window_sample=args.window_sample, params_file=Path(args.params),
        skip_captum=args.skip_captum, engines_only=args.engines_only, max_batch=args.max_batch, repeats=args.repeats,
    )
    try:
        report = run_benchmark(config)
    finally:
        torch.set_num_threads(previous)
    json_path, md_path = write_report(report, args.out)
    print(f"perf: wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
