"""A tiny-width I3D and two tiny clips for running every submission in seconds."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmark.model.i3d import ProbabilityModel, build_model

CLIP_SHAPE = (3, 20, 24, 36)
"""(3, T, H, W): 20 frames like the real clips, a 24x36 grid (the paper's aspect ratio)."""

TINY_WIDTH = 0.0625
"""Channel multiplier of the test I3D (53k parameters): the real architecture, at a test's cost."""


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread, as the harness runs explainers (``evaluate.threads``). On this 2-core machine
    under load, two threads made a tiny-model backward pass take seconds instead of milliseconds."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def _tiny_state() -> dict[str, torch.Tensor]:
    return build_model(width=TINY_WIDTH, seed=0).state_dict()


@pytest.fixture
def tiny_model(_tiny_state) -> nn.Module:
    """A fresh ``ProbabilityModel(I3D(width=0.0625))`` in eval mode: (B, 3, T, H, W) -> (B, 2)."""
    net = build_model(width=TINY_WIDTH, seed=0)
    net.load_state_dict(_tiny_state)
    return ProbabilityModel(net).eval()


@pytest.fixture
def tiny_clips() -> tuple[torch.Tensor, torch.Tensor]:
    """Two clips ``(2, 3, 20, 24, 36)`` in [-1, 1] and their baselines (a spatially smoothed copy)."""
    generator = torch.Generator().manual_seed(1)
    gray = torch.rand((2, 1) + CLIP_SHAPE[1:], generator=generator) * 2 - 1
    clips = gray.expand(-1, 3, -1, -1, -1).contiguous()
    baselines = nn.functional.avg_pool3d(clips, kernel_size=(1, 3, 3), stride=1, padding=(0, 1, 1))
    return clips, baselines


@pytest.fixture
def calibrated_tiny_model(_tiny_state, tiny_clips) -> nn.Module:
    """The tiny I3D with BatchNorm statistics taken from the tiny clips and their baselines (one train-mode
    pass, momentum 1), so that perturbing a part of a clip moves p noticeably (the random-init statistics
    leave p almost constant)."""
    net = build_model(width=TINY_WIDTH, seed=0)
    net.load_state_dict(_tiny_state)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm3d):
            module.momentum = 1.0
    with torch.no_grad():
        net.train()(torch.cat(tiny_clips))
    return ProbabilityModel(net).eval()
