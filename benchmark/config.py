"""``params.yaml`` as typed objects.

Every stage reads its settings through :func:`load_params` and :func:`active_profile`, so that
one switch (``profile: default | paper``) moves the whole pipeline between the fast CPU settings
and the paper's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = Path("params.yaml")
PAPER_INPUT: tuple[int, int] = (158, 237)
"""The paper's model grid ``(H, W)``; occlusion windows are given at this geometry."""


class ConfigError(ValueError):
    """``params.yaml`` is missing a key or holds a value of the wrong kind."""


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    lr_step: int
    lr_gamma: float
    augment: bool = True


@dataclass(frozen=True)
class Profile:
    """One column of ``params.yaml: profiles``.

    Attributes:
        name: ``default`` or ``paper`` (or any profile a user adds).
        input: model grid ``(H, W)``; clips are ``(3, T, H, W)``.
        model_width: channel multiplier of the I3D (1.0 is the published network).
        pretrained: ``none``, ``kinetics`` or a path to a PyTorch ``rgb_imagenet.pt``.
        train: optimiser and schedule.
        submission_params: per-submission overrides of ``submission.yaml: params``.
    """

    name: str
    input: tuple[int, int]
    model_width: float
    pretrained: str
    train: TrainSettings
    submission_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def scale(self) -> tuple[float, float]:
        """``(H / 158, W / 237)``: how the grid compares with the paper's."""
        return self.input[0] / PAPER_INPUT[0], self.input[1] / PAPER_INPUT[1]


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Read ``params.yaml`` (a clear error names the file when it is missing or malformed)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: not found. Run from the repository root, or pass --params PATH.")
    try:
        params = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}). Fix the file or restore it with git.") from exc
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level.")
    return params


def get(params: Mapping[str, Any], dotted: str) -> Any:
    """``get(params, "evaluate.seed")`` with an error naming the missing key."""
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"params.yaml: missing key '{dotted}'.")
        node = node[part]
    return node


def active_profile(params: Mapping[str, Any]) -> Profile:
    """The profile that ``params['profile']`` names, as a :class:`Profile`."""
    name = get(params, "profile")
    profiles = get(params, "profiles")
    if name not in profiles:
        raise ConfigError(
            f"params.yaml: profile '{name}' is not one of {sorted(profiles)}; "
            "set `profile:` to one of them or add it under `profiles:`."
        )
    raw = profiles[name]
    try:
        h, w = (int(v) for v in raw["input"])
        train = TrainSettings(**raw["train"])
        return Profile(
            name=name,
            input=(h, w),
            model_width=float(raw["model_width"]),
            pretrained=str(raw.get("pretrained", "none")),
            train=train,
            submission_params=dict(raw.get("submission_params") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"params.yaml: profiles.{name} is incomplete or malformed ({exc}).") from exc
