"""``benchmark new-submission NAME``: a new submission folder from a working template."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmark.explain.contract.code import CODE_FILE
from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.metadata import META_FILE, validate_name
from benchmark.explain.contract.submission import read_submission

TEMPLATE_DIR = Path(__file__).parent / "template"
TEMPLATES: tuple[str, ...] = ("gradient",)
"""Template kinds: sub-folders of ``template/`` holding ``submission.yaml`` and ``explainer.py``."""


def new_submission(name: str, root: str | Path = "submissions", *, template: str = "gradient") -> Path:
    """Create ``root/name/`` with ``submission.yaml``, ``explainer.py`` and ``dvc.yaml``.

    The files come from ``benchmark/explain/contract/template/``; the ``gradient`` template is a working
    Captum Input x Gradient explainer. The folder is assembled in a temporary folder inside ``root``
    and renamed into place, so a failure leaves nothing half-written.

    Args:
        name: the submission's name, snake_case (``^[a-z][a-z0-9_]*$``).
        root: the submissions folder (created if missing).
        template: one of :data:`TEMPLATES`.

    Returns:
        The new folder.

    Raises:
        SubmissionError: a bad name, an unknown template, or a folder that already exists.
    """
    validate_name(name, where="new_submission(name)")
    if template not in TEMPLATES:
        raise SubmissionError(f"new_submission(template): {template!r} is not one of {list(TEMPLATES)}.")
    root = Path(root)
    target = root / name
    if target.exists():
        raise SubmissionError(f"{target}: already exists; choose another name or delete the folder first.")
    root.mkdir(parents=True, exist_ok=True)
    values = {"{{NAME}}": name, "{{DISPLAY_NAME}}": name.replace("_", " ").strip().title()}
    files = {
        META_FILE: TEMPLATE_DIR / template / META_FILE,
        CODE_FILE: TEMPLATE_DIR / template / CODE_FILE,
        "dvc.yaml": TEMPLATE_DIR / "dvc.yaml.in",  # not named dvc.yaml: DVC would collect it as a stage
    }
    staging = Path(tempfile.mkdtemp(prefix=f".new-{name}-", dir=root))
    try:
        for filename, source in files.items():
            text = source.read_text()
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            (staging / filename).write_text(text)
        os.rename(staging, target)  # fails if `target` appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    read_submission(target)  # the template must always yield a valid submission (checked as data)
    return target
