"""One streaming pass over a journal: integrity, head hash, the events, the ticks in columns.

Decisions:
- The journal is read once, line by line, and never held whole: tick events (the bulk of a
  long run) are folded into ``series.Series`` columns as they are parsed and dropped; every
  other event is kept as is (a few hundred at most), in a ``reader.Journal`` without the
  ticks that views such as the Chaos Toolkit journal read like any journal.
- A broken journal still gets its reports: a line that is not an event, a sequence gap or
  a hash that does not link is an integrity problem named in every report, never an
  exception that leaves the reviewer with nothing. Only a torn last line (a crash
  mid-write) is ignored, and that is said too.
- The head (the last line's sha256 and its chain value) is part of the scan, so every
  report records the head outside the journal: a later truncation shows against it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import orjson

from runner import errors
from runner.journal import events as ev
from runner.journal import integrity, reader, schema
from runner.report import probes, series

MAX_PROBLEMS = 50


@dataclasses.dataclass(frozen=True)
class Head:
    """The journal's last line: its sequence number, its sha256 and its chain value."""

    seq: int | None
    line: int
    sha256: str
    chain: str | None  # the line's own ``hash`` field, when the journal carries one


@dataclasses.dataclass(frozen=True)
class Scan:
    path: Path
    record: reader.Journal  # every event but the ticks (the last one kept), no lines
    series: series.Series
    probes: tuple[probes.ProbeInfo, ...]
    integrity: tuple[str, ...]
    torn_tail: bool
    head: Head | None
    seal: dict[str, Any] | None


def resolve(path: Path | str) -> Path:
    """The journal file for a path (a run directory means its journal.jsonl); odd files
    (FIFO, device, directory without a journal) are refused as the journal reader does."""
    path = reader.locate(path)
    size = path.stat().st_size
    if size > reader.MAX_JOURNAL_BYTES:
        raise errors.InputError(f"{path} is {size} bytes, too large for a journal.")
    if size == 0:
        raise errors.InputError(f"{path} is empty: no event was ever written to it; there is "
                                "nothing to report.")
    return path


class _Lines(Sequence[bytes]):
    """The journal's complete lines, read again from disk on demand (never held)."""

    def __init__(self, path: Path, count: int) -> None:
        self.path = path
        self.size = count

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        lines = list(self)
        return lines[index]

    def __iter__(self) -> Iterator[bytes]:
        for number, (line, complete) in enumerate(_lines(self.path)):
            if number >= self.size or not complete:
                return
            yield line


def _lines(path: Path) -> Iterator[tuple[bytes, bool]]:
    """Each line without its newline, and whether it was complete (False: a torn tail)."""
    try:
        with path.open("rb") as fh:
            for raw in fh:
                if raw.endswith(b"\n"):
                    yield raw[:-1], True
                else:
                    yield raw, False
    except PermissionError as exc:
        raise errors.InputError(f"Cannot read the journal {path}: permission denied.") from exc


def _parse(line: bytes) -> Any:
    """orjson (3× the stdlib's speed on tick lines); the stdlib for what orjson refuses
    but Python's json writes (NaN, Infinity, huge integers)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            return json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return None


def _head(event: ev.Event, number: int, line: bytes) -> Head:
    own, seq = event.get("hash"), event.get("seq")
    return Head(seq if isinstance(seq, int) else None, number, hashlib.sha256(line).hexdigest(),
                own if isinstance(own, str) else None)


_ENVELOPE = ("seq", "prev", "type", "chain", "events", "head")  # what the chain check reads


def scan(path: Path | str, *, key: bytes | None = None) -> Scan:
    """Read a journal once (and its raw lines once more for the chain check, unparsed)."""
    path = resolve(path)
    kept: list[ev.Event] = []
    envelopes: list[ev.Event] = []
    corrupt: list[str] = []
    ticks = series.Series()
    infos: tuple[probes.ProbeInfo, ...] = ()
    tail: tuple[ev.Event, int, bytes] | None = None
    torn = False
    last: ev.Event | None = None
    count = 0
    for number, (line, complete) in enumerate(_lines(path), start=1):
        if not complete:
            torn = True
            break
        count = number
        event = _parse(line)
        if not isinstance(event, dict) or "type" not in event or "seq" not in event:
            if len(corrupt) < MAX_PROBLEMS:
                corrupt.append(f"line {number}: not a gameday journal event (the line is "
                               "corrupt)")
            envelopes.append({})
            continue
        shape = schema.problems(event)  # "fault": "zero" is named, not rendered as if fine
        if shape and len(corrupt) < MAX_PROBLEMS:
            corrupt.append(f"line {number}: in a {event['type']!r} event, {shape[0]}")
        envelopes.append({k: event[k] for k in _ENVELOPE if k in event})
        tail = (event, number, line)  # the head is hashed once, after the last line
        if event["type"] == ev.TICK:
            ticks.add(event)
            last = event
            continue
        if event["type"] == ev.RUN_STARTED and not infos:
            infos = probes.from_document(event.get("experiment"))
            ticks.quantiles = {p.name: p.quantile for p in infos if p.quantile is not None}
        kept.append(event)
        last = None
    if last is not None:
        kept.append(last)
    head = _head(*tail) if tail is not None else None
    ticks.finish()
    light = reader.Journal(path=path, events=tuple(envelopes), torn_tail=torn,
                           lines=_Lines(path, count), key=key)  # type: ignore[arg-type]
    checked = integrity.check(light) if envelopes else None
    problems = tuple(corrupt) + (checked.problems if checked else ())
    seal = next((e for e in reversed(kept) if e.get("type") == ev.JOURNAL_SEALED), None)
    record = reader.Journal(path=path, events=tuple(kept), torn_tail=torn)
    return Scan(path=path, record=record, series=ticks, probes=infos,
                integrity=problems[:MAX_PROBLEMS], torn_tail=torn, head=head,
                seal=dict(seal) if seal else None)
