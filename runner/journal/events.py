"""Event types of the journal and their persisted shapes (TypedDicts).

The journal is the persisted record, not the in-memory outcome: every event is a flat
JSON object with the envelope fields ``seq``, ``ts`` (epoch seconds), ``time`` (ISO 8601,
UTC), ``type`` and ``prev`` (sha256 of the previous line's bytes; 64 zeros for the first),
plus its payload. Readers must tolerate unknown event types and extra fields so that old
readers can read new journals.
"""

from __future__ import annotations

from typing import Any, Final, TypedDict

GENESIS: Final = "0" * 64

RUN_STARTED: Final = "run-started"
PHASE: Final = "phase"
PREFLIGHT: Final = "preflight"
PLAN: Final = "plan"
TICK: Final = "tick"
CALIBRATION: Final = "calibration"
FAULT_INTENT: Final = "fault-intent"
FAULT_RESULT: Final = "fault-result"
ABORT: Final = "abort"
REVERT_RESULT: Final = "revert-result"
RECOVERY: Final = "recovery"
VERDICT: Final = "verdict"
WARNING: Final = "warning"
SIGNAL: Final = "signal"
REVERT_SESSION: Final = "revert-session"
JOURNAL_REPAIRED: Final = "journal-repaired"
FAULT_EFFECT: Final = "fault-effect"
REVERT_VERIFIED: Final = "revert-verified"
LOCK: Final = "lock"
HALT: Final = "halt"


class Envelope(TypedDict):
    """Fields every event carries."""

    seq: int
    ts: float
    time: str
    type: str
    prev: str


class FaultIntent(TypedDict):
    """Written and fsynced before a fault acts: what will be done and how to undo it."""

    fault: int
    name: str
    kind: str
    targets: list[str]
    action: dict[str, Any]
    revert: dict[str, Any] | None
    expires_at: float | None


class RevertResult(TypedDict):
    """One revert attempt series for one fault: ``ok`` False means a human must act."""

    fault: int
    ok: bool
    attempts: int
    seconds: float
    error: str | None
    by: str  # "run" or "gameday revert"


Event = dict[str, Any]
