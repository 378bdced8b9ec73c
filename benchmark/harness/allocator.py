"""Keep freed memory in the process instead of handing it back to the kernel after every tensor.

A forward pass of the I3D allocates activations of tens of megabytes. glibc's ``malloc`` serves every
block over 32 MB (and, by default, many smaller ones) with a fresh ``mmap`` and returns it with ``munmap``
when the tensor dies, so every pass zero-fills its pages again: on the development machine a third of the
scoring's time went to the kernel (``sys`` 25 s of a 109 s ``evaluate`` stage of `saliency` on the real
board). With ``mmap`` off and trimming only above 2 GB, freed blocks are reused by the next pass: the same
stage took 90 s (``sys`` 2.7 s) for about 8 % more peak memory. Results are unchanged (the allocator decides
where tensors live, not what they hold).

Applied by the evaluation's processes (the driver at start-up, each confined worker before it imports
torch), so every submission runs and is timed under the same allocator. A no-op away from glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["retain_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_TRIM_THRESHOLD_BYTES = 2_000_000_000
"""Give memory back only when over 2 GB lie free at the top of the heap (mallopt takes a C ``int``)."""


def retain_freed_memory() -> bool:
    """Tell glibc's ``malloc`` to serve large blocks from its heap and to keep what is freed.

    Returns whether the settings took effect (``False`` on other platforms or C libraries).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES))
