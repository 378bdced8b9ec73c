"""``submission.yaml``: the descriptive half of a submission, read as data.

A submission is a folder ``submissions/<name>/`` (``<name>`` matches :data:`NAME_PATTERN`) with a
``submission.yaml`` -- ``display_name``, ``family`` (one of :data:`METHOD_FAMILIES`), ``authors``,
``description``, ``url`` and ``params`` (see :data:`META_KEYS`), optionally ``stochastic`` -- and an
``explainer.py`` (:mod:`benchmark.explain.contract.code`).

Nothing here imports the submission's code: :func:`load_meta` reads the yaml only, so a process can
list and describe submissions without running any of them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from benchmark.explain.contract.errors import SubmissionError

MethodFamily = Literal["gradient", "perturbation", "other"]
METHOD_FAMILIES: tuple[str, ...] = get_args(MethodFamily)
Group = Literal["paper", "added", "control"]
GROUPS: tuple[str, ...] = get_args(Group)
"""Where a method comes from, which the page shows apart: ``paper`` (the paper's eight baselines), ``added``
(every other method, the default) and ``control`` (a reference such as ``random``: marked on the page,
never starred best)."""
"""The families a submission declares (``submission.yaml: family``); not the metric families."""

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
META_FILE = "submission.yaml"

# key -> (expected python type(s), human description used in error messages)
META_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "display_name": (str, "a non-empty string, e.g. 'Integrated Gradients'"),
    "family": (str, f"one of {', '.join(METHOD_FAMILIES)}"),
    "authors": (list, "a list of strings, e.g. ['Ada Lovelace']"),
    "description": (str, "a string (one or two sentences)"),
    "url": (str, "a string: a link to the method or code ('' if none)"),
    "params": (dict, "a mapping of parameter names to values ({} if none)"),
}
# optional key -> (type, description, default)
OPTIONAL_META_KEYS: dict[str, tuple[type, str, object]] = {
    "stochastic": (bool, "true if the explanation depends on the random generator (it is then also "
                   "scored with extra seeds to report the spread across seeds); default false", False),
    "group": (str, f"one of {', '.join(GROUPS)}: the paper's baselines, added methods (default) or a "
              "control such as random", "added"),
}


@dataclass(frozen=True)
class SubmissionMeta:
    """The descriptive part of ``submission.yaml`` (everything but ``params``)."""

    display_name: str
    family: MethodFamily
    authors: tuple[str, ...]
    description: str
    url: str
    stochastic: bool = False
    group: Group = "added"


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
    if raw["family"] not in METHOD_FAMILIES:
        raise SubmissionError(f"{path}: `family` is {raw['family']!r}; expected one of {list(METHOD_FAMILIES)}.")
    if not raw["authors"] or not all(isinstance(a, str) and a.strip() for a in raw["authors"]):
        raise SubmissionError(f"{path}: `authors` must be a non-empty list of non-empty strings.")
    for key, (kind, description, _) in OPTIONAL_META_KEYS.items():
        if key in raw and not isinstance(raw[key], kind):
            raise SubmissionError(f"{path}: `{key}` is {type(raw[key]).__name__}, expected {description}.")
    if raw.get("group", "added") not in GROUPS:
        raise SubmissionError(f"{path}: `group` is {raw['group']!r}; expected one of {list(GROUPS)}.")
    if not all(isinstance(k, str) for k in raw["params"]):
        raise SubmissionError(f"{path}: every key under `params` must be a string.")
    meta = SubmissionMeta(
        display_name=raw["display_name"].strip(),
        family=raw["family"],
        authors=tuple(a.strip() for a in raw["authors"]),
        description=raw["description"].strip(),
        url=raw["url"].strip(),
        stochastic=bool(raw.get("stochastic", OPTIONAL_META_KEYS["stochastic"][2])),
        group=raw.get("group", OPTIONAL_META_KEYS["group"][2]),
    )
    return meta, dict(raw["params"])


def _describe(keys: list[str]) -> str:
    return "; ".join(f"{k}: {META_KEYS[k][1]}" for k in keys)
