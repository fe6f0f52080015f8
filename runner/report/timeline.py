"""The run's story as a reviewer reads it: phases *and* what happened in them.

One entry per event that matters (run start, preflight, each fault's intent, result and
effect check, the abort with its reason, each revert and its verification, recovery,
signals, warnings, the verdict, the seal), each in a sentence, flagged when it is bad
news. Tick events are not entries (the tables and the plot show them); unknown event
types are listed by name, since a reader must tolerate events it does not know.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from runner.journal import events, reader

MAX_ENTRIES = 400


@dataclasses.dataclass(frozen=True)
class Entry:
    ts: float | None
    kind: str  # run | phase | fault | effect | abort | revert | verified | recovery | ...
    text: str
    alarm: bool = False


def _fault(e: dict[str, Any]) -> str:
    return f"fault #{e.get('fault')} {e.get('name') or ''}".rstrip()


def _measured(e: dict[str, Any]) -> str:
    measured = e.get("measured")
    if not isinstance(measured, dict) or not measured:
        return ""
    return " (measured: " + ", ".join(f"{k} {v}" for k, v in measured.items()) + ")"


def _run(e: dict[str, Any]) -> Entry:
    sha = str(e.get("experiment_sha256") or "")[:16]
    return Entry(e.get("ts"), "run", f"run {e.get('run_id')} started (seed {e.get('seed')}, "
                 f"experiment sha256 {sha or 'not recorded'})")


def _phase(e: dict[str, Any]) -> Entry:
    detail = {k: v for k, v in reader.payload(e).items() if k != "phase"}
    extra = (" (" + ", ".join(f"{k} {v}" for k, v in detail.items()) + ")") if detail else ""
    return Entry(e.get("ts"), "phase", f"phase {e.get('phase')}{extra}")


def _preflight(e: dict[str, Any]) -> Entry:
    problems = e.get("problems") or []
    if problems:
        return Entry(e.get("ts"), "preflight", "preflight refused: " + "; ".join(
            str(p) for p in problems), alarm=True)
    return Entry(e.get("ts"), "preflight", "preflight passed")


def _calibration(e: dict[str, Any]) -> Entry:
    if e.get("baseline_holds"):
        return Entry(e.get("ts"), "baseline", "baseline held: the steady state was there "
                     "before any fault")
    problems = "; ".join(str(p) for p in e.get("problems") or []) or "see the probes table"
    return Entry(e.get("ts"), "baseline", f"baseline did not hold: {problems}", alarm=True)


def _intent(e: dict[str, Any]) -> Entry:
    targets = ", ".join(str(t) for t in e.get("targets") or []) or "no named target"
    return Entry(e.get("ts"), "fault", f"{_fault(e)}: intent and revert journaled "
                 f"({e.get('kind')} on {targets})")


def _result(e: dict[str, Any]) -> Entry:
    if e.get("ok"):
        return Entry(e.get("ts"), "fault", f"{_fault(e)} injected in {e.get('seconds')} s")
    return Entry(e.get("ts"), "fault", f"{_fault(e)} failed to inject: {e.get('error')}",
                 alarm=True)


def _effect(e: dict[str, Any]) -> Entry:
    ok = e.get("ok")
    state = ("took effect" if ok is True else "effect not checked" if ok is None
             else "DID NOT take effect as requested")
    return Entry(e.get("ts"), "effect", f"{_fault(e)} {state}: {e.get('detail')}{_measured(e)}",
                 alarm=ok is False)


def _abort(e: dict[str, Any]) -> Entry:
    return Entry(e.get("ts"), "abort", f"ABORT ({e.get('kind')}) at watch tick {e.get('tick')}: "
                 f"{e.get('reason')}", alarm=True)


def _revert(e: dict[str, Any]) -> Entry:
    who = f"by {e.get('by')}, {e.get('attempts')} attempt(s), {e.get('seconds')} s"
    if e.get("ok"):
        return Entry(e.get("ts"), "revert", f"revert of {_fault(e)} done ({who})")
    return Entry(e.get("ts"), "revert", f"revert of {_fault(e)} FAILED ({who}): "
                 f"{e.get('error')}", alarm=True)


def _verified(e: dict[str, Any]) -> Entry:
    ok = e.get("ok")
    state = ("verified gone" if ok is True else "not verified (no check)" if ok is None
             else "NOT verified gone")
    return Entry(e.get("ts"), "verified", f"revert of {_fault(e)} {state}: {e.get('detail')}",
                 alarm=ok is False)


def _observation(e: dict[str, Any]) -> Entry:
    state = "ok" if e.get("ok") is not False else "FAILED its tolerance"
    return Entry(e.get("ts"), "observation", f"method probe {e.get('name')}: {state}",
                 alarm=e.get("ok") is False)


def _tolerance(e: dict[str, Any]) -> Entry:
    met = e.get("met")
    return Entry(e.get("ts"), "tolerance", f"steady-state hypothesis ({e.get('when')}): "
                 + ("met" if met else "NOT met (deviated)"), alarm=not met)


def _recovery(e: dict[str, Any]) -> Entry:
    if e.get("recovered"):
        return Entry(e.get("ts"), "recovery", f"recovered: steady state back {e.get('seconds')} s "
                     "after the revert")
    return Entry(e.get("ts"), "recovery", f"NOT recovered within {e.get('seconds')} s",
                 alarm=True)


def _verdict(e: dict[str, Any]) -> Entry:
    return Entry(e.get("ts"), "verdict", f"verdict {e.get('verdict')} (exit {e.get('exit_code')})"
                 f": {e.get('reason')}", alarm=e.get("verdict") != "held")


def _generic(kind: str, alarm: bool = False, field: str = "note") -> Callable[..., Entry]:
    def build(e: dict[str, Any]) -> Entry:
        text = e.get(field) or e.get("message") or e.get("reason") or e.get("state") or ""
        return Entry(e.get("ts"), kind, f"{e.get('type')}: {text}".rstrip(": "), alarm)
    return build


_BUILDERS: dict[str, Callable[[dict[str, Any]], Entry]] = {
    events.RUN_STARTED: _run, events.PHASE: _phase, events.PREFLIGHT: _preflight,
    events.CALIBRATION: _calibration, events.FAULT_INTENT: _intent,
    events.FAULT_RESULT: _result, "fault-effect": _effect, events.ABORT: _abort,
    events.REVERT_RESULT: _revert, "revert-verified": _verified,
    events.RECOVERY: _recovery, events.VERDICT: _verdict,
    events.WARNING: _generic("warning", field="message"),
    events.SIGNAL: _generic("signal", alarm=True, field="reason"),
    events.REVERT_SESSION: _generic("revert", field="state"),
    events.JOURNAL_REPAIRED: _generic("journal"), "journal-sealed": _generic("journal"),
    events.OBSERVATION: _observation, events.TOLERANCE: _tolerance,
    events.PAUSE: _generic("pause", field="name"),
    events.ROLLBACKS: _generic("rollbacks", field="reason"),
    events.HISTORY_CALIBRATION: _generic("history", field="note"),
    events.LOCK: _generic("lock", field="keys"),
}
_SKIP = {events.TICK, events.PLAN}


def entries(read: reader.Journal) -> tuple[Entry, ...]:
    out: list[Entry] = []
    for e in read.events:
        kind = str(e.get("type"))
        if kind in _SKIP:
            continue
        build = _BUILDERS.get(kind)
        out.append(build(e) if build else Entry(e.get("ts"), "other", f"event {kind}"))
    if len(out) > MAX_ENTRIES:  # keep the start and the end, where the story is
        half = MAX_ENTRIES // 2
        gap = Entry(None, "gap", f"... {len(out) - 2 * half} events not listed (all in the "
                    "journal)")
        out = [*out[:half], gap, *out[-half:]]
    return tuple(out)
