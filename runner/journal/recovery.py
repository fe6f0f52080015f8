"""Recovery: which faults of a journal still need their revert.

A fault needs reverting when its intent was journaled with a revert and no successful
revert result follows for the same fault index. The intent is journaled (and fsynced)
before the fault acts, so this errs on the safe side: a fault that never acted gets a
revert too, and reverts are idempotent (already gone = success).
"""

from __future__ import annotations

from runner.journal import events, reader


def pending_reverts(journal: reader.Journal) -> list[events.Event]:
    """Fault intents with a revert and without a successful revert, in injection order."""
    done = {
        e.get("fault")
        for e in journal.of_type(events.REVERT_RESULT)
        if e.get("ok") is True
    }
    return [
        intent
        for intent in journal.of_type(events.FAULT_INTENT)
        if intent.get("revert") and intent.get("fault") not in done
    ]


def run_id(journal: reader.Journal) -> str | None:
    started = journal.first(events.RUN_STARTED)
    value = started.get("run_id") if started else None
    return str(value) if value is not None else None
