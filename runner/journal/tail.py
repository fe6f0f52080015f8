"""Where an existing journal left off: its chain, its head, and a torn tail to cut.

Decision: a writer reopening a journal (``gameday revert``) reads only its first line
(the chain kind) and its last complete line (seq and hash), never the whole file, so
reopening a long journal costs the same as a short one. It refuses to extend a journal
whose last line does not match its own tag (edited, or a keyed journal under the wrong
key) and a keyed journal without its key: a new line would either hide the break or be
unverifiable. Checking the whole chain is the reader's job (``gameday revert`` does it
before it opens a writer).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Final

from runner import errors
from runner.journal import chain as chains
from runner.journal import disk

MAX_LINE_BYTES: Final = 8 * 1024 * 1024
"""The longest line a journal may hold (readers refuse longer ones as not a journal)."""


@dataclasses.dataclass(frozen=True)
class Resumed:
    chain: chains.Chain
    head: chains.Head | None
    last_type: str | None
    cut: int  # bytes of a torn tail cut away


def _refuse(path: Path, why: str) -> errors.JournalOpenFailed:
    return errors.JournalOpenFailed(
        str(path), why, f"Refusing to append to the journal {path}: {why}.")


def _event(path: Path, line: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict) or type(value.get("seq")) is not int \
            or not isinstance(value.get("type"), str):
        raise _refuse(path, f"its {where} line is not a gameday journal event; check that "
                      "the path names a gameday journal")
    return value


def resume(path: Path, file: disk.AppendFile, key: bytes | None) -> Resumed:
    """The state to continue ``path`` from (cutting a torn tail through ``file``)."""
    fresh = chains.Chain(chains.HMAC, key) if key else chains.Chain(chains.SHA256)
    size = file.size
    if size == 0:
        return Resumed(fresh, None, None, 0)
    try:
        with open(path, "rb") as fh:
            first = fh.read(MAX_LINE_BYTES + 1).split(b"\n", 1)
            start = max(0, size - MAX_LINE_BYTES - 1)
            fh.seek(start)
            end = fh.read(size - start)
    except OSError as exc:
        raise _refuse(path, f"it cannot be read back ({exc.strerror})") from exc
    keep = size
    if not end.endswith(b"\n"):
        newline = end.rfind(b"\n")
        if newline < 0 and start > 0:
            raise _refuse(path, f"its last line is longer than {MAX_LINE_BYTES} bytes")
        keep = start + newline + 1
        end = end[: newline + 1]
    cut = size - keep
    if cut:
        file.cut_to(keep)
    if keep == 0:
        return Resumed(fresh, None, None, cut)
    if len(first) < 2:
        raise _refuse(path, f"its first line is longer than {MAX_LINE_BYTES} bytes")
    lines = end[:-1].rsplit(b"\n", 1)
    if len(lines) < 2 and start > 0:
        raise _refuse(path, f"its last line is longer than {MAX_LINE_BYTES} bytes")
    first_event = _event(path, first[0], "first")
    last = lines[-1]
    last_event = _event(path, last, "last")
    kind = chains.kind_of(first_event)
    if kind is None:
        raise _refuse(path, f"its first event names an unknown chain {first_event.get('chain')!r}")
    if kind == chains.HMAC:
        if not key:
            raise _refuse(path, "it is keyed (hmac-sha256) and no key was given; pass the "
                          "journal's key with --journal-key-file or GAMEDAY_JOURNAL_KEY")
        found = chains.Chain(chains.HMAC, key)
    else:
        found = chains.Chain(kind)
    if not found.genuine(last):
        why = ("the key given is not this journal's key, or its last line was edited"
               if kind == chains.HMAC else "its last line does not match its own hash (edited)")
        raise _refuse(path, why)
    value = found.link(last)
    assert value is not None  # genuine() saw the tag
    return Resumed(found, chains.Head(int(last_event["seq"]), value), str(last_event["type"]), cut)
