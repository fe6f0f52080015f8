"""A forger's tools: rewrite a journal with a freshly recomputed chain.

A forger does not need to understand the chain: gameday's own writer recomputes it. With
a plain sha256 chain the result verifies; only a key (or a head kept elsewhere, or the
rules of ``gameday revert``) stands in the way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runner.journal import events, reader, writer

Event = dict[str, Any]


def rewrite(path: Path, edit: Callable[[list[Event]], Sequence[Event]], *,
            key: bytes | None = None, seal: bool = True) -> None:
    """Replace ``path`` by ``edit(events)`` (payloads only), chained and sealed anew."""
    original = [dict(e) for e in reader.read(path).events]
    kept = [e for e in edit(original) if e.get("type") != events.JOURNAL_SEALED]
    path.unlink()
    jw = writer.JournalWriter(path, now=lambda: 1_700_000_000.0, key=key, reserve_bytes=0)
    for event in kept:
        jw.append(str(event["type"]), **reader.payload(event))
    jw.close(seal=seal)
