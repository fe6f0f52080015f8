"""Facts a report needs, derived once from a journal.

Every report format renders the same ``Facts``, so the numbers a reviewer sees in
Markdown and in CI's JUnit agree: verdict, phases, faults with inject and revert times,
the abort with its evidence, and the abort-decision-to-all-reverted latency.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runner.journal import events, reader


@dataclasses.dataclass(frozen=True)
class FaultFacts:
    index: int
    name: str
    kind: str
    targets: tuple[str, ...]
    injected_at: float | None
    inject_ok: bool | None
    inject_error: str | None
    reverted_at: float | None
    revert_ok: bool | None
    revert_by: str | None
    revert_attempts: int | None
    revert_error: str | None
    has_revert: bool


@dataclasses.dataclass(frozen=True)
class Facts:
    path: str
    run_id: str
    title: str
    owner: str | None
    source: str | None
    sha256: str | None
    started_at: float | None
    ended_at: float | None
    verdict: str
    exit_code: int | None
    reason: str
    phases: tuple[tuple[str, float], ...]
    faults: tuple[FaultFacts, ...]
    abort: dict[str, Any] | None
    abort_to_reverted: float | None
    ticks: tuple[dict[str, Any], ...]
    calibration: dict[str, Any] | None
    warnings: tuple[str, ...]
    integrity: tuple[str, ...]
    torn_tail: bool
    versions: dict[str, Any]
    alpha: float | None


def latest_reverts(read: reader.Journal) -> dict[Any, dict[str, Any]]:
    """Per fault, its successful revert result if any, else its last attempt."""
    reverted: dict[Any, dict[str, Any]] = {}
    for e in read.of_type(events.REVERT_RESULT):
        if e.get("fault") not in reverted or e.get("ok"):
            reverted[e.get("fault")] = e
    return reverted


def summarize(read: reader.Journal) -> Facts:
    started = read.first(events.RUN_STARTED) or {}
    verdict = read.last(events.VERDICT)
    abort = read.last(events.ABORT)
    results = {e.get("fault"): e for e in read.of_type(events.FAULT_RESULT)}
    reverted = latest_reverts(read)
    faults = []
    for intent in read.of_type(events.FAULT_INTENT):
        idx = intent.get("fault")
        res = results.get(idx)
        rev = reverted.get(idx)
        faults.append(FaultFacts(
            index=int(idx or 0), name=str(intent.get("name")), kind=str(intent.get("kind")),
            targets=tuple(intent.get("targets") or ()),
            injected_at=res.get("ts") if res else None,
            inject_ok=res.get("ok") if res else None,
            inject_error=res.get("error") if res else None,
            reverted_at=rev.get("ts") if rev else None,
            revert_ok=rev.get("ok") if rev else None,
            revert_by=rev.get("by") if rev else None,
            revert_attempts=rev.get("attempts") if rev else None,
            revert_error=rev.get("error") if rev else None,
            has_revert=bool(intent.get("revert")),
        ))
    abort_to_reverted = None
    if abort is not None:
        times = [f.reverted_at for f in faults if f.has_revert and f.reverted_at is not None]
        if times and all(f.revert_ok for f in faults if f.has_revert):
            abort_to_reverted = max(times) - float(abort["ts"])
    if verdict is not None:
        verdict_name, code, reason = verdict.get("verdict"), verdict.get("exit_code"), \
            verdict.get("reason")
    else:
        pending = [f for f in faults if f.has_revert and not f.revert_ok]
        verdict_name = "incomplete"
        code = None
        reason = ("the run has no verdict (it died: crash or SIGKILL)"
                  + (f"; {len(pending)} fault(s) not reverted: run `gameday revert {read.path}`"
                     if pending else "; every fault it injected has been reverted"))
    return Facts(
        path=str(read.path), run_id=str(started.get("run_id", "?")),
        title=str(started.get("title", "?")), owner=started.get("owner"),
        source=started.get("source"), sha256=started.get("experiment_sha256"),
        started_at=started.get("ts"), ended_at=read.events[-1].get("ts") if read.events else None,
        verdict=str(verdict_name), exit_code=code, reason=str(reason),
        phases=tuple((str(e.get("phase")), float(e["ts"])) for e in read.of_type(events.PHASE)),
        faults=tuple(faults), abort=dict(abort) if abort else None,
        abort_to_reverted=abort_to_reverted,
        ticks=tuple(read.of_type(events.TICK)),
        calibration=read.last(events.CALIBRATION),
        warnings=tuple(str(e.get("message")) for e in read.of_type(events.WARNING))
        + tuple(w for e in read.of_type(events.PREFLIGHT) for w in e.get("warnings") or []),
        integrity=tuple(reader.verify(read)), torn_tail=read.torn_tail,
        versions=dict(started.get("versions") or {}), alpha=started.get("alpha"),
    )
