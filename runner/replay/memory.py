"""A replayed window's journal, held in memory and written out only when it is kept.

A week of windows is thousands of runs; serialising, scrubbing, hashing and writing
every one of their events would cost more than deciding them, and almost all of them
are thrown away (a window that held says nothing a summary does not). So a window's
run journals into ``MemoryJournal``: the engine sees a ``JournalWriter`` (same calls:
``append``, ``head``, ``seal``, ``sealed``, ``broken``, ``path``), listeners get every
event as the engine wrote it, and the events are kept in order. A window worth keeping
(it would have aborted, or it covers an incident) is then ``write``-n through a real
``JournalWriter`` -- scrubbed, chained, sealed, with each event's own timestamp -- so
``gameday report`` and ``gameday journal show`` read it like any other journal. The
events already happened, so no line needs to be durable before the next is written: the
file is fsynced once, when complete (hundreds of fsyncs were most of a replay's I/O).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner.journal import chain, disk, events, writer

Listener = Callable[[Mapping[str, Any]], None]


class MemoryJournal(writer.JournalWriter):
    """Records events in memory; nothing touches the disk until ``write``."""

    def __init__(self, path: Path, *, now: Callable[[], float],
                 listeners: list[Listener] | None = None) -> None:
        # Deliberately not JournalWriter.__init__: no file is opened.
        self.path = Path(path)
        self._now = now
        self._listeners = list(listeners or [])
        self.failure = None
        self.unwritten = 0
        self.head: chain.Head | None = None
        self.recorded: list[tuple[float, str, dict[str, Any]]] = []
        self._sealed = False

    @property
    def broken(self) -> str | None:
        return None

    @property
    def reserved(self) -> int:
        return 0

    @property
    def reserve_released(self) -> bool:
        return False

    @property
    def sealed(self) -> bool:
        return self._sealed

    def append(self, type_: str, **payload: Any) -> events.Event:
        ts = self._now()
        seq = len(self.recorded)
        self.recorded.append((ts, type_, payload))
        event: events.Event = {"seq": seq, "ts": ts, "type": type_, **payload}
        self.head = chain.Head(seq, "")
        self._sealed = type_ == events.JOURNAL_SEALED
        for listener in self._listeners:
            listener(event)
        return event

    def seal(self) -> events.Event:
        return self.append(events.JOURNAL_SEALED, events=len(self.recorded), head="")

    def close(self, *, seal: bool = False) -> None:
        if seal and not self._sealed and self.recorded:
            self.seal()

    def write(self, path: Path, *, scrub: tuple[str, ...] = ()) -> Path:
        """Write the recorded events as a real journal (chained, scrubbed, sealed)."""
        clock = [0.0]
        with writer.JournalWriter(path, now=lambda: clock[0], scrub=scrub,
                                  reserve_bytes=0, ops=_OneFsync()) as out:
            for ts, type_, payload in self.recorded:
                if type_ == events.JOURNAL_SEALED:
                    continue  # the real writer seals with the real head
                clock[0] = ts
                out.append(type_, **payload)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)  # the whole file, once
        finally:
            os.close(fd)
        return path


class _OneFsync(disk.Ops):
    """The disk calls of a journal written after the fact: no fsync per line."""

    def fsync(self, fd: int) -> None:
        return None
