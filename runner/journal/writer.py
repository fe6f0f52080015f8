"""Append-only journal writer: one JSON event per line, fsynced, hash-chained.

Decisions:
- Each event is written with a single ``os.write`` on an ``O_APPEND`` descriptor and then
  ``os.fsync``ed, so after a crash or SIGKILL every event that ``append`` returned from is
  on disk; at worst the last line is torn, and the reader ignores exactly that line.
- Every event carries ``seq`` and ``prev`` = sha256 of the previous line's bytes: an edit
  or a deletion anywhere breaks the chain, which ``reader.verify`` reports.
- Reopening a journal (``gameday revert``) first cuts a torn tail away and records that
  in a ``journal-repaired`` event, so new events never follow half a line.
- Payloads pass through ``redact`` before they are serialised: secrets never enter.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner import errors
from runner.journal import events, redact

Listener = Callable[[events.Event], None]


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).isoformat(timespec="milliseconds")


class JournalWriter:
    """Appends events to a journal file. Thread-safe; one writer per file at a time."""

    def __init__(
        self,
        path: Path,
        *,
        now: Callable[[], float],
        listeners: list[Listener] | None = None,
    ) -> None:
        self.path = Path(path)
        self._now = now
        self._listeners = list(listeners or [])
        self._lock = threading.Lock()
        self._seq, self._prev, repaired = self._scan_tail()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise errors.InputError(
                f"Cannot write the journal {self.path}: {exc.strerror}. Choose a writable "
                "directory with --journal-dir, or fix the permissions."
            ) from exc
        self._fsync_dir()
        if repaired:
            self.append(events.JOURNAL_REPAIRED, dropped_bytes=repaired,
                        note="a torn last line (an event cut by a crash) was removed")

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def next_seq(self) -> int:
        return self._seq

    def append(self, type_: str, **payload: Any) -> events.Event:
        """Write one event durably and return it as written."""
        clean = redact.redact(payload)
        with self._lock:
            ts = self._now()
            event: events.Event = {
                "seq": self._seq,
                "ts": round(ts, 6),
                "time": _iso(ts),
                "type": type_,
                "prev": self._prev,
                **clean,
            }
            line = json.dumps(event, separators=(",", ":"), sort_keys=False,
                              default=_json_default).encode()
            os.write(self._fd, line + b"\n")
            os.fsync(self._fd)
            self._prev = _line_hash(line)
            self._seq += 1
        for listener in self._listeners:
            listener(event)
        return event

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _scan_tail(self) -> tuple[int, str, int]:
        """(next seq, hash of last complete line, bytes of torn tail cut away)."""
        if not self.path.exists():
            return 0, events.GENESIS, 0
        data = self.path.read_bytes()
        cut = 0
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            cut = len(data) - keep
            with open(self.path, "r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            data = data[:keep]
        lines = data.splitlines()
        if not lines:
            return 0, events.GENESIS, cut
        last = lines[-1]
        try:
            seq = int(json.loads(last)["seq"]) + 1
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.InputError(
                f"The journal {self.path} ends with a line that is not a gameday event; "
                "refusing to append to it. Check that the path names a gameday journal."
            ) from exc
        return seq, _line_hash(last), cut

    def _fsync_dir(self) -> None:
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _json_default(value: object) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return repr(value)
