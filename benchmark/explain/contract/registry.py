"""Finding the submissions: every folder under ``submissions/`` that holds a ``submission.yaml``."""

from __future__ import annotations

from pathlib import Path

from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.metadata import META_FILE

DEFAULT_ROOT = Path("submissions")


def discover(root: str | Path = DEFAULT_ROOT) -> dict[str, Path]:
    """Map each submission name to its folder, sorted by name.

    Every direct sub-folder of ``root`` holding a ``submission.yaml`` is a submission; folders whose
    name starts with ``_`` or ``.`` are ignored (scratch space, ``__pycache__``). Names are *not*
    validated here: :func:`~benchmark.explain.contract.submission.load_submission` does that, so a badly named
    folder fails loudly instead of disappearing.
    """
    root = Path(root)
    if not root.is_dir():
        raise SubmissionError(
            f"{root}: submissions folder not found. Run from the repository root or pass the folder."
        )
    found = {
        folder.name: folder
        for folder in root.iterdir()
        if folder.is_dir() and not folder.name.startswith(("_", ".")) and (folder / META_FILE).is_file()
    }
    return dict(sorted(found.items()))

