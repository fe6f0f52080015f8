"""Event types of the journal and their persisted shapes (TypedDicts, kopf's bodies.py style).

The journal is the persisted record, not the in-memory outcome (the engine's frozen
dataclasses): every event is a flat JSON object with the envelope fields ``seq``,
``ts`` (epoch seconds), ``time`` (ISO 8601, UTC), ``type``, ``prev`` (the chain value of
the previous line; 64 zeros for the first) and ``hash`` (the chain value of this line,
always the last field), plus its payload. The first event also names the ``chain``.

Decision: these TypedDicts are the schema, not just documentation. ``schema.problems``
checks every field a reader gets against them, so a journal that says ``"fault": "zero"``
is refused with its line number instead of crashing a report. Required fields are
the few a reader depends on (a fault intent's index, a revert result's ``ok``); the
others are checked when present. Unknown event types and extra fields are accepted, so
old readers read new journals.
"""


from typing import Any, Final, NotRequired, TypedDict

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
HISTORY_CALIBRATION: Final = "history-calibration"
REPLAY_STARTED: Final = "replay-started"
REPLAY_WINDOW: Final = "replay-window"
REPLAY_FINISHED: Final = "replay-finished"
JOURNAL_SEALED: Final = "journal-sealed"
# A Chaos Toolkit method (runner.engine.method) and its tolerance checks.
OBSERVATION: Final = "observation"  # a method probe's output {step, name, ok, output, ...}
PAUSE: Final = "pause"  # a method pause {step, name, when, seconds}
TOLERANCE: Final = "tolerance"  # a hypothesis check {when, met, probes}
ROLLBACKS: Final = "rollbacks"  # the rollback group's decision {strategy, play, reason}

ENVELOPE_FIELDS: Final = frozenset({"seq", "ts", "time", "type", "prev", "hash", "chain"})

Event = dict[str, Any]
"""An event as read or written: a plain mapping (see the TypedDicts for its fields)."""


class Envelope(TypedDict):
    """Fields every event carries (``chain`` only the first, ``hash`` all but legacy ones)."""

    seq: int
    ts: float
    time: str
    type: str
    prev: str
    hash: NotRequired[str]
    chain: NotRequired[str]


class RunStarted(TypedDict):
    """The first event of a run: what is run (the experiment as loaded, redacted)."""

    run_id: str
    title: NotRequired[str]
    owner: NotRequired[str | None]
    source: NotRequired[str | None]
    experiment: NotRequired[dict[str, Any]]
    experiment_sha256: NotRequired[str]  # sha256 of the experiment file's bytes
    document_sha256: NotRequired[str]  # sha256 of ``experiment`` as written (added by the writer)
    platform: NotRequired[str]
    seed: NotRequired[int]
    versions: NotRequired[dict[str, Any]]
    tick: NotRequired[float]
    duration: NotRequired[float]
    alpha: NotRequired[float]


class Phase(TypedDict):
    phase: str


class Preflight(TypedDict):
    problems: NotRequired[list[str]]
    warnings: NotRequired[list[str]]


class PlannedFault(TypedDict):
    """A fault made concrete at plan time; the same shape as a ``fault-intent``."""

    fault: int
    name: str
    kind: NotRequired[str]
    targets: NotRequired[list[str]]
    description: NotRequired[str | None]
    action: NotRequired[dict[str, Any]]
    revert: NotRequired[dict[str, Any] | None]
    expires_at: NotRequired[float | None]


class Plan(TypedDict):
    faults: NotRequired[list[PlannedFault]]


class Tick(TypedDict):
    phase: NotRequired[str]
    tick: int
    of: NotRequired[int]
    samples: NotRequired[dict[str, Any]]
    stats: NotRequired[dict[str, Any]]
    guardrails: NotRequired[dict[str, Any]]
    read_errors: NotRequired[list[Any]]


class FaultIntent(PlannedFault):
    """Written and fsynced before a fault acts: what will be done and how to undo it."""


class FaultResult(TypedDict):
    fault: int
    name: NotRequired[str]
    ok: bool
    seconds: NotRequired[float]
    error: NotRequired[str | None]


class Abort(TypedDict):
    kind: str
    reason: NotRequired[str]
    evidence: NotRequired[dict[str, Any]]
    tick: NotRequired[int]


class RevertResult(TypedDict):
    """One revert attempt series for one fault: ``ok`` False means a human must act."""

    fault: int
    name: NotRequired[str]
    ok: bool
    attempts: NotRequired[int]
    seconds: NotRequired[float]
    error: NotRequired[str | None]
    by: NotRequired[str]  # "run" or "gameday revert"


class Recovery(TypedDict):
    recovered: NotRequired[bool]
    seconds: NotRequired[float]


class Verdict(TypedDict):
    verdict: str
    exit_code: NotRequired[int]
    reason: NotRequired[str]
    faults_injected: NotRequired[int]
    reverts_failed: NotRequired[int]


class RevertSession(TypedDict):
    state: str  # "started" | "finished"
    run_id: NotRequired[str | None]
    pending: NotRequired[list[int]]


class JournalRepaired(TypedDict):
    dropped_bytes: int
    note: NotRequired[str]


class JournalSealed(TypedDict):
    """The writer's last word: ``events`` lines precede it, the last with hash ``head``."""

    events: int
    head: str
    reserve_released: NotRequired[bool]


SHAPES: Final[dict[str, type]] = {
    RUN_STARTED: RunStarted, PHASE: Phase, PREFLIGHT: Preflight, PLAN: Plan, TICK: Tick,
    FAULT_INTENT: FaultIntent, FAULT_RESULT: FaultResult, ABORT: Abort,
    REVERT_RESULT: RevertResult, RECOVERY: Recovery, VERDICT: Verdict,
    REVERT_SESSION: RevertSession, JOURNAL_REPAIRED: JournalRepaired,
    JOURNAL_SEALED: JournalSealed,
}
"""The payload shape of each known event type (unknown types are checked by envelope only)."""
