"""Journal reader: events back from disk, ignoring only a torn last line.

A line that does not end in a newline is the only thing a crash can leave half
written, so it is the only thing ignored. A malformed line anywhere else is corruption,
reported with its line number. ``verify`` checks the sequence numbers and the hash chain
(tamper evidence) and returns human sentences, empty when all is well.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from runner import errors
from runner.journal import events as ev

MAX_JOURNAL_BYTES = 512 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Journal:
    """A journal as read: its events, and whether a torn last line was ignored."""

    path: Path
    events: tuple[ev.Event, ...]
    torn_tail: bool
    hashes: tuple[str, ...]  # sha256 of each event's line, same order

    def of_type(self, type_: str) -> list[ev.Event]:
        return [e for e in self.events if e.get("type") == type_]

    def first(self, type_: str) -> ev.Event | None:
        return next((e for e in self.events if e.get("type") == type_), None)

    def last(self, type_: str) -> ev.Event | None:
        return next((e for e in reversed(self.events) if e.get("type") == type_), None)


def read(path: Path | str) -> Journal:
    """Read a journal file; raise ``errors.InputError`` with a clear message if unusable."""
    path = Path(path)
    try:
        if path.is_dir():
            candidate = path / "journal.jsonl"
            if not candidate.exists():
                raise errors.InputError(
                    f"{path} is a directory without a journal.jsonl. Pass the journal file "
                    "(reports/<run-id>/journal.jsonl) or its run directory."
                )
            path = candidate
        size = path.stat().st_size
        if size > MAX_JOURNAL_BYTES:
            raise errors.InputError(f"{path} is {size} bytes, too large for a journal.")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise errors.InputError(
            f"No journal at {path}. Runs write theirs to reports/<run-id>/journal.jsonl."
        ) from exc
    except PermissionError as exc:
        raise errors.InputError(f"Cannot read the journal {path}: permission denied.") from exc
    torn = bool(data) and not data.endswith(b"\n")
    lines = data.split(b"\n")
    if torn or lines[-1] == b"":
        lines = lines[:-1]
    parsed: list[ev.Event] = []
    hashes: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or "type" not in event or "seq" not in event:
                raise ValueError("not an event")
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.InputError(
                f"{path}, line {number}: not a gameday journal event (the file is corrupt or "
                "not a journal). Only a torn last line is ignored; this line is not the last."
            ) from exc
        parsed.append(event)
        hashes.append(hashlib.sha256(line).hexdigest())
    return Journal(path=path, events=tuple(parsed), torn_tail=torn, hashes=tuple(hashes))


def verify(journal: Journal) -> list[str]:
    """Sentences describing breaks in the sequence or hash chain; empty if intact."""
    problems: list[str] = []
    prev = ev.GENESIS
    for index, event in enumerate(journal.events):
        expected_seq = index
        if event.get("seq") != expected_seq:
            problems.append(f"event {index + 1}: sequence number {event.get('seq')} "
                            f"where {expected_seq} was expected (an event is missing or extra)")
        if event.get("prev") != prev:
            problems.append(f"event {index + 1} (seq {event.get('seq')}): hash of the previous "
                            "line does not match (the journal was edited)")
        prev = journal.hashes[index]
    return problems


def payload(event: ev.Event) -> dict[str, Any]:
    """The event without its envelope fields."""
    return {k: v for k, v in event.items() if k not in {"seq", "ts", "time", "type", "prev"}}
