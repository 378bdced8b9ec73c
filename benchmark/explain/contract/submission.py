"""A loaded submission: its validated metadata and its ``explain`` function.

:func:`load_submission` validates both files of a folder (:mod:`~benchmark.explain.contract.metadata`,
:mod:`~benchmark.explain.contract.code`) and returns a :class:`Submission`; every problem is a
:class:`~benchmark.explain.contract.errors.SubmissionError` that names the file and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.explain.contract.code import CODE_FILE, ExplainFn, load_explain
from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.metadata import META_FILE, SubmissionMeta, load_meta, merge_params, validate_name


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
    """Load and validate the submission in ``folder`` (its name is the folder's name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: not a folder. Pass the path of a submission folder.")
    name = validate_name(folder.name, where=str(folder))
    meta, params = load_meta(folder / META_FILE)
    explain = load_explain(folder / CODE_FILE, name=name)
    return Submission(name=name, folder=folder, meta=meta, params=params, explain=explain)
