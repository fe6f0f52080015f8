"""Is this journal what its writer wrote? The chain, the seals and the head, checked.

Three kinds of finding, because they call for different actions:

- ``breaks``: a line edited, inserted, removed or reordered, a forged tag, a seal that
  does not match what precedes it, a head known from outside that the journal does not
  contain, a key given for a journal that is not keyed (it may have been rewritten by
  someone without the key). ``gameday revert`` refuses on any of these unless ``--force``.
- ``unverified``: a keyed journal checked without its key: its links can be followed,
  but not one of its lines can be trusted; the same refusal.
- ``truncation``: signs that lines were cut from the end: the run is over (a verdict
  exists) but the journal does not end in a seal, or it ends before a head recorded
  outside it. Cutting lines cannot make gameday run anything, so ``gameday revert``
  reports it and goes on; the reports show it.

``problems`` is all three as sentences (empty when intact); ``notes`` are facts that are
not problems (a legacy journal written before seals existed).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from runner.journal import chain as chains
from runner.journal import events

if TYPE_CHECKING:
    from runner.journal import reader


@dataclasses.dataclass(frozen=True)
class Integrity:
    chain: str | None
    breaks: tuple[str, ...]
    unverified: str | None
    truncation: tuple[str, ...]
    sealed: bool
    head: chains.Head | None
    notes: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        return ((self.unverified,) if self.unverified else ()) + self.breaks + self.truncation

    @property
    def trusted(self) -> bool:
        """No break and every tag checked: the lines are what the writer wrote."""
        return not self.breaks and self.unverified is None

    def to_dict(self) -> dict[str, object]:
        return {"ok": not self.problems, "chain": self.chain, "verified": self.unverified is None,
                "sealed": self.sealed, "head": self.head.to_dict() if self.head else None,
                "breaks": list(self.breaks), "unverified": self.unverified,
                "truncation": list(self.truncation), "notes": list(self.notes)}


def _describe(index: int, event: events.Event) -> str:
    return f"event {index + 1} (seq {event.get('seq')}, {event.get('type')})"


def check(journal: reader.Journal, *, key: bytes | None = None,
          expected_head: chains.Head | None = None) -> Integrity:
    """Check ``journal`` (with ``key``/``expected_head``, else those it was read with)."""
    key = key if key is not None else journal.key
    expected_head = expected_head if expected_head is not None else journal.expected_head
    first = journal.events[0] if journal.events else {}
    kind = chains.kind_of(first)
    if kind is None:
        return Integrity(None, (f"the first event names an unknown chain "
                                f"{first.get('chain')!r}; the journal cannot be verified",),
                         None, (), False, None)
    breaks: list[str] = []
    unverified = None
    notes: list[str] = []
    if kind == chains.HMAC and not key:
        unverified = ("the journal is keyed (hmac-sha256) and no key was given: its lines "
                      "cannot be verified; pass --journal-key-file or set GAMEDAY_JOURNAL_KEY")
    if kind != chains.HMAC and key:
        breaks.append(f"a key was given but the journal is not keyed ({kind}): it was "
                      "written without the key, or rewritten by someone who did not have it")
    checker = chains.Chain(kind, key if kind == chains.HMAC else None) \
        if kind != chains.HMAC or key else None
    prev: str | None = events.GENESIS
    links: list[str | None] = []
    for index, (event, line) in enumerate(zip(journal.events, journal.lines, strict=True)):
        where = _describe(index, event)
        if event.get("seq") != index:
            breaks.append(f"{where}: sequence number {event.get('seq')} where {index} was "
                          "expected (an event is missing, extra or out of order)")
        if index > 0 and "chain" in event:
            breaks.append(f"{where}: names a chain although it is not the first event")
        if prev is not None and event.get("prev") != prev:
            breaks.append(f"{where}: its prev does not match the line before it (a line was "
                          "removed, inserted or reordered)")
        link = checker.link(line) if checker else chains.recorded(line)
        if kind != chains.LEGACY and link is None:
            breaks.append(f"{where}: carries no hash of its own (a line added by hand)")
        elif checker is not None and not checker.genuine(line):
            breaks.append(f"{where}: its content does not match its hash (the line was edited"
                          + (", or forged without the key)" if kind == chains.HMAC else ")"))
        if event.get("type") == events.JOURNAL_SEALED and (
                event.get("events") != index or event.get("head") != event.get("prev")):
            breaks.append(f"{where}: the seal does not match what precedes it (it claims "
                          f"{event.get('events')} event(s) before it; there are {index})")
        links.append(link)
        prev = link
    forged = [b for b in breaks if "does not match its hash" in b]
    if kind == chains.HMAC and key and journal.events and len(forged) == len(journal.events):
        breaks = [b for b in breaks if b not in forged]
        breaks.insert(0, "the key given verifies none of the journal's lines: it is not this "
                      "journal's key (or every line was forged)")
    last = journal.events[-1] if journal.events else {}
    sealed = last.get("type") == events.JOURNAL_SEALED
    head = chains.Head(int(last["seq"]), links[-1]) if links and links[-1] else None
    truncation: list[str] = []
    if kind == chains.LEGACY:
        notes.append("written by a gameday from before sealed journals: a cut end cannot be "
                     "told from the journal alone")
    elif not sealed and journal.last(events.VERDICT) is not None:
        truncation.append("the run is over (a verdict exists) but the journal does not end in "
                          "a seal: lines may have been cut from its end, or its last writer "
                          "died before sealing")
    if expected_head is not None:
        if expected_head.seq >= len(links):
            truncation.append(f"the journal ends at seq {len(links) - 1} but its head was "
                              f"recorded at seq {expected_head.seq}: "
                              f"{expected_head.seq - len(links) + 1} event(s) are missing "
                              "from its end")
        elif links[expected_head.seq] != expected_head.hash:
            breaks.append(f"the event at seq {expected_head.seq} does not match the head "
                          "recorded outside the journal: the journal was rewritten")
    return Integrity(kind, tuple(breaks), unverified, tuple(truncation), sealed, head,
                     tuple(notes))
