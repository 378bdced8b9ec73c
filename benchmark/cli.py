"""The ``benchmark`` command: every pipeline stage and the submission tools.

Run ``benchmark --help`` or ``benchmark COMMAND --help``. DVC calls these commands (see dvc.yaml);
they can also be run by hand from the repository root.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def _settings(args: argparse.Namespace):
    """``params.yaml``, parsed and validated once (:class:`benchmark.settings.Settings`)."""
    from benchmark.settings import load_settings

    return load_settings(args.params)


def _layout(args: argparse.Namespace):
    from benchmark.layout import RepoLayout

    return RepoLayout(Path(args.root))


def cmd_data(args: argparse.Namespace) -> int:
    from benchmark.data import stages

    {"fetch": stages.obtain, "prepare": stages.prepare_stage, "split": stages.split_stage}[args.step](
        _settings(args), _layout(args))
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from benchmark.model import stages

    {"weights": stages.weights_stage, "train": stages.train_stage}[args.step](_settings(args), _layout(args))
    return 0


def _backend(settings):
    """Where the stage's units run: ``BENCHMARK_BACKEND`` (local by default; see benchmark.harness.backends)."""
    from benchmark.harness.backends import select_backend
    from benchmark.harness.inputs import pick_device

    workers = settings.evaluate.workers if pick_device() == "cpu" else 1
    return select_backend(workers, threads=settings.evaluate.threads)


def _names(args: argparse.Namespace, command: str) -> list[str] | None:
    from benchmark.explain.contract.registry import discover

    names = list(discover(_layout(args).submissions)) if args.all else args.names
    if not names:
        print(f"benchmark {command}: name one or more submissions, or pass --all", file=sys.stderr)
        return None
    return names


def cmd_evaluate(args: argparse.Namespace) -> int:
    from benchmark.harness.evaluate import evaluate_submission
    from benchmark.harness.inputs import load_eval_set

    settings, layout = _settings(args), _layout(args)
    names = _names(args, "evaluate")
    if names is None:
        return 2
    es = load_eval_set(settings, layout)
    backend = _backend(settings)  # one for every submission of this command (a Ray cluster is joined once)
    try:
        for name in names:
            evaluate_submission(name, settings, layout, eval_set=es, backend=backend)
    finally:
        backend.close()
    if args.strict:
        from benchmark.results.status import failed_names

        failed = failed_names(layout.results, names)
        if failed:
            print(f"benchmark evaluate: {len(failed)} submission(s) failed: {', '.join(failed)} (--strict)",
                  file=sys.stderr)
            return 3
    return 0


def cmd_stability(args: argparse.Namespace) -> int:
    from benchmark.explain.contract.registry import discover
    from benchmark.harness.stability import stability_study

    settings, layout = _settings(args), _layout(args)
    names = [n.strip() for n in args.submissions.split(",") if n.strip()] if args.submissions else \
        list(discover(layout.submissions))
    left_out = dict(item.split("=", 1) for item in args.leave_out)
    names = [n for n in names if n not in left_out]
    out = Path(args.out) if args.out else layout.root / "stability" / f"{settings.data.source}.json"
    workdir = Path(args.workdir) if args.workdir else layout.root / ".cache" / "stability" / settings.data.source
    backend = _backend(settings)
    try:
        report = stability_study(settings, layout, seeds=args.seeds, names=names, workdir=workdir, out=out,
                                 backend=backend, left_out=left_out)
    finally:
        backend.close()
    for metric, w in report["kendall_w"].items():
        tau = report["mean_pairwise_tau"][metric]
        print(f"{metric:10s} Kendall's W {w if w is None else f'{w:.2f}'}  mean pairwise tau "
              f"{tau if tau is None else f'{tau:.2f}'}")
    print(f"stability: {len(report['instances'])} model instances, {len(report['submissions'])} submissions, "
          f"{report['wall_s']:.0f} s; wrote {out}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from benchmark.results.status import failed_names, status_lines

    layout = _layout(args)
    for line in status_lines(layout.results, layout.sanity):
        print(line)
    return 3 if args.strict and failed_names(layout.results) else 0


def cmd_sanity(args: argparse.Namespace) -> int:
    from benchmark.harness.inputs import load_eval_set
    from benchmark.harness.sanity import sanity_check

    settings, layout = _settings(args), _layout(args)
    names = _names(args, "sanity")
    if names is None:
        return 2
    es = load_eval_set(settings, layout)
    backend = _backend(settings)
    try:
        for name in names:
            sanity_check(name, settings, layout, eval_set=es, backend=backend)
    finally:
        backend.close()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from benchmark.harness.preflight import validate
    from benchmark.stagefiles import check_stages

    problems = check_stages(_layout(args), names=[args.name])
    for problem in problems:
        print(f"FAIL  DVC stage and params.yaml entry: {problem}")
    if not problems:
        print("ok    DVC stage file matches the folder; params.yaml has its entry in every profile")
    report = validate(_layout(args).submission(args.name), _settings(args))
    print(report.text())
    return 0 if report.ok and not problems else 1


def cmd_check_stages(args: argparse.Namespace) -> int:
    from benchmark.stagefiles import check_stages, fix_stages

    layout = _layout(args)
    if args.fix:
        for line in fix_stages(layout):
            print(f"fixed: {line}")
    problems = check_stages(layout)
    for problem in problems:
        print(f"{'ERROR' if problem.blocking else 'note '} {problem}")
    blocking = [p for p in problems if p.blocking]
    if not problems:
        print("check-stages: every submission's dvc.yaml matches its folder and params.yaml has its entries")
    return 1 if blocking else 0


def cmd_repro(args: argparse.Namespace) -> int:
    import shutil
    import subprocess

    code = cmd_check_stages(argparse.Namespace(**{**vars(args), "fix": False}))
    if code:
        print("benchmark repro: fix the above first (`benchmark check-stages --fix`); `dvc repro` would stop "
              "for the whole pipeline", file=sys.stderr)
        return code
    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    return subprocess.call([dvc, "repro", *args.dvc_args], cwd=args.root)


def cmd_new(args: argparse.Namespace) -> int:
    from benchmark.stagefiles import add_params_entries, copy_submission

    layout = _layout(args)
    if args.source:
        folder = copy_submission(layout, args.source, args.name)
        how = (f"a copy of {args.source} with its own dvc.yaml; {args.source}'s profile overrides copied to "
               f"profiles.*.submission_params.{args.name} in params.yaml; group set to added")
    else:
        from benchmark.explain.contract.scaffold import new_submission

        folder = new_submission(args.name, layout.submissions, template=args.template)
        add_params_entries(layout.params, args.name)
        how = f"from the template, with its own dvc.yaml and `{args.name}: {{}}` in every profile of params.yaml"
    print(f"created {folder}: {how}. Edit explainer.py and submission.yaml, then run "
          f"`benchmark validate {args.name}` and `dvc repro`")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from benchmark.stagefiles import remove_submission

    layout = _layout(args)
    done = remove_submission(layout, args.name)
    if not done:
        print(f"benchmark remove: nothing of '{args.name}' was found", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    if layout.results.is_dir():
        if not args.no_track:
            code = cmd_track(argparse.Namespace(**{**vars(args), "results": str(layout.results)}))
            if code:
                return code
        if layout.site.exists():
            cmd_leaderboard(argparse.Namespace(**{**vars(args), "results": str(layout.results),
                                                  "out": str(layout.site)}))
    print(f"removed {args.name}; commit the change (and `dvc repro` brings dvc.lock up to date)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from benchmark.explain.contract import SubmissionError, read_submission
    from benchmark.explain.contract.registry import discover

    for name, folder in discover(_layout(args).submissions).items():
        try:
            s = read_submission(folder)  # as data: listing runs no submission code
            print(f"{name:24s} {s.meta.family:13s} {s.meta.display_name}")
        except SubmissionError as exc:
            print(f"{name:24s} INVALID       {exc}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from benchmark.leaderboard.render import render_site

    layout = _layout(args)
    stability = getattr(args, "stability", None)
    if stability is None:
        try:
            source = _settings(args).data.source
        except (ValueError, FileNotFoundError):
            source = None
        stability = layout.root / "stability" / f"{source}.json" if source else None
    out = render_site(
        Path(args.results),
        Path(args.out),
        sanity_root=Path(getattr(args, "sanity", None) or layout.sanity),
        submissions_root=Path(getattr(args, "submissions", None) or layout.submissions),
        model_card=Path(getattr(args, "model_card", None) or layout.root / "models" / "model_card.json"),
        stability=Path(stability) if stability else None,
        train_metrics=Path(getattr(args, "train_metrics", None) or layout.train_metrics),
    )
    print(f"rendered {out}/index.html")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from benchmark.leaderboard.render import publish

    dest = publish(Path(args.site), Path(args.to))
    print(f"published {args.site} to {dest}")
    return 0


def cmd_track(args: argparse.Namespace) -> int:
    from benchmark import __version__
    from benchmark.tracking import SyncError, sync_results

    tracking = _settings(args).tracking
    layout = _layout(args)
    try:
        report = sync_results(Path(args.results), tracking_uri=tracking.uri,
                              artifact_root=Path(tracking.artifact_root),
                              experiment=tracking.experiment, benchmark_version=__version__,
                              sanity_root=layout.sanity, submissions_root=layout.submissions)
    except SyncError as exc:
        print(f"benchmark track: error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    print(f"MLflow UI (after `mlflow server ... --port 5000`): http://127.0.0.1:5000{report.ui_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", default="params.yaml", help="the pipeline's parameters (default: params.yaml)")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=fn)
        return sp

    sp = add("data", cmd_data, "data stages: fetch (or generate) the raw data, prepare clips, draw the split")
    sp.add_argument("step", choices=["fetch", "prepare", "split"])
    sp = add("model", cmd_model, "model stages: obtain pretrained weights, train the I3D")
    sp.add_argument("step", choices=["weights", "train"])
    sp = add("evaluate", cmd_evaluate, "explain and score submissions on the fixed evaluation clips")
    sp.add_argument("names", nargs="*", help="submission names (folders under submissions/)")
    sp.add_argument("--all", action="store_true", help="every registered submission")
    sp.add_argument("--strict", action="store_true",
                    help="exit with status 3 when a submission fails (for a submitter's CI); by default a failed "
                         "submission is a recorded result and the stage succeeds")
    sp = add("sanity", cmd_sanity, "model-parameter randomisation test (Adebayo et al.): sanity/NAME/sanity.json")
    sp.add_argument("names", nargs="*", help="submission names (folders under submissions/)")
    sp.add_argument("--all", action="store_true", help="every registered submission")
    sp = add("validate", cmd_validate, "check a submission before scoring (its DVC stage file and params.yaml "
             "entries, schema, output, determinism, tampering)")
    sp.add_argument("name")
    sp = add("check-stages", cmd_check_stages, "check that every submission's dvc.yaml matches its folder and "
             "params.yaml holds its entries (what `dvc repro` needs before it can build the pipeline)")
    sp.add_argument("--fix", action="store_true", help="rewrite stale stage files from the template and add the "
                    "missing params.yaml entries")
    sp = add("repro", cmd_repro, "`benchmark check-stages`, then `dvc repro` (extra arguments go to dvc repro)")
    sp.add_argument("dvc_args", nargs=argparse.REMAINDER, help="passed to `dvc repro`")
    sp = add("new-submission", cmd_new, "scaffold submissions/NAME from a working template, or copy an existing one")
    sp.add_argument("name", help="snake_case folder name")
    sp.add_argument("--template", default="gradient", help="template to start from (default: gradient)")
    sp.add_argument("--from", dest="source", metavar="EXISTING", default=None,
                    help="copy submissions/EXISTING instead (its code, yaml and profile overrides; a new dvc.yaml)")
    sp = add("remove", cmd_remove, "delete a submission: its folder, results, sanity record and params.yaml entries; "
             "its MLflow run is marked removed and the page re-rendered")
    sp.add_argument("name")
    sp.add_argument("--no-track", action="store_true", help="leave MLflow alone (the next `benchmark track` marks it)")
    add("list", cmd_list, "list registered submissions")
    sp = add("leaderboard", cmd_leaderboard, "render the static HTML leaderboard from results/")
    sp.add_argument("--results", default="results")
    sp.add_argument("--out", default="leaderboard/site")
    sp.add_argument("--sanity", default=None, help="the sanity records (default: sanity/)")
    sp.add_argument("--submissions", default=None, help="the submission folders (default: submissions/)")
    sp.add_argument("--model-card", default=None, help="default: models/model_card.json (optional)")
    sp.add_argument("--stability", default=None, help="default: stability/<data.source>.json (optional)")
    sp.add_argument("--train-metrics", default=None, help="default: models/train_metrics.json (optional)")
    sp = add("publish", cmd_publish, "copy the rendered site to a folder to publish (docs/ for GitHub Pages)")
    sp.add_argument("--site", default="leaderboard/site")
    sp.add_argument("--to", default="docs")
    sp = add("stability", cmd_stability, "rank agreement of the submissions across model instances (training "
             "seeds): stability/<source>.json; not a DVC stage")
    sp.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)")
    sp.add_argument("--submissions", default="", help="comma-separated names (default: every submission)")
    sp.add_argument("--leave-out", action="append", default=[], metavar="NAME=WHY",
                    help="leave a submission out and say why (repeatable)")
    sp.add_argument("--out", default="", help="the report (default stability/<data.source>.json)")
    sp.add_argument("--workdir", default="", help="model instances (default .cache/stability/<data.source>)")
    sp = add("status", cmd_status, "one line per failed submission (the last step of `dvc repro`)")
    sp.add_argument("--strict", action="store_true", help="exit with status 3 when any submission failed")
    sp = add("track", cmd_track, "sync results/ into MLflow (idempotent: one run per submission and result)")
    sp.add_argument("--results", default="results")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmark.harness.allocator import retain_freed_memory

    retain_freed_memory()  # large tensors reuse freed memory instead of new zero-filled pages (see the module)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"benchmark {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
