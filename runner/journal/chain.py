"""The hash chain: how a line is framed and what links it to the next one.

Three kinds, named in the first event's ``chain`` field (never the key):

- ``sha256`` — each line ends with ``,"hash":"<sha256 of the line without that field>"}``
  and the next line's ``prev`` is that hash. Anyone can recompute it: it shows accidental
  edits and, with a head kept elsewhere, truncation, but not a careful forger.
- ``hmac-sha256`` — the same framing with HMAC-SHA256 under a secret key: without the key
  no one can rewrite, insert or append a line that verifies. The key is never written.
- ``legacy-sha256`` — journals from before this framing (no ``chain`` field): ``prev`` is
  the sha256 of the previous line's bytes and lines carry no ``hash``; readable, and
  appendable in the same form, so old journals keep one format end to end.

Decision: every line carries its own tag, so the last line (often the fault intent of a
run killed mid-inject) is covered too, and ``tail -1 | jq .hash`` is the journal's head.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from typing import Final

SHA256: Final = "sha256"
HMAC: Final = "hmac-sha256"
LEGACY: Final = "legacy-sha256"
KINDS: Final = (SHA256, HMAC, LEGACY)

_SUFFIX = re.compile(rb',"hash":"([0-9a-f]{64})"\}\Z')
_SUFFIX_SIZE = 75  # the pattern's fixed length: a match can only start this far from the end


def _suffix(line: bytes) -> re.Match[bytes] | None:
    """``_SUFFIX.search(line)``, tried only where a match can start (not along the line)."""
    return _SUFFIX.match(line, max(0, len(line) - _SUFFIX_SIZE))


@dataclasses.dataclass(frozen=True)
class Head:
    """The last line of a journal: its sequence number and its chain value."""

    seq: int
    hash: str

    def to_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.hash}


@dataclasses.dataclass(frozen=True)
class Chain:
    """One chain kind, with its key for ``hmac-sha256`` (kept out of every repr)."""

    kind: str
    key: bytes | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chain kind {self.kind!r}")
        if self.kind == HMAC and not self.key:
            raise ValueError("an hmac-sha256 chain needs a key")

    def _tag(self, body: bytes) -> str:
        if self.kind == HMAC:
            assert self.key is not None
            return hmac.new(self.key, body, hashlib.sha256).hexdigest()
        return hashlib.sha256(body).hexdigest()

    def frame(self, body: bytes) -> tuple[bytes, str]:
        """The line for a serialised event (a JSON object, no newline) and its chain value."""
        if self.kind == LEGACY:
            return body, hashlib.sha256(body).hexdigest()
        tag = self._tag(body)
        return body[:-1] + b',"hash":"' + tag.encode() + b'"}', tag

    def link(self, line: bytes) -> str | None:
        """The chain value a line claims (its ``hash``; legacy: its sha256). None if none."""
        if self.kind == LEGACY:
            return hashlib.sha256(line).hexdigest()
        return recorded(line)

    def genuine(self, line: bytes) -> bool:
        """Whether the line's own tag matches its content (always true for legacy lines)."""
        if self.kind == LEGACY:
            return True
        match = _suffix(line)
        if match is None:
            return False
        body = line[: match.start()] + b"}"
        return hmac.compare_digest(self._tag(body), match.group(1).decode())


def recorded(line: bytes) -> str | None:
    """The ``hash`` a framed line carries as its last field (no key needed to read it)."""
    match = _suffix(line)
    return match.group(1).decode() if match else None


def kind_of(first_event: dict[str, object]) -> str | None:
    """The chain kind a journal's first event names; legacy when it names none."""
    kind = first_event.get("chain", LEGACY)
    return kind if isinstance(kind, str) and kind in KINDS else None


def document_sha256(document: object) -> str:
    """The digest of an experiment document as journaled (canonical JSON: sorted keys)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=repr)
    return hashlib.sha256(text.encode()).hexdigest()
