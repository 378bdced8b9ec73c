"""Checking ``explainer.py`` as text, without running it: what the harness's own process may do.

Only the confined worker ever imports a submission's code (:mod:`~benchmark.explain.contract.code`). The
stages, ``benchmark list`` and the scaffold read the file as source: it must exist, be UTF-8 Python that
parses, and define ``explain`` at the top level; when it is a plain ``def``, its signature is checked here
too, so that most mistakes are reported before a worker starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

from benchmark.explain.contract.errors import SubmissionError

__all__ = ["check_source"]

_EXPECTED = "def explain(model, clips, *, target, baselines, params, generator)"


def check_source(path: str | Path) -> None:
    """Raise :class:`SubmissionError` (naming ``path`` and the fix) unless ``path`` is parseable Python that
    defines ``explain`` at the top level with the contract's signature. Nothing in the file is executed."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: not found. Every submission folder needs an explainer.py defining "
                              f"`{_EXPECTED}`.")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: is not valid Python ({exc}). Fix the syntax.") from exc
    defined = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "explain":
            defined = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "explain" for t in targets):
                defined = node  # bound at import time: the worker checks the signature
    if defined is None:
        raise SubmissionError(f"{path}: defines no top-level `explain`; add `{_EXPECTED}`.")
    if isinstance(defined, ast.AsyncFunctionDef):
        raise SubmissionError(f"{path}: `explain` is a coroutine (async def); write `{_EXPECTED}`.")
    if isinstance(defined, ast.FunctionDef):
        args = defined.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        keyword_only = {a.arg for a in args.kwonlyargs}
        problems = []
        if positional != ["model", "clips"]:
            problems.append(f"positional arguments are {positional}, expected ['model', 'clips']")
        if keyword_only != {"target", "baselines", "params", "generator"}:
            problems.append(f"keyword-only arguments are {sorted(keyword_only)}, expected "
                            "['baselines', 'generator', 'params', 'target']")
        if args.vararg or args.kwarg:
            problems.append("*args/**kwargs are not allowed")
        if problems:
            raise SubmissionError(f"{path}: `explain` has the wrong signature ({'; '.join(problems)}). "
                                  f"Write {_EXPECTED}.")
