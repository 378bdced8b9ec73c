"""``explainer.py``: the code half of a submission, imported by path and checked for the contract's signature.

``explainer.py`` defines::

    def explain(model, clips, *, target, baselines, params, generator) -> torch.Tensor

``model`` maps ``(B, 3, T, H, W)`` clips in model-input space ``[-1, 1]`` to class probabilities
``(B, 2)``; ``clips`` and ``baselines`` are ``(B, 3, T, H, W)`` float32 tensors; ``target`` is the class
index to explain; ``params`` is the (merged) ``params`` mapping of ``submission.yaml``; ``generator`` is
a seeded :class:`torch.Generator`, the only source of randomness allowed. It returns attributions of
shape ``(B, 3, T, H, W)`` or ``(B, T, H, W)`` (checked by :func:`~benchmark.explain.contract.output.check_output`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from benchmark.explain.contract.errors import SubmissionError

Attribution = torch.Tensor
"""An attribution map: ``(B, 3, T, H, W)`` or ``(B, T, H, W)``, floating point."""

CODE_FILE = "explainer.py"
EXPLAIN_FUNCTION = "explain"
EXPLAIN_POSITIONAL: tuple[str, ...] = ("model", "clips")
EXPLAIN_KEYWORD_ONLY: frozenset[str] = frozenset({"target", "baselines", "params", "generator"})


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
