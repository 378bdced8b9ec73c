"""The one error of the submission contract."""

from __future__ import annotations


class SubmissionError(ValueError):
    """A submission folder breaks the contract (the message names the file and the fix)."""
