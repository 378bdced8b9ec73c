"""Each submission's DVC stage file and ``params.yaml`` entries: generate, check, copy, remove.

A submission folder ``submissions/<name>/`` carries a ``dvc.yaml`` generated from
``benchmark/explain/contract/template/dvc.yaml.in``; it names the folder (its command, outputs and
parameters), so a folder copied by hand (``cp -r a b``) holds a ``dvc.yaml`` that claims ``a``'s outputs, and
DVC then refuses to build the pipeline at all. Each profile of ``params.yaml`` also holds one entry per
submission under ``submission_params`` (``{}`` for none), which the stage tracks on its own.

* :func:`check_stages` lists every mismatch (a stage file that does not match its folder, a missing or stale
  ``params.yaml`` entry, results left behind by a deleted submission), each with the command that fixes it;
  :func:`fix_stages` rewrites what can be rewritten.
* :func:`copy_submission` is ``benchmark new-submission NEW --from OLD``; :func:`add_params_entries` is what
  ``benchmark new-submission`` adds; :func:`remove_submission` is ``benchmark remove NAME``.

Reads and writes files only: it never runs a submission's code, and never imports torch.
"""

from __future__ import annotations

import bisect
import io
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.layout import RepoLayout

TEMPLATE = Path(__file__).resolve().parent / "explain" / "contract" / "template" / "dvc.yaml.in"
STAGE_FILE = "dvc.yaml"
META_FILE = "submission.yaml"
NOT_COPIED = ("dvc.yaml", "dvc.lock", "__pycache__", ".ipynb_checkpoints")
"""What ``--from`` leaves behind: the stage file and lock (regenerated for the new name) and caches."""
_NAMED = re.compile(r"benchmark (?:evaluate|sanity) ([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class Problem:
    """One mismatch: what is wrong (``message``) and the command that fixes it (``fix``). ``blocking``: DVC cannot
    build or run the pipeline until it is fixed (a note otherwise: leftovers that only take up room)."""

    name: str
    message: str
    fix: str
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}"


def expected_stage_file(name: str, template: Path = TEMPLATE) -> str:
    """The ``dvc.yaml`` that ``submissions/<name>/`` must hold."""
    return template.read_text().replace("{{NAME}}", name)


def _submissions(layout: RepoLayout) -> list[str]:
    root = layout.submissions
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and (p / META_FILE).is_file()
    )


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    return y


def _load_params(path: Path) -> Any:
    return _yaml().load(path.read_text())


def _dump(y_data: Any, path: Path) -> None:
    buf = io.StringIO()
    _yaml().dump(y_data, buf)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue())
    tmp.replace(path)


def _profiles(data: Any) -> dict[str, Any]:
    profiles = data.get("profiles") if hasattr(data, "get") else None
    return dict(profiles) if hasattr(profiles, "items") else {}


def check_stages(layout: RepoLayout = RepoLayout(), names: Sequence[str] | None = None) -> list[Problem]:
    """Every mismatch between the submission folders, their stage files, ``params.yaml`` and ``results/``.

    Args:
        layout: the repository.
        names: check these submissions only (default: every one, plus leftovers of deleted ones).
    """
    problems: list[Problem] = []
    present = _submissions(layout)
    for name in names if names is not None else present:
        folder = layout.submission(name)
        stage = folder / STAGE_FILE
        if not (folder / META_FILE).is_file():
            problems.append(Problem(name, f"submissions/{name}: no such submission.", "check the name"))
            continue
        if not stage.is_file():
            problems.append(Problem(
                name, f"submissions/{name}/{STAGE_FILE} is missing, so DVC never scores {name}.",
                "`benchmark check-stages --fix`"))
            continue
        text = stage.read_text()
        if text != expected_stage_file(name):
            named = sorted(set(_NAMED.findall(text)) - {name})
            if named:
                message = (f"submissions/{name}/{STAGE_FILE} runs and writes '{named[0]}', not '{name}' (a copied "
                           f"folder?): `dvc repro` stops for the whole pipeline while two stages claim "
                           f"results/{named[0]}.")
            else:
                message = (f"submissions/{name}/{STAGE_FILE} differs from the template "
                           "(benchmark/explain/contract/template/dvc.yaml.in).")
            problems.append(Problem(name, message, "`benchmark check-stages --fix` (rewrites it from the template)"))
    if layout.params.is_file():
        data = _load_params(layout.params)
        for profile, body in _profiles(data).items():
            entries = body.get("submission_params") if hasattr(body, "get") else None
            entries = entries if hasattr(entries, "keys") else {}
            for name in names if names is not None else present:
                if name in present and name not in entries:
                    problems.append(Problem(
                        name, f"params.yaml: profiles.{profile}.submission_params has no entry for '{name}', "
                        "which its DVC stage tracks (`dvc repro` stops: parameters missing).",
                        "`benchmark check-stages --fix` (adds `" + name + ": {}`)"))
            if names is None:
                for name in sorted(set(entries) - set(present)):
                    problems.append(Problem(
                        name, f"params.yaml: profiles.{profile}.submission_params.{name} names no submission folder.",
                        f"`benchmark remove {name}` (or restore submissions/{name})", blocking=False))
    if names is None:
        for root, what in ((layout.results, "results"), (layout.sanity, "sanity")):
            if root.is_dir():
                for p in sorted(root.iterdir()):
                    if p.is_dir() and not p.name.startswith(".") and p.name not in present:
                        problems.append(Problem(
                            p.name, f"{what}/{p.name} belongs to no submission folder (deleted by hand?); the page "
                            "leaves it out and MLflow marks its run removed.", f"`benchmark remove {p.name}`",
                            blocking=False))
    return problems


def fix_stages(layout: RepoLayout = RepoLayout()) -> list[str]:
    """Rewrite every stage file that does not match its folder and add the missing ``params.yaml`` entries.

    Returns what was changed, one line each. Leftover results are not deleted (``benchmark remove``).
    """
    done = []
    for name in _submissions(layout):
        stage = layout.submission(name) / STAGE_FILE
        expected = expected_stage_file(name)
        if not stage.is_file() or stage.read_text() != expected:
            stage.write_text(expected)
            stale_lock = layout.submission(name) / "dvc.lock"
            if stale_lock.is_file() and not set(_NAMED.findall(stale_lock.read_text())) <= {name}:
                stale_lock.unlink()
                done.append(f"removed submissions/{name}/dvc.lock (it recorded another submission's stages)")
            done.append(f"rewrote submissions/{name}/{STAGE_FILE} from the template")
        done += [f"params.yaml: added {line}" for line in add_params_entries(layout.params, name)]
    return done


def add_params_entries(params: Path, name: str, copy_from: str | None = None) -> list[str]:
    """Add ``name`` to every profile's ``submission_params`` in ``params`` (comments kept), as ``{}`` or as a
    copy of ``copy_from``'s entry. Existing entries are left alone. Returns the keys added."""
    from ruamel.yaml.comments import CommentedMap

    if not params.is_file():
        return []
    data = _load_params(params)
    added = []
    for profile, body in _profiles(data).items():
        if not hasattr(body, "get"):
            continue
        entries = body.get("submission_params")
        if not isinstance(entries, CommentedMap):
            entries = CommentedMap()
            body["submission_params"] = entries
        if name in entries:
            continue
        value = CommentedMap()
        source = entries.get(copy_from) if copy_from else None
        if hasattr(source, "items"):
            for k, v in source.items():
                value[k] = v
        if not value:
            value.fa.set_flow_style()
        keys = list(entries.keys())
        entries.insert(bisect.bisect(keys, name), name, value)
        added.append(f"profiles.{profile}.submission_params.{name}")
    if added:
        _dump(data, params)
    return added


def remove_params_entries(params: Path, name: str) -> list[str]:
    """Drop ``name`` from every profile's ``submission_params`` in ``params``. Returns the keys removed."""
    if not params.is_file():
        return []
    data = _load_params(params)
    removed = []
    for profile, body in _profiles(data).items():
        entries = body.get("submission_params") if hasattr(body, "get") else None
        if hasattr(entries, "pop") and name in entries:
            entries.pop(name)
            removed.append(f"profiles.{profile}.submission_params.{name}")
    if removed:
        _dump(data, params)
    return removed


def copy_submission(layout: RepoLayout, source: str, name: str) -> Path:
    """``submissions/<source>/`` copied to ``submissions/<name>/`` with its own stage file.

    Every file is copied but the stage file, the lock and caches; ``submission.yaml`` gets a new
    ``display_name`` and ``group: added`` (a copy of a baseline is not the paper's); the profiles' overrides of
    ``source`` are copied to ``name``. The folder is assembled beside the target and renamed into place.

    Raises:
        ValueError: an invalid name, a missing source or a target that exists.
    """
    from benchmark.explain.contract.metadata import validate_name

    validate_name(name, where="new-submission NAME")
    src, dest = layout.submission(source), layout.submission(name)
    if not (src / META_FILE).is_file():
        raise ValueError(f"submissions/{source}: no such submission to copy (`benchmark list` shows them).")
    if dest.exists():
        raise ValueError(f"submissions/{name}: already exists; choose another name or `benchmark remove {name}`.")
    staging = Path(tempfile.mkdtemp(prefix=f".new-{name}-", dir=layout.submissions))
    try:
        shutil.copytree(src, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
        meta_path = staging / META_FILE
        meta = _yaml().load(meta_path.read_text())
        old = str(meta.get("display_name") or source)
        meta["display_name"] = f"{name.replace('_', ' ').strip().title()} (from {old})"
        meta["group"] = "added"
        _dump(meta, meta_path)
        (staging / STAGE_FILE).write_text(expected_stage_file(name))
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    add_params_entries(layout.params, name, copy_from=source)
    return dest


def remove_submission(layout: RepoLayout, name: str) -> list[str]:
    """Delete ``submissions/<name>``, ``results/<name>``, ``sanity/<name>`` and its ``params.yaml`` entries.

    Returns what was removed, one line each (empty when nothing of ``name`` existed). The MLflow run and the
    page follow on the next ``benchmark track`` and ``benchmark leaderboard`` (the command runs both).
    """
    from benchmark.explain.contract.metadata import validate_name

    validate_name(name, where="remove NAME")
    done = []
    for path in (layout.submission(name), layout.result(name), layout.sanity_record(name)):
        if path.is_dir():
            shutil.rmtree(path)
            done.append(f"deleted {path}")
    done += [f"params.yaml: removed {key}" for key in remove_params_entries(layout.params, name)]
    return done
