"""Fixtures for the explain tests: a toy 3-D classifier, submission folders, and tiny calibrated I3Ds with clips."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

GOOD_YAML = textwrap.dedent(
    """\
    display_name: Toy
    family: gradient
    authors: [Tester]
    description: A toy submission.
    url: ""
    params:
      scale: 2.0
    """
)

GOOD_CODE = textwrap.dedent(
    """\
    import torch

    def explain(model, clips, *, target, baselines, params, generator):
        return (clips - baselines) * params["scale"]
    """
)


class ToyClassifier(nn.Module):
    """``(B, 3, T, H, W) -> (B, 2)`` probabilities: conv, ReLU, global pool, linear, softmax."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, 4, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.head = nn.Linear(4, 2)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.relu(self.conv(x)).mean(dim=(2, 3, 4))
        return torch.softmax(self.head(features), dim=1)


@pytest.fixture
def toy_model() -> nn.Module:
    return ToyClassifier(torch.Generator().manual_seed(0)).eval()


@pytest.fixture
def toy_clips() -> torch.Tensor:
    """``(2, 3, 4, 8, 12)`` in [-1, 1]."""
    return torch.rand((2, 3, 4, 8, 12), generator=torch.Generator().manual_seed(0)) * 2 - 1


def _write_submission(
    root: Path, name: str, yaml_text: str | None = GOOD_YAML, code: str | None = GOOD_CODE
) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    if yaml_text is not None:
        (folder / "submission.yaml").write_text(yaml_text)
    if code is not None:
        (folder / "explainer.py").write_text(code)
    return folder


@pytest.fixture
def write_submission():
    """``write_submission(root, name, yaml_text=GOOD_YAML, code=GOOD_CODE) -> folder``
    (``None`` leaves a file out)."""
    return _write_submission


@pytest.fixture
def good_yaml() -> str:
    return GOOD_YAML


@pytest.fixture
def good_code() -> str:
    return GOOD_CODE


def _calibrated_i3d(clips: torch.Tensor) -> nn.Module:
    """A tiny eval-mode ``ProbabilityModel(I3D)`` whose BatchNorm statistics come from ``clips``
    ``(N, 3, T, H, W)``, so that occluding or mixing parts of a clip moves p noticeably."""
    from benchmark.model.i3d import ProbabilityModel, build_model

    net = build_model(width=0.0625, seed=0)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm3d):
            module.momentum = 1.0
    with torch.no_grad():
        net.train()
        net(clips)
    return ProbabilityModel(net).eval()


@pytest.fixture(scope="session")
def calibrated_i3d():
    """``clips -> model``: see :func:`_calibrated_i3d`."""
    return _calibrated_i3d


@dataclass(frozen=True)
class OcclusionSetting:
    """One clip ``(1, *shape)``, its baseline (a spatially smoothed copy), and a window and stride that
    give 4 x 4 x 4 = 64 overlapping windows, the last one per axis cropped."""

    shape: tuple[int, int, int, int]
    window: tuple[int, int, int]
    stride: tuple[int, int, int]
    clip: torch.Tensor
    baseline: torch.Tensor


@pytest.fixture(scope="session")
def occlusion_setting() -> OcclusionSetting:
    shape = (3, 20, 24, 36)
    clip = torch.rand((1, *shape), generator=torch.Generator().manual_seed(3)) * 2 - 1
    baseline = nn.functional.avg_pool3d(clip, (1, 3, 3), stride=1, padding=(0, 1, 1))
    return OcclusionSetting(shape, (6, 8, 10), (5, 7, 9), clip, baseline)


@pytest.fixture(scope="session")
def i3d64(occlusion_setting, calibrated_i3d) -> nn.Module:
    """A calibrated tiny I3D in float64 (the engines' results then differ from Captum's by its rounding only)."""
    return calibrated_i3d(torch.cat([occlusion_setting.clip, occlusion_setting.baseline])).double()


@pytest.fixture(scope="session")
def feature_setting(calibrated_i3d):
    """``(model, clip, baseline, mask)``: a calibrated tiny I3D, a ``(1, 3, 12, 26, 38)`` clip (odd sizes:
    asymmetric SAME padding on H and W), a blurred baseline and 3-D SLIC supervoxels of the clip."""
    from benchmark.explain.supervoxels import slic_supervoxels

    generator = torch.Generator().manual_seed(4)
    clip = torch.rand((1, 3, 12, 26, 38), generator=generator) * 2 - 1
    baseline = nn.functional.avg_pool3d(clip, (1, 5, 5), stride=1, padding=(0, 2, 2))
    model = calibrated_i3d(torch.cat([clip, baseline]))
    mask = slic_supervoxels(clip[0], 24, 10.0)
    return model, clip, baseline, mask


def mixed_clips(clip: torch.Tensor, baseline: torch.Tensor, mask: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The clips that keep feature ``k`` of ``clip`` where ``z[:, k]`` is 1 and take ``baseline`` elsewhere."""
    keep = z.index_select(1, mask.flatten()).bool().view(len(z), 1, *mask.shape)
    return torch.where(keep, clip, baseline)


@pytest.fixture(scope="session")
def mix():
    """:func:`mixed_clips`."""
    return mixed_clips
