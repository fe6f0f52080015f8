"""Append-only journal writer: one JSON event per line, fsynced, chained, scrubbed, sealed.

Decisions:
- ``append`` returns only once the event is on disk (``disk.AppendFile``: whole lines,
  short writes finished, fsynced, a reserve for a full disk). When it cannot, it raises
  ``errors.JournalWriteFailed`` and the file still ends on a complete line (or the writer
  is broken and refuses more); the caller keeps its outcome in memory and carries on
  (a revert never waits for the journal).
- Every line carries ``prev`` (the previous line's chain value) and its own ``hash``
  (``chain``): sha256 by default, HMAC-SHA256 when a key is given. The first event names
  the chain kind, never the key. ``head`` is the last line written (seq and hash), for
  callers that keep it outside the journal (lock registry, reports) to detect truncation.
- ``seal`` appends ``journal-sealed`` (event count, head hash, how many events could not
  be written); leaving the ``with`` block seals. A journal may be reopened after a seal
  (``gameday revert``) and is sealed again when that writer closes.
- Payloads are made plain JSON first and then redacted (secret keys, configured secret
  values, URL userinfo), so nothing that reaches the disk or a listener escapes it. The
  ``experiment`` of ``run-started`` gets ``document_sha256``, the digest of the document
  exactly as written, so ``gameday revert`` can tell an edited document.
- Reopening a journal cuts a torn tail away and records that (``journal-repaired``).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runner import errors
from runner.journal import chain, disk, events, redact, tail

Listener = Callable[[events.Event], None]


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
        key: bytes | None = None,
        scrub: Iterable[str] = (),
        reserve_bytes: int = disk.RESERVE_BYTES,
        ops: disk.Ops | None = None,
    ) -> None:
        self.path = Path(path)
        self._now = now
        self._listeners = list(listeners or [])
        self._scrub = redact.Scrubber(scrub)
        self._lock = threading.RLock()
        self.failure: errors.JournalWriteFailed | None = None
        self.unwritten = 0
        self._last_type: str | None = None
        self._file = disk.AppendFile(self.path, reserve_bytes=reserve_bytes, ops=ops)
        try:
            found = tail.resume(self.path, self._file, key)
        except BaseException:
            self._file.close()
            raise
        self.chain: chain.Chain = found.chain
        self.head: chain.Head | None = found.head
        self._last_type = found.last_type
        if found.cut:
            self.append(events.JOURNAL_REPAIRED, dropped_bytes=found.cut,
                        note="a torn last line (an event cut by a crash) was removed")

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def next_seq(self) -> int:
        return 0 if self.head is None else self.head.seq + 1

    @property
    def broken(self) -> str | None:
        """Why nothing more can be appended, or None while appends may succeed."""
        return self._file.broken

    @property
    def reserved(self) -> int:
        """Bytes reserved at open for the records of a full disk (0: none could be)."""
        return self._file.reserved

    @property
    def reserve_released(self) -> bool:
        return self._file.reserve_released

    @property
    def sealed(self) -> bool:
        """Whether the last event written is a seal."""
        return self._last_type == events.JOURNAL_SEALED

    def append(self, type_: str, **payload: Any) -> events.Event:
        """Write one event durably and return it as written (scrubbed, with its hash)."""
        reserved = events.ENVELOPE_FIELDS.intersection(payload)
        if reserved:
            raise ValueError(f"journal payload fields {sorted(reserved)} are envelope fields")
        clean: dict[str, Any] = redact.redact(payload, scrub=self._scrub)
        with self._lock:
            event = self._write(type_, clean)
        for listener in self._listeners:
            listener(event)
        return event

    def _write(self, type_: str, clean: dict[str, Any]) -> events.Event:
        ts = self._now()
        event: events.Event = {
            "seq": self.next_seq,
            "ts": round(ts, 6),
            "time": _iso(ts),
            "type": type_,
            "prev": events.GENESIS if self.head is None else self.head.hash,
        }
        if self.head is None and self.chain.kind != chain.LEGACY:
            event["chain"] = self.chain.kind
        event.update(clean)
        if type_ == events.RUN_STARTED and isinstance(clean.get("experiment"), dict):
            event["document_sha256"] = chain.document_sha256(clean["experiment"])
        body = json.dumps(event, separators=(",", ":"), default=repr).encode()
        line, value = self.chain.frame(body)
        try:
            self._file.append(line + b"\n")
        except errors.JournalWriteFailed as exc:
            self.unwritten += 1
            self.failure = self.failure or exc
            raise
        if self.chain.kind != chain.LEGACY:
            event["hash"] = value
        self.head = chain.Head(event["seq"], value)
        self._last_type = type_
        return event

    def seal(self) -> events.Event:
        """Append ``journal-sealed``: the count of events before it and the head's hash."""
        with self._lock:
            if self.head is None:
                raise errors.JournalWriteFailed(str(self.path), "nothing to seal",
                                                f"Cannot seal the empty journal {self.path}.")
            payload: dict[str, Any] = {"events": self.head.seq + 1, "head": self.head.hash}
            if self.reserve_released:
                payload["reserve_released"] = True
            if self.unwritten:
                payload["unwritten"] = self.unwritten
            event = self._write(events.JOURNAL_SEALED, payload)
        for listener in self._listeners:
            listener(event)
        return event

    def close(self, *, seal: bool = False) -> None:
        """Close the file (sealing first if asked; a failed seal is kept in ``failure``)."""
        with self._lock:
            if seal and self.head is not None and not self.sealed and self.broken is None:
                # A failed seal is recorded in self.failure by _write; closing never raises.
                with contextlib.suppress(errors.JournalWriteFailed):
                    self.seal()
            self._file.close()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(seal=True)

