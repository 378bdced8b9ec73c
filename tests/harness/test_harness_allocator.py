"""The allocator settings take effect on glibc and change no result."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmark.harness.allocator import retain_freed_memory

_CHILD = """
import resource, sys, torch
from benchmark.harness.allocator import retain_freed_memory
applied = retain_freed_memory() if sys.argv[1] == "on" else False
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
g = torch.Generator().manual_seed(0)
w = torch.randn(8, 8, 3, 3, 3, generator=g)
total = 0.0
for _ in range(20):
    x = torch.randn(4, 8, 16, 64, 64, generator=g)  # 8 MB blocks, allocated and freed every round
    total += float(torch.nn.functional.conv3d(x, w, padding=1).sum())
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, repr(total))
"""


def _run(mode: str) -> tuple[str, int, str]:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True)
    applied, faults, total = out.stdout.split()
    return applied, int(faults), total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_blocks_are_reused_and_results_unchanged() -> None:
    on, off = _run("on"), _run("off")
    assert on[0] == "True"
    assert on[2] == off[2]  # bit-identical results
    assert on[1] < off[1] / 2  # page faults: freed blocks are reused instead of fresh zero-filled pages


def test_is_safe_to_call_twice() -> None:
    first = retain_freed_memory()
    assert retain_freed_memory() == first
