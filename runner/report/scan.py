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
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from runner import errors
from runner.journal import events as ev
from runner.journal import reader
from runner.report import probes, series

SEALED = "journal-sealed"
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
    record: reader.Journal  # every event but the ticks (the last one kept)
    series: series.Series
    probes: tuple[probes.ProbeInfo, ...]
    integrity: tuple[str, ...]
    torn_tail: bool
    head: Head | None
    seal: dict[str, Any] | None


def resolve(path: Path | str) -> Path:
    """The journal file for a path (a run directory means its journal.jsonl)."""
    path = Path(path)
    if path.is_dir():
        candidate = path / "journal.jsonl"
        if not candidate.exists():
            raise errors.InputError(
                f"{path} is a directory without a journal.jsonl. Pass the journal file "
                "(reports/<run-id>/journal.jsonl) or its run directory.")
        path = candidate
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise errors.InputError(
            f"No journal at {path}. Runs write theirs to reports/<run-id>/journal.jsonl.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise errors.InputError(f"{path} is not a regular file, so it is not a journal. Pass "
                                "the journal.jsonl a run wrote.")
    if info.st_size > reader.MAX_JOURNAL_BYTES:
        raise errors.InputError(f"{path} is {info.st_size} bytes, too large for a journal.")
    return path


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


class _Chain:
    """The running check of sequence numbers and links, one line at a time."""

    def __init__(self) -> None:
        self.prev = ev.GENESIS
        self.index = 0
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("... more problems not listed (the journal is badly damaged)")

    def step(self, number: int, event: dict[str, Any] | None, digest: str) -> None:
        if event is None:
            self.problem(f"line {number}: not a gameday journal event (the line is corrupt)")
        else:
            if event.get("seq") != self.index:
                self.problem(f"line {number}: sequence number {event.get('seq')} where "
                             f"{self.index} was expected (an event is missing or extra)")
            if event.get("prev") != self.prev:
                self.problem(f"line {number} (seq {event.get('seq')}): the hash of the "
                             "previous line does not match (the journal was edited)")
        own = event.get("hash") if event is not None else None
        self.prev = own if isinstance(own, str) else digest
        self.index += 1


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


def scan(path: Path | str) -> Scan:
    """Read a journal once; see the module docstring."""
    path = resolve(path)
    chain = _Chain()
    kept: list[ev.Event] = []
    hashes: list[str] = []
    ticks = series.Series()
    infos: tuple[probes.ProbeInfo, ...] = ()
    head: Head | None = None
    torn = False
    last: tuple[ev.Event, str] | None = None
    for number, (line, complete) in enumerate(_lines(path), start=1):
        if not complete:
            torn = True
            break
        digest = hashlib.sha256(line).hexdigest()
        event = _parse(line)
        if not isinstance(event, dict) or "type" not in event or "seq" not in event:
            event = None
        chain.step(number, event, digest)
        if event is None:
            continue
        own = event.get("hash")
        seq = event.get("seq")
        head = Head(seq if isinstance(seq, int) else None, number, digest,
                    own if isinstance(own, str) else None)
        if event["type"] == ev.TICK:
            ticks.add(event)
            last = (event, digest)
            continue
        if event["type"] == ev.RUN_STARTED and not infos:
            infos = probes.from_document(event.get("experiment"))
            ticks.quantiles = {p.name: p.quantile for p in infos if p.quantile is not None}
        kept.append(event)
        hashes.append(digest)
        last = None
    if last is not None:
        kept.append(last[0])
        hashes.append(last[1])
    ticks.finish()
    seal = next((e for e in reversed(kept) if e.get("type") == SEALED), None)
    record = reader.Journal(path=path, events=tuple(kept), torn_tail=torn, hashes=tuple(hashes))
    return Scan(path=path, record=record, series=ticks, probes=infos,
                integrity=tuple(chain.problems), torn_tail=torn, head=head,
                seal=dict(seal) if seal else None)
