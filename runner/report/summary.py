"""Facts a report needs, derived once from a journal scan.

Every report format renders the same ``Facts``, so the numbers a reviewer sees in
Markdown, HTML and CI's JUnit agree: verdict, integrity and head, phases, faults with
inject and revert times and their checks, the abort with its evidence, the
abort-decision-to-all-reverted latency, the probes as the journal defines them, and the
ticks (in columns, see ``series``). A check the journal does not record (no
``fault-effect`` or ``revert-verified`` event) is ``None``: "not checked", never "ok".
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from runner.journal import events, reader
from runner.report import probes, scan, series, timeline

FAULT_EFFECT = "fault-effect"
REVERT_VERIFIED = "revert-verified"


@dataclasses.dataclass(frozen=True)
class Check:
    """A fault-effect or revert-verification result as journaled."""

    ok: bool
    detail: str
    measured: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class FaultFacts:
    index: int
    name: str
    kind: str
    targets: tuple[str, ...]
    injected_at: float | None
    inject_seconds: float | None
    inject_ok: bool | None
    inject_error: str | None
    reverted_at: float | None
    revert_seconds: float | None
    revert_ok: bool | None
    revert_by: str | None
    revert_attempts: int | None
    revert_error: str | None
    has_revert: bool
    effect: Check | None
    verified: Check | None


@dataclasses.dataclass(frozen=True)
class Probe:
    """A probe as defined (``info``) and as calibrated (``calibration``, when it was)."""

    info: probes.ProbeInfo
    calibration: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.info.name


@dataclasses.dataclass(frozen=True)
class Facts:
    path: str
    run_id: str
    title: str
    owner: str | None
    source: str | None
    sha256: str | None
    seed: Any
    hostname: str | None
    started_at: float | None
    ended_at: float | None
    verdict: str
    exit_code: int | None
    reason: str
    phases: tuple[tuple[str, float], ...]
    faults: tuple[FaultFacts, ...]
    abort: dict[str, Any] | None
    abort_to_reverted: float | None
    recovery: dict[str, Any] | None
    calibration: dict[str, Any] | None
    preflight_problems: tuple[str, ...]
    probes: tuple[Probe, ...]
    series: series.Series
    timeline: tuple[timeline.Entry, ...]
    warnings: tuple[str, ...]
    integrity: tuple[str, ...]
    torn_tail: bool
    head: scan.Head | None
    seal: dict[str, Any] | None
    versions: dict[str, Any]
    alpha: float | None

    @property
    def intact(self) -> bool:
        return not self.integrity


def latest_reverts(read: reader.Journal) -> dict[Any, dict[str, Any]]:
    """Per fault, its successful revert result if any, else its last attempt."""
    reverted: dict[Any, dict[str, Any]] = {}
    for e in read.of_type(events.REVERT_RESULT):
        if e.get("fault") not in reverted or e.get("ok"):
            reverted[e.get("fault")] = e
    return reverted


def _checks(read: reader.Journal, type_: str) -> dict[Any, Check]:
    found: dict[Any, Check] = {}
    for e in read.of_type(type_):
        if not isinstance(e.get("ok"), bool):
            continue  # ok None: the platform could not check; the report says "not checked"
        measured = e.get("measured")
        found[e.get("fault")] = Check(ok=e.get("ok") is True, detail=str(e.get("detail") or ""),
                                      measured=dict(measured) if isinstance(measured, dict)
                                      else {})
    return found


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _faults(read: reader.Journal) -> tuple[FaultFacts, ...]:
    results = {e.get("fault"): e for e in read.of_type(events.FAULT_RESULT)}
    reverted = latest_reverts(read)
    effects = _checks(read, FAULT_EFFECT)
    verified = _checks(read, REVERT_VERIFIED)
    faults = []
    for intent in read.of_type(events.FAULT_INTENT):
        idx = intent.get("fault")
        res = results.get(idx) or {}
        rev = reverted.get(idx) or {}
        faults.append(FaultFacts(
            index=idx if isinstance(idx, int) else 0, name=str(intent.get("name")),
            kind=str(intent.get("kind")), targets=tuple(str(t) for t in intent.get("targets")
                                                        or ()),
            injected_at=_float(res.get("ts")), inject_seconds=_float(res.get("seconds")),
            inject_ok=res.get("ok") if res else None, inject_error=res.get("error"),
            reverted_at=_float(rev.get("ts")), revert_seconds=_float(rev.get("seconds")),
            revert_ok=rev.get("ok") if rev else None, revert_by=rev.get("by"),
            revert_attempts=rev.get("attempts"), revert_error=rev.get("error"),
            has_revert=bool(intent.get("revert")),
            effect=effects.get(idx), verified=verified.get(idx),
        ))
    return tuple(faults)


def _verdict(read: reader.Journal, faults: tuple[FaultFacts, ...]) -> tuple[str, Any, str]:
    verdict = read.last(events.VERDICT)
    if verdict is not None:
        return str(verdict.get("verdict")), verdict.get("exit_code"), str(verdict.get("reason"))
    pending = [f for f in faults if f.has_revert and not f.revert_ok]
    return "incomplete", None, (
        "the run has no verdict (it died: crash or SIGKILL)"
        + (f"; {len(pending)} fault(s) not reverted: run `gameday revert {read.path}`"
           if pending else "; every fault it injected has been reverted"))


def _probes(found: scan.Scan, calibration: dict[str, Any] | None) -> tuple[Probe, ...]:
    calibrated: dict[str, dict[str, Any]] = {
        str(p.get("name")): p for p in (calibration or {}).get("probes") or ()
        if isinstance(p, dict)}
    gauges = {name for name, col in found.series.probes.items()
              if np.any(~np.isnan(np.frombuffer(col.fields["value"], dtype=np.float64)))}
    infos = probes.complete(found.probes, list(found.series.probes), set(calibrated), gauges)
    return tuple(Probe(info, calibrated.get(info.name)) for info in infos)


def summarize(found: scan.Scan) -> Facts:
    read = found.record
    started = read.first(events.RUN_STARTED) or {}
    abort = read.last(events.ABORT)
    faults = _faults(read)
    abort_to_reverted = None
    if abort is not None:
        times = [f.reverted_at for f in faults if f.has_revert and f.reverted_at is not None]
        if times and all(f.revert_ok for f in faults if f.has_revert):
            abort_to_reverted = max(times) - float(abort["ts"])
    verdict_name, code, reason = _verdict(read, faults)
    calibration = read.last(events.CALIBRATION)
    preflight = read.last(events.PREFLIGHT) or {}
    host = started.get("hostname", started.get("host"))
    ends = [t for t in (_float(read.events[-1].get("ts")) if read.events else None,
                        found.series.ts[-1] if len(found.series) else None) if t is not None]
    return Facts(
        path=str(read.path), run_id=str(started.get("run_id", "?")),
        title=str(started.get("title", "?")), owner=started.get("owner"),
        source=started.get("source"), sha256=started.get("experiment_sha256"),
        seed=started.get("seed"), hostname=str(host) if host else None,
        started_at=_float(started.get("ts")), ended_at=max(ends) if ends else None,
        verdict=verdict_name, exit_code=code if isinstance(code, int) else None, reason=reason,
        phases=tuple((str(e.get("phase")), float(e["ts"])) for e in read.of_type(events.PHASE)),
        faults=faults, abort=dict(abort) if abort else None,
        abort_to_reverted=abort_to_reverted, recovery=read.last(events.RECOVERY),
        calibration=calibration,
        preflight_problems=tuple(str(p) for p in preflight.get("problems") or ()),
        probes=_probes(found, calibration), series=found.series,
        timeline=timeline.entries(read),
        warnings=tuple(str(e.get("message")) for e in read.of_type(events.WARNING))
        + tuple(str(w) for e in read.of_type(events.PREFLIGHT) for w in e.get("warnings") or []),
        integrity=found.integrity, torn_tail=found.torn_tail, head=found.head, seal=found.seal,
        versions=dict(started.get("versions") or {}), alpha=_float(started.get("alpha")),
    )
