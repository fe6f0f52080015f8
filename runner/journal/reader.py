"""Journal reader: events back from disk, ignoring only a torn last line, refusing odd input.

A line that does not end in a newline is the only thing a crash can leave half
written, so it is the only thing ignored. Anything else that is not a well-formed event
(corrupt JSON, wrong field types per ``events``' TypedDicts, a line over 8 MiB) is
refused with its line number, as is every odd input: a FIFO, device, socket or directory
(read without ever blocking), an empty file, a file with no complete event, a file over
512 MiB. ``errors.InputError`` (exit 2) carries a one-paragraph message; nothing here
raises anything else, so no command that reads a journal can hang or show a traceback.

``verify`` checks the chain (``integrity``), with the key and head ``read`` was given.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path
from typing import Any, Final

from runner import errors
from runner.journal import chain, integrity, schema, tail
from runner.journal import events as ev

MAX_JOURNAL_BYTES: Final = 512 * 1024 * 1024
MAX_LINE_BYTES: Final = tail.MAX_LINE_BYTES
_CHUNK: Final = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Journal:
    """A journal as read: its events and raw lines, and whether a torn tail was ignored."""

    path: Path
    events: tuple[ev.Event, ...]
    torn_tail: bool
    lines: tuple[bytes, ...] = dataclasses.field(default=(), repr=False)
    key: bytes | None = dataclasses.field(default=None, repr=False)
    expected_head: chain.Head | None = None

    def of_type(self, type_: str) -> list[ev.Event]:
        return [e for e in self.events if e.get("type") == type_]

    def first(self, type_: str) -> ev.Event | None:
        return next((e for e in self.events if e.get("type") == type_), None)

    def last(self, type_: str) -> ev.Event | None:
        return next((e for e in reversed(self.events) if e.get("type") == type_), None)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character "
                       "device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def _odd(path: Path, mode: int) -> errors.InputError:
    return errors.InputError(
        f"{path} is {_kind(mode)}, not a journal file. A journal is a plain file that a run "
        "writes to reports/<run-id>/journal.jsonl; pass that file (or its run directory).")


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError as exc:
        raise errors.InputError(
            f"No journal at {path}. Runs write theirs to reports/<run-id>/journal.jsonl."
        ) from exc
    except OSError as exc:
        raise errors.InputError(f"Cannot read the journal {path}: {exc.strerror}.") from exc


def locate(path: Path | str) -> Path:
    """The journal file a path names: the path itself, or a run directory's journal.jsonl."""
    path = Path(path)
    mode = _stat(path).st_mode
    if stat.S_ISDIR(mode):
        candidate = path / "journal.jsonl"
        if not candidate.exists():
            raise errors.InputError(
                f"{path} is a directory without a journal.jsonl. Pass the journal file "
                "(reports/<run-id>/journal.jsonl) or its run directory.")
        path, mode = candidate, _stat(candidate).st_mode
    if not stat.S_ISREG(mode):
        raise _odd(path, mode)
    return path


def _load(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise errors.InputError(f"Cannot read the journal {path}: {exc.strerror}.") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _odd(path, st.st_mode)
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_JOURNAL_BYTES:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_JOURNAL_BYTES:
            raise errors.InputError(
                f"{path} is over {MAX_JOURNAL_BYTES // (1024 * 1024)} MiB, too large for a "
                "gameday journal (a day of 1 s ticks is a fraction of that); is it a journal?")
        return b"".join(chunks)
    except OSError as exc:
        raise errors.InputError(f"Cannot read the journal {path}: {exc.strerror}.") from exc
    finally:
        os.close(fd)


def _not_event(path: Path, number: int, why: str) -> errors.InputError:
    return errors.InputError(
        f"{path}, line {number}: {why}. This is not a well-formed gameday journal event (the "
        "file is corrupt, edited, or not a journal); only a torn last line is ignored, and "
        "this line is not that. Nothing was run or written.")


def _parse(path: Path, number: int, line: bytes) -> ev.Event:
    if len(line) > MAX_LINE_BYTES:
        raise _not_event(path, number, f"the line is {len(line)} bytes, over the "
                         f"{MAX_LINE_BYTES // (1024 * 1024)} MiB a journal line may hold")
    try:
        event = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _not_event(path, number, "the line is not UTF-8 text (binary data)") from exc
    except (ValueError, RecursionError) as exc:
        raise _not_event(path, number, "the line is not valid JSON") from exc
    if not isinstance(event, dict):
        raise _not_event(path, number, "the line is JSON but not an object")
    found = schema.problems(event)
    if found:
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        kind = event.get("type") if isinstance(event.get("type"), str) else "?"
        raise _not_event(path, number, f"in a {kind!r} event, {found[0]}{more}")
    return event


def read(path: Path | str, *, key: bytes | None = None,
         expected_head: chain.Head | None = None) -> Journal:
    """Read a journal; raise ``errors.InputError`` with a clear message if it is unusable.

    ``key`` and ``expected_head`` are kept for ``verify`` (a keyed chain, a head known
    from outside the journal).
    """
    path = locate(path)
    data = _load(path)
    if not data:
        raise errors.InputError(
            f"{path} is empty: no event was ever written to it. A run journals its start "
            "before it touches anything, so this run never started or the file was emptied; "
            "there is nothing to show, report or revert from it.")
    torn = not data.endswith(b"\n")
    lines = data.split(b"\n")
    tail_line = lines.pop()  # b"" after a final newline, else the torn tail
    if torn and len(tail_line) > MAX_LINE_BYTES:
        raise _not_event(path, len(lines) + 1, f"the (unterminated) line is {len(tail_line)} "
                         f"bytes, over the {MAX_LINE_BYTES // (1024 * 1024)} MiB a line may hold")
    if not lines:
        raise errors.InputError(
            f"{path} holds no complete journal event ({len(data)} bytes without a line end: "
            "binary data, or a journal cut in its first line). Nothing to show, report or "
            "revert from it.")
    parsed = tuple(_parse(path, number, line) for number, line in enumerate(lines, start=1))
    return Journal(path=path, events=parsed, torn_tail=torn, lines=tuple(lines), key=key,
                   expected_head=expected_head)


def verify(journal: Journal, key: bytes | None = None,
           expected_head: chain.Head | None = None) -> list[str]:
    """Sentences describing breaks, an unverifiable chain or signs of truncation; empty if
    intact. ``key``/``expected_head`` default to what ``read`` was given."""
    return list(integrity.check(journal, key=key, expected_head=expected_head).problems)


def payload(event: ev.Event) -> dict[str, Any]:
    """The event without its envelope fields."""
    return {k: v for k, v in event.items() if k not in ev.ENVELOPE_FIELDS}
