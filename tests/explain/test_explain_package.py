"""The public helper API: every module in benchmark.explain.__all__, and nothing imported until used."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import benchmark.explain

PACKAGE = Path(benchmark.explain.__file__).parent


def test_every_helper_module_is_declared_and_importable():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(benchmark.explain.__all__) == modules
    for name in benchmark.explain.__all__:
        module = importlib.import_module(f"benchmark.explain.{name}")
        assert module.__doc__, f"benchmark.explain.{name} has no docstring"
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} == {"contract", "engines"}


def test_reading_submission_metadata_imports_no_helper_engine_or_captum():
    code = (
        "import sys, benchmark.explain.contract.metadata\n"
        "loaded = [m for m in sys.modules if m.startswith(('captum', 'skimage', 'benchmark.explain.engines'))"
        " or m in ('benchmark.explain.surrogates', 'benchmark.explain.occlusion', 'benchmark.explain.supervoxels')]\n"
        "print(loaded)\n"
    )
    root = PACKAGE.parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.stdout.strip() == "[]"
