"""Deterministic randomness for submissions.

A submission receives a seeded :class:`torch.Generator` and must draw all its randomness from it.
Captum's NoiseTunnel, GradientShap, Lime and KernelShap draw from *global* generators instead
(torch's, and for GradientShap NumPy's), so :func:`seeded` runs a block with those global
generators forked and seeded from the submission's generator, and restores them afterwards.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

_SEED_BOUND = 2**63 - 1


@contextmanager
def seeded(generator: torch.Generator) -> Iterator[int]:
    """Run the block with torch's, NumPy's and Python's global RNGs seeded from ``generator``.

    One 63-bit seed is drawn from ``generator`` (so the generator advances, deterministically);
    torch's global RNGs (CPU and every CUDA device, via :func:`torch.random.fork_rng`), NumPy's
    legacy global RNG (used by Captum's GradientShap) and Python's ``random`` are seeded with it.
    On exit all of them are restored: the caller's global random state is untouched.

    Yields:
        The seed that was used (for logging).
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"seeded(generator): expected a torch.Generator, got {type(generator).__name__}.")
    seed = int(torch.randint(0, _SEED_BOUND, (1,), generator=generator, device=generator.device).item())
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)
            random.seed(seed)
            yield seed
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def clip_seed(seed: int, submission: str, clip_id: str) -> int:
    """A stable 63-bit seed from ``(seed, submission, clip_id)``: sha256, never Python's ``hash()``."""
    key = f"{int(seed)}\x1f{submission}\x1f{clip_id}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") & _SEED_BOUND


def clip_generator(
    seed: int, submission: str, clip_id: str, device: str | torch.device = "cpu"
) -> torch.Generator:
    """The generator a submission receives for one clip (same inputs -> same stream, on any machine)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(clip_seed(seed, submission, clip_id))
    return generator
