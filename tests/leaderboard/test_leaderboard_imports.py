"""Rendering the page reads result files only: it imports no torch (seconds saved on every render)."""

from __future__ import annotations

import subprocess
import sys


def test_rendering_and_reading_records_import_no_torch():
    code = ("import sys, benchmark.leaderboard.render, benchmark.results, benchmark.metrics; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0, "torch was imported"
