"""Start and stop the sandbox's processes by PID and process group, safely.

Decisions:
- Each process starts in its own session (``start_new_session=True``): it outlives the
  ``gameday sandbox up`` command, a terminal Ctrl-C does not reach it, and it leads a
  process group that also holds its children (the supervisor's replicas). Stopping the
  group stops the replicas even when the supervisor itself was SIGKILLed.
- A PID alone is never trusted: before signalling, the command line (``/proc``) must
  contain the record's marker, so a recycled PID of an unrelated process is left alone.
- Stopping is SIGTERM, a bounded wait, then SIGKILL; a process already gone is success.
- Our own children are kept and reaped, so a dead one is not a zombie that still exists.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from runner import errors

#: Our own live children by PID, so they can be reaped (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}
_PROC = Path("/proc")


def package_root() -> Path:
    """The directory that holds the ``runner`` package (put on the children's PYTHONPATH)."""
    return Path(__file__).resolve().parent.parent.parent


def spawn_module(module: str, args: Sequence[str], *, log: Path, cwd: Path) -> int:
    """Run ``python -m module args`` in its own session, output appended to ``log``."""
    env = dict(os.environ)
    root = str(package_root())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                start_new_session=True)
    _children[proc.pid] = proc
    return proc.pid


def exit_code(pid: int) -> int | None:
    """Our child's exit code if it has exited, else None (also for non-children)."""
    child = _children.get(pid)
    return None if child is None else child.poll()


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]


@atexit.register
def _reap_all() -> None:
    """Reap children that exited unnoticed, while the interpreter can still do it."""
    for pid in list(_children):
        _reap(pid)


def _cmdline(pid: int) -> str | None:
    """The command line of ``pid`` ('' for a zombie), or None when /proc cannot tell."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except FileNotFoundError:
        return ""
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def alive(pid: int, marker: str) -> bool:
    """Whether ``pid`` runs and is what we started (its command line holds ``marker``)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours
    if not _PROC.is_dir():
        return True  # no /proc (macOS): trust the PID
    cmdline = _cmdline(pid)
    return cmdline is None or (bool(cmdline) and marker in cmdline)


def group_members(pgid: int, marker: str) -> list[int]:
    """Live processes of process group ``pgid`` whose command line holds ``marker``."""
    if not _PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except OSError:
            return []
        return [pgid]
    members: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # Fields after the ")" that ends the command name: state, ppid, pgrp, ...
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) < 3 or fields[0] == "Z" or int(fields[2]) != pgid:
            continue
        pid = int(entry.name)
        cmdline = _cmdline(pid)
        if cmdline and marker in cmdline:
            members.append(pid)
    return members


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def stop_group(pgid: int, marker: str, *, timeout: float = 5.0) -> bool:
    """Stop process group ``pgid`` (SIGTERM, wait, SIGKILL). False if nothing of it ran."""
    _reap(pgid)
    if not group_members(pgid, marker):
        return False
    _signal_group(pgid, signal.SIGTERM)
    for signum, bound in ((signal.SIGKILL, timeout), (None, 5.0)):
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            _reap(pgid)
            if not group_members(pgid, marker):
                _reap(pgid)  # it may have become a zombie just now
                return True
            time.sleep(0.05)
        if signum is not None:
            _signal_group(pgid, signum)
    _reap(pgid)
    left = group_members(pgid, marker)
    if left:
        raise errors.PlatformError(
            f"Processes {', '.join(map(str, left))} (group {pgid}) survived SIGKILL for 5 s; "
            "stop them by hand."
        )
    return True
