"""``benchmark validate NAME``: a submission's pre-flight checks, before it is scored.

The checks, each reported with a clear verdict:

1. metadata schema (``submission.yaml``) and the ``explain`` signature;
2. on a tiny random I3D and two tiny clips, in the isolated worker: the output's shape, dtype and
   finiteness; the clip tensors and the model's weights unchanged after the call;
3. determinism: a second run with the same seed gives bitwise-identical attributions;
4. nothing written into the repository outside the submission's result folder.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from benchmark.explain.contract import SubmissionError, read_submission
from benchmark.harness.outcomes import RunOutcome
from benchmark.harness.runspec import build_run_spec
from benchmark.harness.supervisor import run_submission
from benchmark.metrics import make_baseline
from benchmark.model.checkpoint import save_checkpoint
from benchmark.model.i3d import I3D
from benchmark.settings import Settings

TINY_INPUT = (2, 20, 32, 48)  # clips, frames, H, W
TINY_WIDTH = 0.125
_IGNORED_TOP = {".git", ".venv", ".dvc", "data", "models", "results", "mlartifacts", "leaderboard",
                ".pytest_cache", ".hypothesis", "docs"}


@dataclass
class ValidationReport:
    name: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed, _ in self.checks)

    def add(self, check: str, passed: bool, detail: str = "") -> None:
        self.checks.append((check, passed, detail))

    def text(self) -> str:
        lines = [f"validate {self.name}: {'OK' if self.ok else 'FAILED'}"]
        for check, passed, detail in self.checks:
            lines.append(f"  [{'pass' if passed else 'FAIL'}] {check}" + (f": {detail}" if detail else ""))
        return "\n".join(lines)


def _tree_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    snap = {}
    for top in root.iterdir():
        if top.name in _IGNORED_TOP:
            continue
        paths = [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
        for p in paths:
            if "__pycache__" in p.parts:
                continue
            st = p.stat()
            snap[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return snap


def validate(folder: Path, settings: Settings, *, seed: int = 0) -> ValidationReport:
    """Run every check on the submission in ``folder``; never raises for the submission's faults."""
    folder = Path(folder).resolve()
    report = ValidationReport(folder.name)
    try:
        submission = read_submission(folder)  # as data; the code is imported in the confined worker only
    except SubmissionError as exc:
        report.add("metadata and explain() signature", False, str(exc))
        return report
    report.add("metadata and explain() signature", True)
    profile = settings.profile
    try:
        merged = submission.merged_params(profile.submission_params.get(submission.name),
                                          source=f"params.yaml: profiles.{profile.name}.submission_params")
    except SubmissionError as exc:
        report.add("profile parameter overrides", False, str(exc))
        return report

    repo = folder.parent.parent
    before = _tree_snapshot(repo)
    with tempfile.TemporaryDirectory(prefix=f"validate-{submission.name}-") as tmp:
        tmpdir = Path(tmp)
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        net = I3D(num_classes=2, width=TINY_WIDTH).eval()
        ckpt = tmpdir / "tiny.pt"
        n, t, h, w = TINY_INPUT
        save_checkpoint(ckpt, net, {"width": TINY_WIDTH, "num_classes": 2, "input_size": [h, w], "clip_length": t,
                                    "profile": "validate", "pretrained": "none", "seed": seed,
                                    "data_source": "validate", "split_id": "none"})
        clips = torch.rand((n, 3, t, h, w), generator=gen) * 2 - 1
        clips = clips[:, :1].expand(-1, 3, -1, -1, -1).contiguous()  # grey, as the real clips
        baselines = make_baseline(settings.evaluate.baseline, clips)
        outs = []
        for k in range(2):  # the same seed twice: the maps must agree
            scratch = tmpdir / f"run{k}"
            scratch.mkdir()
            spec = build_run_spec(
                submission_dir=folder, checkpoint=ckpt, clip_ids=[f"tiny/{i}" for i in range(n)], params=merged,
                seed=seed, evaluate=settings.evaluate, device="cpu", out_dir=scratch, warmup=False,
            )
            outs.append(run_submission(spec, clips.numpy(), baselines.numpy(),
                                       clip_time_budget_s=settings.evaluate.clip_time_budget_s))
            if outs[-1].failure is not None:
                break
    first = outs[0]
    _report_run(report, first)
    if first.failure is None and len(outs) == 2 and outs[1].failure is None:
        same = all(np.array_equal(a.attribution, b.attribution) for a, b in zip(first.runs, outs[1].runs))
        report.add("determinism (same seed, identical attributions)", same,
                   "" if same else "two runs with the same generator differ: draw randomness only from `generator`"
                   " (use benchmark.explain.seeding.seeded for Captum's samplers)")
    after = _tree_snapshot(repo)
    changed = sorted(k for k in after if before.get(k) != after[k])
    report.add("nothing written into the repository", not changed,
               "" if not changed else f"wrote or changed {changed[:5]}")
    return report


def _report_run(report: ValidationReport, outcome: RunOutcome) -> None:
    f = outcome.failure
    if f is None:
        report.add("runs in the isolated worker", True, f"{len(outcome.runs)} tiny clips")
        report.add("output shape, dtype and finiteness", True)
        report.add("inputs and model weights unchanged", True)
        return
    if f.kind == "invalid_output":
        report.add("runs in the isolated worker", True)
        report.add("output shape, dtype and finiteness", False, f.message)
    elif f.kind == "tampering":
        report.add("runs in the isolated worker", True)
        report.add("inputs and model weights unchanged", False, f.message)
    else:
        report.add("runs in the isolated worker", False, f"{f.kind} on {f.clip_id}: {f.message}")
