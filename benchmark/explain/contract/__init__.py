"""The submission contract: what the harness checks of a folder under ``submissions/`` and of what it returns.

* :mod:`~benchmark.explain.contract.metadata` -- ``submission.yaml`` read as data (:func:`load_meta`,
  :func:`merge_params`, :func:`validate_name`, :data:`METHOD_FAMILIES`); imports no submission code.
* :mod:`~benchmark.explain.contract.code` -- ``explainer.py`` imported by path, its ``explain`` signature
  checked (:func:`load_explain`, :class:`ExplainFn`).
* :mod:`~benchmark.explain.contract.source` -- ``explainer.py`` checked as text, nothing executed
  (:func:`check_source`).
* :mod:`~benchmark.explain.contract.submission` -- a folder read as data (:func:`read_submission`, what the
  harness's process does) or with its code (:func:`load_submission`, only in the confined worker).
* :mod:`~benchmark.explain.contract.output` -- :func:`check_output` on what ``explain`` returned.
* :mod:`~benchmark.explain.contract.registry` -- :func:`discover`: the submission folders under ``submissions/``.
* :mod:`~benchmark.explain.contract.scaffold` -- :func:`new_submission` from ``template/``.
* :mod:`~benchmark.explain.contract.errors` -- :class:`SubmissionError`, naming the file and the fix.
"""

from benchmark.explain.contract.code import CODE_FILE, Attribution, ExplainFn, load_explain
from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.metadata import (
    META_FILE,
    METHOD_FAMILIES,
    NAME_PATTERN,
    MethodFamily,
    SubmissionMeta,
    load_meta,
    merge_params,
    validate_name,
)
from benchmark.explain.contract.output import check_output
from benchmark.explain.contract.registry import discover
from benchmark.explain.contract.scaffold import new_submission
from benchmark.explain.contract.source import check_source
from benchmark.explain.contract.submission import Submission, SubmissionInfo, load_submission, read_submission

__all__ = [
    "Attribution",
    "CODE_FILE",
    "ExplainFn",
    "META_FILE",
    "METHOD_FAMILIES",
    "MethodFamily",
    "NAME_PATTERN",
    "Submission",
    "SubmissionError",
    "SubmissionInfo",
    "SubmissionMeta",
    "check_output",
    "check_source",
    "discover",
    "load_explain",
    "load_meta",
    "load_submission",
    "merge_params",
    "new_submission",
    "read_submission",
    "validate_name",
]
