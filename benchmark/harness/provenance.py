"""Where a result came from: code, data, split, model, settings, machine and package versions.

:func:`run_context` is the ``provenance`` block of every ``metrics.json`` and ``sanity.json``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark import __version__
from benchmark.layout import RepoLayout
from benchmark.settings import Settings

if TYPE_CHECKING:
    from benchmark.harness.inputs import RunInputs

PACKAGES: tuple[str, ...] = (
    "torch", "captum", "numpy", "scipy", "scikit-learn", "scikit-image", "pandas", "mlflow", "dvc",
)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def git_commit(cwd: Path = Path(".")) -> str:
    """``HEAD`` (with ``-dirty`` when tracked files differ), or ``unknown`` outside a checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def hardware(device: str, threads: int) -> dict[str, Any]:
    """The machine the figures were measured on."""
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
        "threads": threads,
        "device": device,
        "python": platform.python_version(),
        "system": platform.system(),
    }
    if device.startswith("cuda"):
        import torch

        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def benchmark_version() -> str:
    return __version__


def run_context(settings: Settings, layout: RepoLayout, run: RunInputs) -> dict[str, Any]:
    """The provenance of a run: code, data, split, checkpoint, settings, hardware and packages."""
    from benchmark.data.split import load_split

    profile = settings.profile
    split_path = layout.split(settings.data.source)
    prepared_meta = layout.prepared / "meta.json"
    return {
        "benchmark_version": benchmark_version(),
        "git_commit": git_commit(layout.root),
        "profile": profile.name,
        "input": list(profile.input),
        "model_width": profile.model_width,
        "data_source": settings.data.source,
        "data_hash": file_sha256(prepared_meta) if prepared_meta.is_file() else "unknown",
        "checkpoint_hash": file_sha256(layout.checkpoint),
        "checkpoint_meta": {k: v for k, v in run.ckpt_meta.items() if isinstance(v, (str, int, float, bool, list))},
        # tests may pass clips directly, without a split file
        "split_id": str(load_split(split_path).split_id) if split_path.is_file() else "unknown",
        "baseline": settings.evaluate.baseline,
        "evaluate_seed": settings.evaluate.seed,
        "n_thresholds": settings.evaluate.n_thresholds,
        "hardware": hardware(run.device, settings.evaluate.threads),
        "workers": run.workers,
        "packages": package_versions(),
    }


def sandbox_provenance(status: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The worker's sandbox status without the granted paths (temporary folders differ from run to run)."""
    if status is None:
        return None
    return {k: status[k] for k in ("active", "mode", "mechanism", "abi", "reason") if k in status}
