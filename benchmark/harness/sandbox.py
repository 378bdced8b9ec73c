"""Confine the calling process to an allowlist of paths, so that a submission cannot read masks or labels.

:func:`enter_sandbox` uses Landlock (Linux >= 5.13, an unprivileged kernel allowlist that no process can
lift once it is in force): afterwards the process, every thread it starts and every child it spawns can
open only

* the paths a Python process needs to run (see :func:`runtime_paths`): system folders, the interpreter,
  the ``sys.path`` entries and this ``benchmark`` package, read-only; ``/dev`` read-write;
* the caller's ``read_only`` paths (files or folders; a folder grants everything beneath it);
* the caller's ``read_write`` paths.

Opening or listing anything else fails with ``EACCES`` (``PermissionError``), also through symlinks,
``/proc/<pid>/root`` or ``/proc/<pid>/cwd``. Landlock does not hide metadata: ``os.stat`` (existence, size,
times) still works on denied paths; only their contents and folder listings are out of reach. Where the
kernel supports it (Landlock ABI >= 6) the process also cannot signal, or connect to the abstract Unix
sockets of, processes outside the sandbox.

Landlock confines only the *calling thread* and the threads it starts later, so the process must be
single-threaded when it enters: :func:`enter_sandbox` first stops the idle worker threads that OpenBLAS
(numpy) starts at import, then checks ``/proc/self/status`` and refuses if other threads remain.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark.settings import SANDBOX_MODES

MODES = SANDBOX_MODES
"""``auto``: confine when the kernel allows it, else run unconfined and say why; ``required``: refuse to
run unconfined (:class:`SandboxError`); ``off``: never confine (``params.yaml: evaluate.sandbox``)."""

SYSTEM_READ_ONLY = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/proc", "/sys")
"""System folders a Python process (and torch, CUDA) reads; the ones that do not exist are skipped."""
SYSTEM_READ_WRITE = ("/dev",)
"""``/dev/null``, ``/dev/shm`` and GPU device files (``/dev/nvidia*``) are written to or ioctl'ed."""

# Landlock UAPI (include/uapi/linux/landlock.h). The three syscalls have the same numbers on every
# architecture that uses the generic syscall table, which includes x86_64 and aarch64.
_SYSCALLS = {"create_ruleset": 444, "add_rule": 445, "restrict_self": 446}
_ARCHES = ("x86_64", "amd64", "aarch64", "arm64")
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_ABI1_ALL = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV  # the only rights a file rule may hold
_READ_ONLY_RIGHTS = _EXECUTE | _READ_FILE | _READ_DIR
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class SandboxError(RuntimeError):
    """Confinement was required but is impossible; the message says why and which setting to change."""


@dataclass(frozen=True)
class SandboxStatus:
    """What :func:`enter_sandbox` did, for provenance.

    ``active`` is true when the process is confined; ``mechanism`` is ``"landlock"`` or ``"none"``;
    ``abi`` the kernel's Landlock ABI version (0: none); ``reason`` says why it is not active (``""`` when
    it is); ``read_only`` / ``read_write`` are the paths granted (resolved, existing ones only).
    """

    active: bool
    mode: str
    mechanism: str
    abi: int
    reason: str
    read_only: tuple[str, ...] = ()
    read_write: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> tuple[int, str]:
    """The kernel's Landlock ABI version and, when it is 0 (unusable), the reason."""
    if sys.platform != "linux":
        return 0, f"Landlock exists only on Linux (this is {sys.platform})"
    if platform.machine().lower() not in _ARCHES:
        return 0, f"Landlock syscall numbers are not known for architecture {platform.machine()}"
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(ctypes.c_long(_SYSCALLS["create_ruleset"]), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(_CREATE_RULESET_VERSION))
    if abi >= 1:
        return int(abi), ""
    err = ctypes.get_errno()
    if err == errno.ENOSYS:
        return 0, "the kernel has no Landlock support (Linux >= 5.13 built with CONFIG_SECURITY_LANDLOCK)"
    if err == errno.EOPNOTSUPP:
        return 0, "Landlock is built into the kernel but not enabled (add 'landlock' to the lsm= boot parameter)"
    return 0, f"the Landlock version query failed: {os.strerror(err)} (errno {err}; a seccomp filter may block it)"


def runtime_paths(*, exclude_containing: Sequence[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(read_only, read_write)`` paths that the running interpreter needs: system folders, the Python
    installation (``sys.prefix`` and ``sys.base_prefix``), every existing ``sys.path`` entry and this
    ``benchmark`` package's folder.

    A ``sys.path`` entry that contains the current folder or one of ``exclude_containing`` is left out
    (``''``, the repository root, ``/``): granting a folder grants everything beneath it, such as the
    repository's ``data/`` and ``results/``.
    """
    anchors = _anchors([os.getcwd(), *exclude_containing])
    read_only = [*SYSTEM_READ_ONLY, *_prefixes(), str(Path(__file__).resolve().parents[1])]  # the benchmark package
    for entry in sys.path:
        if entry and os.path.exists(entry) and not _contains_any(entry, anchors):  # path hooks are not paths
            read_only.append(entry)
    return tuple(read_only), SYSTEM_READ_WRITE


def enter_sandbox(*, read_only: Sequence[str], read_write: Sequence[str], mode: str,
                  setting: str = "evaluate.sandbox") -> SandboxStatus:
    """Confine the calling process to :func:`runtime_paths` plus ``read_only`` and ``read_write``.

    Irreversible for this process and its children. ``mode`` is one of :data:`MODES`. When confinement is
    impossible (not Linux, no Landlock, threads that cannot be stopped, or a read-only system or Python
    folder that contains one of the ``read_only`` paths, such as a repository under ``/usr``, so that
    granting it would expose the repository's ``data/``),
    ``"auto"`` leaves the process unconfined and the returned status says why, and ``"required"`` raises
    :class:`SandboxError` naming ``setting``. Paths that do not exist are skipped. Call it before
    importing torch.
    """
    if mode not in MODES:
        raise ValueError(f"{setting} must be one of {', '.join(MODES)}; got {mode!r}")
    if mode == "off":
        return SandboxStatus(False, mode, "none", 0, f"{setting} is 'off'")
    explicit = [*read_only, *read_write]
    system_ro, system_rw = runtime_paths(exclude_containing=explicit)
    abi, reason = landlock_abi()
    if abi == 0:
        return _unconfined(mode, abi, reason, setting)
    anchors = _anchors(read_only)
    for path in (*SYSTEM_READ_ONLY, *_prefixes()):
        if os.path.exists(path) and _contains_any(path, anchors):
            inner = next(a for a in anchors if _contains_any(path, [a]))
            return _unconfined(mode, abi, f"{path} must stay readable for Python to run, but it contains {inner} "
                               "and so everything beside it; move the repository out of it", setting)
    ro = _existing([*system_ro, *read_only])
    rw = _existing([*system_rw, *read_write])
    _stop_blas_threads()
    threads = _thread_count()
    if threads != 1:
        return _unconfined(mode, abi, f"the process runs {threads} threads and Landlock would confine only "
                           "the calling one; enter the sandbox before importing torch or starting threads",
                           setting)
    try:
        _restrict(abi, ro, rw)
    except OSError as exc:
        return _unconfined(mode, abi, f"Landlock refused the rules: {exc}", setting)
    return SandboxStatus(True, mode, "landlock", abi, "", tuple(ro), tuple(rw))


def _prefixes() -> tuple[str, ...]:
    return sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix


def _anchors(paths: Sequence[str]) -> list[Path]:
    return [Path(p).resolve() for p in paths if p]


def _contains_any(path: str, anchors: Sequence[Path]) -> bool:
    """Whether the folder ``path`` is one of ``anchors`` or above one of them."""
    p = Path(path).resolve()
    return any(a == p or p in a.parents for a in anchors)


def _unconfined(mode: str, abi: int, reason: str, setting: str) -> SandboxStatus:
    if mode == "required":
        raise SandboxError(f"cannot confine the submission's worker to its allowed files: {reason}. "
                           f"{setting} is 'required'; set it to 'auto' to run unconfined (the run records "
                           "that it was not confined) or run on a Linux kernel with Landlock enabled")
    return SandboxStatus(False, mode, "none", abi, reason)


def _existing(paths: Sequence[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        if p and os.path.exists(p):
            resolved = os.path.realpath(p)
            if resolved not in out:
                out.append(resolved)
    return out


def _thread_count() -> int:
    with open("/proc/self/status") as f:
        match = re.search(r"^Threads:\s*(\d+)", f.read(), re.MULTILINE)
    return int(match.group(1)) if match else -1


def _stop_blas_threads() -> None:
    """Join OpenBLAS's idle worker threads (numpy starts them at import); OpenBLAS restarts them, inside
    the sandbox, the next time it needs them. This is the call OpenBLAS itself makes before ``fork``."""
    with open("/proc/self/maps") as f:
        libs = {fields[-1] for fields in map(str.split, f) if len(fields) == 6 and "openblas" in fields[-1].lower()}
    for lib in sorted(libs):
        try:
            shutdown = ctypes.CDLL(lib).blas_thread_shutdown_
        except (OSError, AttributeError):  # not a shared library, or an OpenBLAS without a thread server
            continue
        shutdown.restype = ctypes.c_int
        shutdown()


def _restrict(abi: int, read_only: Sequence[str], read_write: Sequence[str]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)

    def call(name: str, *args) -> int:
        ret = libc.syscall(ctypes.c_long(_SYSCALLS[name]), *args)
        if ret < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_{name}: {os.strerror(err)}")
        return ret

    handled = _ABI1_ALL | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0) | (_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, 0, _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = call("create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    try:
        for paths, rights in ((read_only, _READ_ONLY_RIGHTS), (read_write, handled)):
            for path in paths:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    allowed = rights if os.path.isdir(path) else rights & _FILE_RIGHTS
                    rule = _PathBeneathAttr(allowed & handled, fd)
                    call("add_rule", ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule),
                         ctypes.c_uint32(0))
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:  # required to restrict without CAP_SYS_ADMIN
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
        call("restrict_self", ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
