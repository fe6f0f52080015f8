"""The emergency stop on this machine: a stop file under ``$GAMEDAY_HOME``, and its sentinel.

``gameday stop`` writes ``$GAMEDAY_HOME/stop`` (JSON: who, when, why, host, pid; written
to a temporary file, fsynced, renamed), ``gameday stop --clear`` removes it. Decisions:

- Every run consults ``StopSentinel`` at every checkpoint (each tick, before each fault,
  each slice of a sleep or pause, at most a second apart): a live run aborts and reverts
  within a tick, exits 4, and its journal says "stopped by <who> at <when>". New runs and
  game days refuse before they build anything while the file exists (exit 3).
- The file *is* the switch; its content is only the explanation. A stop file that cannot
  be read or parsed (half written by hand, wrong permissions) still stops everything: it
  just says less. Failing safe is the point of an emergency stop.
- A ``stat`` per checkpoint costs microseconds: no daemon, no socket, nothing that can be
  down when the button is pressed.
- Scope: every gameday process sharing this ``$GAMEDAY_HOME`` (default ``~/.gameday``,
  see ``locks.home``). A team machine sets ``GAMEDAY_HOME`` to one shared directory. In a
  cluster the same switch is a ConfigMap (``stop_k8s``).
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from runner import atomic, errors, ports
from runner.adapters import locks

FILE_NAME = "stop"
CLEAR_HINT = "`gameday stop --clear` lifts it"


class StopRecord(TypedDict):
    """The stop file's content (persisted): who pressed the button, when and why."""

    by: str
    at: float
    reason: str
    host: str
    pid: int


def stop_path() -> Path:
    return locks.home() / FILE_NAME


def who() -> str:
    """``user@host`` of this process, for the record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def read(path: Path | None = None) -> StopRecord | None:
    """The stop in force, or None. An unreadable or garbled stop file is still a stop."""
    target = path or stop_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        return StopRecord(by="unknown (the stop file cannot be read: "
                          f"{exc.strerror or exc})", at=0.0, reason="", host="", pid=0)
    try:
        data = json.loads(text)
        return StopRecord(by=str(data["by"]), at=float(data["at"]),
                          reason=str(data.get("reason") or ""), host=str(data.get("host", "")),
                          pid=int(data.get("pid", 0)))
    except (ValueError, KeyError, TypeError):
        return StopRecord(by=f"unknown (the stop file {target} is not gameday's JSON)",
                          at=0.0, reason="", host="", pid=0)


def describe(record: StopRecord) -> str:
    """``emergency stop by alice@box at 2026-11-03 14:02:11 UTC: <reason>``."""
    when = f" at {_iso(record['at'])}" if record["at"] else ""
    why = f": {record['reason']}" if record["reason"] else ""
    return f"emergency stop by {record['by']}{when}{why}"


def engage(reason: str = "", *, by: str | None = None, now: Callable[[], float] = time.time,
           path: Path | None = None) -> tuple[StopRecord, bool]:
    """Press the button; ``(record in force, newly engaged)``. An existing stop is kept as
    it is (its first author and time are what a reviewer needs)."""
    target = path or stop_path()
    existing = read(target)
    if existing is not None:
        return existing, False
    record = StopRecord(by=by or who(), at=now(), reason=reason, host=socket.gethostname(),
                        pid=os.getpid())
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_json(target, record, sync_dir=True)
    except OSError as exc:
        raise errors.RunnerError(
            f"Cannot write the stop file {target}: {exc.strerror or exc}. Set "
            f"{locks.ENV_HOME} to a writable directory shared by the runs to stop."
        ) from exc
    return record, True


def clear(path: Path | None = None) -> StopRecord | None:
    """Lift the stop; the record that was in force (None: there was none)."""
    target = path or stop_path()
    record = read(target)
    try:
        target.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise errors.RunnerError(
            f"Cannot remove the stop file {target}: {exc.strerror or exc}; remove it by hand."
        ) from exc
    return record


def refuse_if_stopped(what: str = "run", path: Path | None = None) -> None:
    """Raise ``errors.RefusedError`` (exit 3) while a stop is in force."""
    record = read(path)
    if record is not None:
        raise errors.RefusedError(
            f"An {describe(record)} is in force ({path or stop_path()}). No {what} starts "
            f"until it is lifted: {CLEAR_HINT}. Nothing was injected."
        )


class StopSentinel:
    """``ports.Sentinel``: halts the run at the first checkpoint after the stop file appears."""

    name = "emergency-stop"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or stop_path()

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        record = read(self.path)
        if record is None:
            return None
        return ports.Halt(kind="stop", reason=f"stopped by the {describe(record)}",
                          broken=False, evidence={"switch": str(self.path), **record})
