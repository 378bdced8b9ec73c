"""The submission contract: what a folder under ``submissions/`` must hold, and its loader.

A submission is a folder ``submissions/<name>/`` (``<name>`` matches ``^[a-z][a-z0-9_]*$``) with

* ``submission.yaml`` -- ``display_name``, ``family``, ``authors``, ``description``, ``url`` and
  ``params`` (see :data:`META_KEYS`), and
* ``explainer.py`` -- a function::

      def explain(model, clips, *, target, baselines, params, generator) -> torch.Tensor

  ``model`` maps ``(B, 3, T, H, W)`` clips in model-input space ``[-1, 1]`` to class
  probabilities ``(B, 2)``; ``clips`` and ``baselines`` are ``(B, 3, T, H, W)`` float32 tensors;
  ``target`` is the class index to explain; ``params`` is the (merged) ``params`` mapping of the
  yaml; ``generator`` is a seeded :class:`torch.Generator`, the only source of randomness allowed.
  It returns attributions of shape ``(B, 3, T, H, W)`` or ``(B, T, H, W)``.

:func:`load_submission` validates both files and returns a :class:`Submission`; every problem is a
:class:`SubmissionError` that names the file and says how to fix it.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol, get_args, runtime_checkable

import torch
import yaml
from torch import nn

Attribution = torch.Tensor
"""An attribution map: ``(B, 3, T, H, W)`` or ``(B, T, H, W)``, floating point."""

Family = Literal["gradient", "perturbation", "other"]
FAMILIES: tuple[str, ...] = get_args(Family)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
META_FILE = "submission.yaml"
CODE_FILE = "explainer.py"
EXPLAIN_FUNCTION = "explain"
EXPLAIN_POSITIONAL: tuple[str, ...] = ("model", "clips")
EXPLAIN_KEYWORD_ONLY: frozenset[str] = frozenset({"target", "baselines", "params", "generator"})

# key -> (expected python type(s), human description used in error messages)
META_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "display_name": (str, "a non-empty string, e.g. 'Integrated Gradients'"),
    "family": (str, f"one of {', '.join(FAMILIES)}"),
    "authors": (list, "a list of strings, e.g. ['Ada Lovelace']"),
    "description": (str, "a string (one or two sentences)"),
    "url": (str, "a string: a link to the method or code ('' if none)"),
    "params": (dict, "a mapping of parameter names to values ({} if none)"),
}
# optional key -> (type, description, default)
OPTIONAL_META_KEYS: dict[str, tuple[type, str, object]] = {
    "stochastic": (bool, "true if the explanation depends on the random generator (it is then also "
                   "scored with extra seeds to report the spread across seeds); default false", False),
}


class SubmissionError(ValueError):
    """A submission folder breaks the contract (the message names the file and the fix)."""


@runtime_checkable
class ExplainFn(Protocol):
    """The signature every ``explainer.py: explain`` has (Captum's ``attribute`` is the model)."""

    def __call__(
        self,
        model: nn.Module,
        clips: torch.Tensor,
        *,
        target: int,
        baselines: torch.Tensor,
        params: Mapping[str, Any],
        generator: torch.Generator,
    ) -> Attribution: ...


@dataclass(frozen=True)
class SubmissionMeta:
    """The descriptive part of ``submission.yaml`` (everything but ``params``)."""

    display_name: str
    family: Family
    authors: tuple[str, ...]
    description: str
    url: str
    stochastic: bool = False


@dataclass(frozen=True)
class Submission:
    """A loaded, validated submission.

    Attributes:
        name: the folder name (snake_case); the submission's id everywhere.
        folder: the submission folder.
        meta: display name, family, authors, description, url.
        params: the ``params`` mapping of ``submission.yaml`` (a private copy).
        explain: the submission's ``explain`` function.
    """

    name: str
    folder: Path
    meta: SubmissionMeta
    params: Mapping[str, Any] = field(repr=False)
    explain: ExplainFn = field(repr=False, compare=False)

    def merged_params(self, overrides: Mapping[str, Any] | None = None, *, source: str = "overrides") -> dict:
        """``params`` updated with ``overrides`` (see :func:`merge_params`); a fresh dict each call."""
        return merge_params(self.params, overrides, source=source, name=self.name)


def merge_params(
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
    *,
    source: str = "overrides",
    name: str = "submission",
) -> dict[str, Any]:
    """Shallow-merge ``overrides`` over ``defaults``; an override of an unknown key is an error.

    Refusing unknown keys catches typos in ``params.yaml: profiles.<p>.submission_params`` (and in
    test overrides), which would otherwise be ignored silently.

    Args:
        defaults: the submission's ``params`` from its yaml.
        overrides: keys to replace, or ``None``.
        source: where the overrides come from, for the error message.
        name: the submission's name, for the error message.
    """
    merged = copy.deepcopy(dict(defaults))
    if not overrides:
        return merged
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise SubmissionError(
            f"{source}: unknown parameter(s) {unknown} for submission '{name}'; "
            f"its submission.yaml declares {sorted(defaults)}. Fix the spelling or add the key to "
            f"submissions/{name}/submission.yaml: params."
        )
    merged.update(copy.deepcopy(dict(overrides)))
    return merged


def validate_name(name: str, *, where: str = "submission name") -> str:
    """Return ``name`` if it is a valid submission name, else raise :class:`SubmissionError`."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise SubmissionError(
            f"{where}: {name!r} is not a valid submission name; use snake_case matching "
            f"{NAME_PATTERN.pattern} (lower-case letters, digits, underscores; a letter first)."
        )
    return name


def load_meta(path: str | Path) -> tuple[SubmissionMeta, dict[str, Any]]:
    """Read and validate ``submission.yaml``; return its metadata and its ``params``."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(
            f"{path}: not found. Every submission folder needs a {META_FILE} "
            "(create one with `benchmark new-submission NAME`)."
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SubmissionError(f"{path}: not valid YAML ({exc}). Fix the syntax.") from exc
    if not isinstance(raw, dict):
        raise SubmissionError(f"{path}: expected a mapping with keys {sorted(META_KEYS)}.")
    missing = sorted(set(META_KEYS) - set(raw))
    extra = sorted(set(raw) - set(META_KEYS) - set(OPTIONAL_META_KEYS))
    if missing:
        raise SubmissionError(f"{path}: missing key(s) {missing}; add them ({_describe(missing)}).")
    if extra:
        raise SubmissionError(
            f"{path}: unknown key(s) {extra}; allowed keys are {sorted(META_KEYS)} "
            f"and optionally {sorted(OPTIONAL_META_KEYS)}. "
            "Method settings belong under `params:`."
        )
    for key, (kind, description) in META_KEYS.items():
        if not isinstance(raw[key], kind):
            raise SubmissionError(
                f"{path}: `{key}` is {type(raw[key]).__name__}, expected {description}."
            )
    if not raw["display_name"].strip():
        raise SubmissionError(f"{path}: `display_name` is empty; expected {META_KEYS['display_name'][1]}.")
    if raw["family"] not in FAMILIES:
        raise SubmissionError(f"{path}: `family` is {raw['family']!r}; expected one of {list(FAMILIES)}.")
    if not raw["authors"] or not all(isinstance(a, str) and a.strip() for a in raw["authors"]):
        raise SubmissionError(f"{path}: `authors` must be a non-empty list of non-empty strings.")
    for key, (kind, description, _) in OPTIONAL_META_KEYS.items():
        if key in raw and not isinstance(raw[key], kind):
            raise SubmissionError(f"{path}: `{key}` is {type(raw[key]).__name__}, expected {description}.")
    if not all(isinstance(k, str) for k in raw["params"]):
        raise SubmissionError(f"{path}: every key under `params` must be a string.")
    meta = SubmissionMeta(
        display_name=raw["display_name"].strip(),
        family=raw["family"],
        authors=tuple(a.strip() for a in raw["authors"]),
        description=raw["description"].strip(),
        url=raw["url"].strip(),
        stochastic=bool(raw.get("stochastic", OPTIONAL_META_KEYS["stochastic"][2])),
    )
    return meta, dict(raw["params"])


def load_explain(path: str | Path, *, name: str) -> ExplainFn:
    """Import ``explainer.py`` by path and return its validated ``explain`` function.

    The module is imported under a unique name (``_submission_<name>_<hash of path>``) and registered
    in ``sys.modules`` so that dataclasses and pickling inside it work; ``sys.path`` is not touched.
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(
            f"{path}: not found. Every submission folder needs an {CODE_FILE} defining "
            f"`def {EXPLAIN_FUNCTION}(model, clips, *, target, baselines, params, generator)`."
        )
    module = _import_by_path(path, name=name)
    fn = getattr(module, EXPLAIN_FUNCTION, None)
    if fn is None or not callable(fn):
        raise SubmissionError(
            f"{path}: defines no function `{EXPLAIN_FUNCTION}`; add "
            f"`def {EXPLAIN_FUNCTION}(model, clips, *, target, baselines, params, generator)`."
        )
    _check_signature(fn, path)
    return fn


def load_submission(folder: str | Path) -> Submission:
    """Load and validate the submission in ``folder`` (its name is the folder's name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: not a folder. Pass the path of a submission folder.")
    name = validate_name(folder.name, where=str(folder))
    meta, params = load_meta(folder / META_FILE)
    explain = load_explain(folder / CODE_FILE, name=name)
    return Submission(name=name, folder=folder, meta=meta, params=params, explain=explain)


def _describe(keys: list[str]) -> str:
    return "; ".join(f"{k}: {META_KEYS[k][1]}" for k in keys)


def _import_by_path(path: Path, *, name: str) -> ModuleType:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"_submission_{name}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SubmissionError(f"{path}: cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # any error in user code becomes a contract error naming the file
        sys.modules.pop(module_name, None)
        raise SubmissionError(
            f"{path}: importing it failed ({type(exc).__name__}: {exc}). A submission may import only "
            "torch, captum, numpy, scipy, scikit-image and benchmark.explain helpers."
        ) from exc
    return module


def _check_signature(fn: Any, path: Path) -> None:
    expected = f"def {EXPLAIN_FUNCTION}(model, clips, *, target, baselines, params, generator)"
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise SubmissionError(
            f"{path}: `{EXPLAIN_FUNCTION}` has no inspectable signature; write {expected}."
        ) from exc
    parameters = list(signature.parameters.values())
    positional = [
        p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    keyword_only = {p.name for p in parameters if p.kind is p.KEYWORD_ONLY}
    variadic = [p.name for p in parameters if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    problems = []
    if tuple(p.name for p in positional) != EXPLAIN_POSITIONAL:
        names = [p.name for p in positional]
        problems.append(f"positional arguments are {names}, expected {list(EXPLAIN_POSITIONAL)}")
    if keyword_only != EXPLAIN_KEYWORD_ONLY:
        problems.append(
            f"keyword-only arguments are {sorted(keyword_only)}, expected {sorted(EXPLAIN_KEYWORD_ONLY)}"
        )
    if variadic:
        problems.append(f"*args/**kwargs ({variadic}) are not allowed")
    if problems:
        raise SubmissionError(
            f"{path}: `{EXPLAIN_FUNCTION}` has the wrong signature ({'; '.join(problems)}). Write {expected}."
        )
