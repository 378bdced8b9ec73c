"""A submission folder, read as data (:func:`read_submission`) or loaded with its code (:func:`load_submission`).

:func:`read_submission` is what the harness's own process does: it validates the name, ``submission.yaml``
(:mod:`~benchmark.explain.contract.metadata`) and ``explainer.py`` as source
(:mod:`~benchmark.explain.contract.source`), executing nothing. :func:`load_submission` also imports the code
(:mod:`~benchmark.explain.contract.code`) and is called only inside the confined worker (and by tests of the
project's own baselines). Every problem is a :class:`~benchmark.explain.contract.errors.SubmissionError`
that names the file and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.explain.contract.code import CODE_FILE, ExplainFn, load_explain
from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.metadata import META_FILE, SubmissionMeta, load_meta, merge_params, validate_name
from benchmark.explain.contract.source import check_source


@dataclass(frozen=True)
class SubmissionInfo:
    """A submission read as data: its name, folder, metadata and ``params`` (nothing of its code has run).

    Attributes:
        name: the folder name (snake_case); the submission's id everywhere.
        folder: the submission folder.
        meta: display name, family, authors, description, url, stochastic.
        params: the ``params`` mapping of ``submission.yaml`` (a private copy).
    """

    name: str
    folder: Path
    meta: SubmissionMeta
    params: Mapping[str, Any] = field(repr=False)

    def merged_params(self, overrides: Mapping[str, Any] | None = None, *, source: str = "overrides") -> dict:
        """``params`` updated with ``overrides`` (see :func:`merge_params`); a fresh dict each call."""
        return merge_params(self.params, overrides, source=source, name=self.name)


def read_submission(folder: str | Path) -> SubmissionInfo:
    """Validate the submission in ``folder`` as data: its name, ``submission.yaml`` and ``explainer.py`` as
    source. Executes none of its code."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: not a folder. Pass the path of a submission folder.")
    name = validate_name(folder.name, where=str(folder))
    meta, params = load_meta(folder / META_FILE)
    check_source(folder / CODE_FILE)
    return SubmissionInfo(name=name, folder=folder, meta=meta, params=params)


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


def load_submission(folder: str | Path) -> Submission:
    """Load and validate the submission in ``folder`` (its name is the folder's name), importing its code.

    Runs the submission's module-level code: call it only where that code may run (the confined worker).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: not a folder. Pass the path of a submission folder.")
    name = validate_name(folder.name, where=str(folder))
    meta, params = load_meta(folder / META_FILE)
    explain = load_explain(folder / CODE_FILE, name=name)
    return Submission(name=name, folder=folder, meta=meta, params=params, explain=explain)
