"""The reaper: the process between the supervisor and a worker, which owns the worker's whole process tree.

A submission may start processes of its own, in a new session or process group, double-forked, or left
running after its ``explain`` returns. None of them may outlive its clip: they could read later clips, use
the CPU while another submission is timed, or stay behind after the stage. The reaper makes that hold
without root:

* it marks itself a **child subreaper** (``prctl(PR_SET_CHILD_SUBREAPER)``, Linux >= 3.4): every process
  orphaned inside the worker's tree (its parent exited, whatever session or group it moved to) is
  re-parented to the reaper instead of to ``init``, so the reaper can always find it;
* it starts the worker, with the worker's standard output and error going into a pipe that the reaper drains
  (the first and last :data:`KEEP_BYTES` bytes are kept, the rest counted and dropped: a flood costs the
  submission its own CPU time, never the stage log or the disk);
* on the supervisor's ``sweep`` (after every clip) it kills every descendant of the worker and every orphan,
  and on ``stop`` (the run is over, failed or timed out) the worker too, reaping them all; if the supervisor
  disappears (its control pipe closes) it stops the same way.

The worker confines itself with Landlock (:mod:`benchmark.harness.sandbox`); from Landlock ABI 6 on it also
cannot signal the reaper or the supervisor, which stay outside its domain. Where the kernel is not Linux, the
reaper still stops the worker and its direct children, but orphans escape (see ``submissions/README.md``).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

__all__ = ["KEEP_BYTES", "CapturedOutput", "reaper_main"]

KEEP_BYTES = 16 * 1024
"""How much of the worker's output is kept: this many bytes from the start and this many from the end."""
_PR_SET_CHILD_SUBREAPER = 36
_SWEEP_DEADLINE_S = 10.0


@dataclass(frozen=True)
class CapturedOutput:
    """The worker's standard output and error: ``head`` and ``tail`` text and the total ``bytes`` written."""

    head: str
    tail: str
    bytes: int

    @property
    def truncated(self) -> bool:
        return self.bytes > len(self.head.encode()) + len(self.tail.encode())

    def excerpt(self, limit: int = 2000) -> str:
        """The last ``limit`` characters (with a note of how much was dropped), for logs and failure records."""
        text = self.tail if self.tail else self.head
        note = f"[{self.bytes} bytes of output; the last {min(limit, len(text))} characters]\n" if self.bytes else ""
        return note + text[-limit:]


class _Drain(threading.Thread):
    """Reads a pipe to its end, keeping the first and last ``KEEP_BYTES`` bytes."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd, self.head, self.tail, self.total = fd, bytearray(), bytearray(), 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = KEEP_BYTES - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[: max(0, len(self.tail) - KEEP_BYTES)]
        os.close(self.fd)

    def result(self) -> CapturedOutput:
        return CapturedOutput(self.head.decode(errors="replace"), self.tail.decode(errors="replace"), self.total)


def _set_subreaper() -> bool:
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _parents() -> dict[int, int]:
    """``{pid: parent pid}`` of every process visible in ``/proc``."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: split after its closing parenthesis
        fields = stat[stat.rfind(")") + 2:].split()
        out[int(entry)] = int(fields[1])
    return out


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone
    return stat[stat.rfind(")") + 2:].split()[0] in ("Z", "X")


def _reap(me: int, keep: int | None) -> None:
    """Collect the exit status of the reaper's finished children, except ``keep`` (its Process object waits
    for the worker)."""
    for pid, ppid in _parents().items():
        if ppid == me and pid != keep:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)


def _sweep(keep: int | None) -> int:
    """SIGKILL every live descendant of the reaper except ``keep`` (the worker itself, between clips; its own
    descendants are not spared) and reap them. Returns how many processes were killed."""
    if sys.platform != "linux":
        return 0
    me, killed, deadline = os.getpid(), set(), time.monotonic() + _SWEEP_DEADLINE_S
    while time.monotonic() < deadline:
        alive = {pid for pid in _descendants(me, _parents()) if pid != keep and not _zombie(pid)}
        if not alive:
            break
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed |= alive
        _reap(me, keep)
        time.sleep(0.005)
    _reap(me, keep)
    return len(killed)


def launch(control_fd: int, worker_fd: int) -> subprocess.Popen:
    """Start the reaper as ``python -m benchmark.harness.reaper`` holding the two pipe ends ``control_fd`` and
    ``worker_fd`` (it owns nothing of the caller's ``__main__``: a script, a notebook or a Ray task can host the
    supervisor). The supervisor then sends ``("run", worker_target, worker_args, env)`` on the control pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "benchmark.harness.reaper", str(control_fd), str(worker_fd)],
        pass_fds=(control_fd, worker_fd), stdin=subprocess.DEVNULL, close_fds=True,
    )


def reaper_main(control: Connection, worker_end: Connection) -> None:  # pragma: no cover - the reaper process
    """Receive ``("run", worker_target, worker_args, env)`` on ``control``, start ``worker_target(worker_end,
    *worker_args)`` in a spawned process and own its tree (see the module docstring).

    ``control`` then carries ``("sweep",)`` / ``("stop",)`` from the supervisor and ``("started", pid,
    subreaper)``, ``("swept", n)``, ``("stopped", n, exitcode, CapturedOutput)`` back.
    """
    try:
        _, worker_target, worker_args, env = control.recv()
    except (EOFError, OSError):
        return
    worker_args = (worker_end, *worker_args)
    subreaper = _set_subreaper()
    read_fd, write_fd = os.pipe()
    saved = os.dup(1), os.dup(2)
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    for key, value in env.items():
        os.environ[key] = value
    ctx = mp.get_context("spawn")
    worker = ctx.Process(target=worker_target, args=worker_args, daemon=False)
    worker.start()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    for fd in saved:
        os.close(fd)
    for arg in worker_args:  # our copy of the worker's pipe end: the worker holds its own
        if isinstance(arg, Connection):
            arg.close()
    drain = _Drain(read_fd)
    drain.start()
    control.send(("started", worker.pid, subreaper))
    stopped = 0
    try:
        while True:
            try:
                message = control.recv()
            except (EOFError, OSError):
                break  # the supervisor is gone: stop everything
            if message[0] == "sweep":
                control.send(("swept", _sweep(worker.pid if worker.is_alive() else None)))
            elif message[0] == "stop":
                break
    finally:
        if worker.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        stopped = _sweep(None)
        drain.join(5)
        with contextlib.suppress(OSError, BrokenPipeError):
            control.send(("stopped", stopped, worker.exitcode, drain.result()))
        control.close()


if __name__ == "__main__":  # pragma: no cover - `python -m benchmark.harness.reaper CONTROL_FD WORKER_FD`
    # run the imported module's function, so that what it sends back pickles as benchmark.harness.reaper.*
    from benchmark.harness import reaper

    reaper.reaper_main(Connection(int(sys.argv[1])), Connection(int(sys.argv[2])))
