"""Run records: ``runs/<run id>.json`` under the registry, one per live or finished run.

The local lease (``locks.LocalLease``) writes them, the guard and ``gameday revert`` read
them. Decisions:
- Written atomically (temp file, fsync, rename); unreadable ones are skipped by readers.
- A holder is alive when its PID runs *and* started when the record says (``pid_start``
  from /proc), so a reused PID is not taken for the run; on another host nobody can
  tell (None), and only the lease decides.
- A dead run's pending reverts are read from its journal (``pending_of``), never from
  the record: the journal is the evidence.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from runner import atomic
from runner.journal import reader, recovery

ENV_HOME = "GAMEDAY_HOME"
ENV_LOCKS = "GAMEDAY_LOCKS"


class RunRecord(TypedDict):
    """``runs/<run id>.json``: a live or finished run, as the guard and revert read it."""

    run_id: str
    pid: int
    host: str
    journal: str
    keys: list[str]
    phase: str
    state: str  # "live" or "finished"
    head_seq: int | None
    head_hash: str | None
    renewed_at: float
    lease_expires_at: float
    lease_seconds: NotRequired[float]
    pid_start: NotRequired[int | None]  # the process's start time (clock ticks since boot)
    note: NotRequired[str]  # who closed a dead run's record, and how


LIVE = "live"
FINISHED = "finished"
REVERTED = "reverted"
REVERT_FAILED = "revert-failed"
ABANDONED = "abandoned"
#: States whose faults may still be live if the holder is gone.
OPEN_STATES = frozenset({LIVE, REVERT_FAILED})


def home() -> Path:
    configured = os.environ.get(ENV_HOME)
    return Path(configured) if configured else Path.home() / ".gameday"


def locks_dir() -> Path:
    configured = os.environ.get(ENV_LOCKS)
    return Path(configured) if configured else home() / "locks"


def runs_dir() -> Path:
    return locks_dir() / "runs"


def read_records() -> list[RunRecord]:
    """Every run record on this machine (unreadable ones are skipped)."""
    found: list[RunRecord] = []
    folder = runs_dir()
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "run_id" in data:
                found.append(data)  # type: ignore[arg-type]
    return found


def read_record(run_id: str) -> RunRecord | None:
    """The record of one run, or None when there is none (or it cannot be read)."""
    path = runs_dir() / f"{run_id}.json"
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("run_id") == run_id:
            return data  # type: ignore[return-value]
    return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_start(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, from /proc), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    fields = stat.rpartition(")")[2].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def holder_alive(record: RunRecord) -> bool | None:
    """Is the record's process still running? None: another host, cannot tell."""
    if record.get("host") != socket.gethostname():
        return None
    pid = int(record.get("pid") or 0)
    if pid <= 0 or not pid_alive(pid):
        return False
    started = record.get("pid_start")
    return started is None or process_start(pid) in (None, started)


def expired(record: RunRecord, now: float) -> bool:
    return now >= float(record.get("lease_expires_at") or 0.0)


def orphaned(record: RunRecord, now: float) -> bool:
    """A run whose lease expired and whose process is gone (or on another host)."""
    return (record.get("state") in OPEN_STATES and expired(record, now)
            and holder_alive(record) is not True)


def pending_of(record: RunRecord) -> list[dict[str, Any]] | None:
    """The fault intents of the record's journal still needing a revert.

    None when the journal is not there (nothing was recorded, so nothing can be done);
    raises ``errors.InputError`` when it is there but cannot be read.
    """
    path = Path(record["journal"])
    if not path.exists():
        return None
    return recovery.pending_reverts(reader.read(path))


def close_record(record: RunRecord, state: str, note: str, *,
                 now: Callable[[], float] = time.time) -> RunRecord:
    """Write a dead run's record with its final ``state`` and who closed it."""
    closed = record.copy()
    closed["state"], closed["note"], closed["renewed_at"] = state, note, now()
    write_record(closed)
    return closed


def close_reverted(journal: Path, note: str) -> list[str]:
    """Close the open records of dead runs that wrote ``journal``, as ``reverted``.

    Called after every pending revert of that journal was observed to succeed, also when
    the journal itself could not record it (read-only, full disk): the record is then
    the only place outside the operator's terminal that says so, and without it the next
    run on those targets would be refused over faults that are gone. Returns the run ids
    closed. A record whose holder is alive (a ``--force`` revert under a live run) stays.
    """
    mine = journal.resolve()
    closed = []
    for record in read_records():
        if (record.get("state") in OPEN_STATES and holder_alive(record) is not True
                and Path(record["journal"]).resolve() == mine):
            with contextlib.suppress(OSError):
                close_record(record, REVERTED, note)
                closed.append(record["run_id"])
    return closed


def write_record(record: RunRecord) -> None:
    """Atomically (temp file, fsync, rename) write a run record."""
    folder = runs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_json(folder / f"{record['run_id']}.json", record)
