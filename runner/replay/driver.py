"""One replayed window: the engine's own dry run over a history source, on a fake clock.

Replay never copies the engine's logic: each window is ``engine.run.Run(..., dry=True)``
-- preflight, baseline, calibration, the tick loop, guardrails, the abort policy -- with
a ``ReplayClock`` that starts at the window's priming step and moves only when the
engine sleeps, a metrics source that reads the history at that clock, a platform that
plans nothing and injects nothing, and no lease. What the window "would have done" is
read back from the events the run journaled, as a reviewer would read them.

Decisions:
- Each window journals into memory (``memory.MemoryJournal``); the journals of windows
  that would have aborted, or that touch an incident, are written out (chained,
  scrubbed, sealed) beside the replay's own journal so ``gameday report`` renders any
  of them; the others are dropped once read (a week of windows would be hundreds of
  megabytes, and writing them would cost more than deciding them).
- ``run-started`` carries ``replay`` (window, grid step, source, range) and
  ``dry_run: true``: no reader can mistake a replayed window for a run.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import errors, ports
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import events
from runner.model import experiment as model
from runner.replay import memory
from runner.stats import history as stats_history

#: The experiment file's word for each kind of fault (what the journal and reports show).
_KINDS: dict[type, str] = {model.PodKillFault: "pod-kill", model.LatencyFault: "latency",
                           model.ActionFault: "action"}


class ReplayClock:
    """Time that moves only when the engine sleeps; wall time equals monotonic time.

    A sleep ends on the next step of the replay's grid (``origin + i·tick``) at or after
    the time asked for: between two ticks nothing is observed, so the one-second slices
    a live clock wakes up for (to notice signals) are skipped -- each tick costs one
    sleep, not fifteen. Every phase of a replayed run starts on the grid (no time passes
    but in sleeps), so each tick still lands exactly on its step. A sleep whose end is
    already at a step (or that would not move) advances by exactly what was asked.
    """

    def __init__(self, start: float, origin: float, tick: float) -> None:
        self._now = start
        self._origin = origin
        self._tick = tick

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        target = self._now + seconds
        step = math.ceil((target - self._origin) / self._tick - 1e-9)
        snapped = self._origin + step * self._tick
        self._now = snapped if snapped > self._now + 1e-9 else target


class NoPlatform:
    """A platform for replay: nothing to target, nothing planned against a cluster."""

    name = "replay"

    def preflight(self, experiment: model.Experiment) -> list[str]:
        return []

    def plan(self, experiment: model.Experiment, run_id: str, seed: int
             ) -> list[ports.PlannedFault]:
        return [ports.PlannedFault(index=i, name=getattr(f, "name", None) or _KINDS[type(f)],
                                   kind=_KINDS[type(f)], targets=(), action={}, revert=None,
                                   description="replay: not planned, never injected")
                for i, f in enumerate(experiment.faults)]

    def ready_replicas(self, probe: model.ReadyReplicasProbe) -> float | None:
        return None

    def lock_keys(self, planned: Sequence[ports.PlannedFault]) -> list[str]:
        return []

    def check_effect(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        return ports.EffectCheck(None, "replay: nothing was injected")

    def verify_revert(self, fault: ports.PlannedFault, within: float) -> ports.RevertCheck:
        return ports.RevertCheck(None, "replay: nothing was injected")


class NoActivities:
    """Refuses every activity: a dry run never runs one, and replay must not."""

    def run(self, activity: Mapping[str, Any]) -> Any:
        raise errors.RunnerError("replay never runs Chaos Toolkit activities")


@dataclasses.dataclass(frozen=True)
class WindowResult:
    """What one replayed window would have done, read back from its journal."""

    index: int
    kind: str  # "grid" or "incident"
    prime: int  # grid step of the priming read
    start: float  # Unix time the fault window starts
    end: float
    healthy: bool
    incident: int | None
    status: str  # held, aborted, refused, blind, error
    abort_kind: str | None = None
    reason: str = ""
    abort_tick: int | None = None
    abort_time: float | None = None
    sup_log_e: float | None = None
    threshold_log: float | None = None
    traffic: Mapping[str, float | None] = dataclasses.field(default_factory=dict)
    earliest: Mapping[str, int | None] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    journal: str | None = None

    @property
    def aborted(self) -> bool:
        return self.status in ("aborted", "blind")


class _Collector:
    """Listens to a window's journal and keeps what the result needs (bounded)."""

    def __init__(self) -> None:
        self.abort: Mapping[str, Any] | None = None
        self.sup = -math.inf
        self.threshold: float | None = None
        self.sums: dict[str, float] = {}
        self.ticks: dict[str, int] = {}
        self.earliest: dict[str, int | None] = {}
        self.warnings: list[str] = []
        self.abort_ts: float | None = None

    def emit(self, event: Mapping[str, Any]) -> None:
        kind = event["type"]
        if kind == events.TICK and event.get("phase") == "watch":
            stats = event.get("stats") or {}
            self.sup = max(self.sup, float(stats.get("log_e", -math.inf)))
            for probe in stats.get("probes", ()):
                if probe.get("n") is not None:
                    self.sums[probe["name"]] = self.sums.get(probe["name"], 0.0) + probe["n"]
                self.ticks[probe["name"]] = self.ticks.get(probe["name"], 0) + 1
        elif kind == events.CALIBRATION:
            self.threshold = float(event["threshold_log"])
            self.earliest = {p["name"]: p.get("earliest_abort_ticks")
                             for p in event.get("probes", ())}
            self.warnings.extend(event.get("warnings", ()))
        elif kind == events.ABORT and self.abort is None:
            self.abort = event
            self.abort_ts = float(event["ts"])


@dataclasses.dataclass(frozen=True)
class Window:
    """A window to replay: where it is on the grid and what it is for."""

    index: int
    kind: str
    prime: int
    healthy: bool
    incident: int | None = None


@dataclasses.dataclass
class Runner:
    """Runs windows of one experiment over one history (``source_for`` builds the source)."""

    exp: model.Experiment
    source_for: Callable[[Callable[[], float]], ports.MetricsSource]
    grid_time: Callable[[int], float]
    tick: float
    layout_baseline: int
    layout_window: int
    cancel: clock_mod.Cancel
    keep_dir: Path | None
    context: Mapping[str, Any]
    scrub: tuple[str, ...] = ()

    def run(self, window: Window, *, history: stats_history.Calibration | None = None,
            tag: str = "") -> WindowResult:
        if self.cancel.is_set():
            raise errors.Interrupted(f"interrupted by {self.cancel.reason}")
        clock = ReplayClock(self.grid_time(window.prime), self.grid_time(0), self.tick)
        collect = _Collector()
        name = f"window-{window.index:05d}{tag}"
        replay = {**self.context, "window": window.index, "kind": window.kind,
                  "prime_step": window.prime}
        journal = memory.MemoryJournal(Path(f"{name}.jsonl"), now=clock.time,
                                       listeners=[collect.emit])
        with journal:
            run_ports = run_mod.RunPorts(
                metrics=self.source_for(clock.time), platform=NoPlatform(),
                activities=NoActivities(), clock=clock, journal=journal,
                cancel=clock_mod.Cancel(), lease=None)
            outcome = run_mod.Run(self.exp, run_ports, run_id=name, seed=0, versions={},
                                  dry=True, replay=replay, history=history).execute()
        start = self.grid_time(window.prime + self.layout_baseline)
        result = _result(window, outcome, collect, start,
                         self.grid_time(window.prime + self.layout_baseline
                                        + self.layout_window))
        if self.keep_dir is None or not (result.aborted or result.kind == "incident"
                                         or not result.healthy):
            return result
        self.keep_dir.mkdir(parents=True, exist_ok=True)
        kept = journal.write(self.keep_dir / f"{name}.jsonl", scrub=self.scrub)
        return dataclasses.replace(result, journal=os.fspath(kept))


def _result(window: Window, outcome: run_mod.Outcome, collect: _Collector, start: float,
            end: float) -> WindowResult:
    code = int(outcome.exit_code)
    found = collect.abort
    status = "held"
    if code == int(errors.ExitCode.REFUSED):
        status = "refused"
    elif found is not None:
        status = "blind" if found.get("kind") == "no-data" else "aborted"
    elif code != 0:
        status = "error"
    traffic = {name: (collect.sums.get(name, 0.0) / ticks if ticks else None)
               for name, ticks in collect.ticks.items()}
    return WindowResult(
        index=window.index, kind=window.kind, prime=window.prime, start=start, end=end,
        healthy=window.healthy, incident=window.incident, status=status,
        abort_kind=None if found is None else str(found.get("kind")),
        reason=str(found.get("reason")) if found is not None else outcome.reason,
        abort_tick=None if found is None else found.get("tick"),
        abort_time=collect.abort_ts,
        sup_log_e=None if collect.sup == -math.inf else collect.sup,
        threshold_log=collect.threshold, traffic=traffic, earliest=dict(collect.earliest),
        warnings=tuple(collect.warnings))
