"""Test doubles of gameday's ports, shipped for our tests and for extension authors.

These fake *our own* interfaces (clock, metrics source, platform, activity runner), so
the engine's phases can be driven deterministically and instantly. They never stand in
for Prometheus or Kubernetes in tests of those adapters: those use the real servers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner import errors, ports
from runner.model import experiment as model


class FakeClock:
    """Time that moves only when slept on; ``on_sleep`` hooks let a test act mid-run."""

    def __init__(self, start: float = 1_000.0, wall: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall - start
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[float], None]] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)
        for hook in list(self.on_sleep):
            hook(self._now)


Script = Callable[[int, model.Probe], ports.Sample]


class ScriptedMetrics:
    """A metrics source whose per-tick samples come from a function of (call, probe)."""

    def __init__(self, script: Script, *, problems: Sequence[str] = (),
                 fail_from: int | None = None, alerts_from: int | None = None) -> None:
        self.script = script
        self.calls = 0
        self._problems = list(problems)
        self.fail_from = fail_from
        self.alerts_from = alerts_from

    def preflight(self, probes: Sequence[model.Probe]) -> list[str]:
        return list(self._problems)

    def warnings(self, probes: Sequence[model.Probe]) -> list[str]:
        return []

    def sample(self, probes: Sequence[model.Probe]) -> dict[str, ports.Sample]:
        self.calls += 1
        if self.fail_from is not None and self.calls >= self.fail_from:
            raise errors.PlatformError("Prometheus at fake://: connection refused")
        return {p.name: self.script(self.calls, p) for p in probes}

    def read_errors(self) -> Mapping[str, str]:
        return {}

    def traffic(self, probe: model.StatProbe) -> float | None:
        return 40.0

    def preflight_alerts(self, queries: Sequence[str]) -> list[str]:
        return [f"alert {q!r}: bad PromQL" for q in queries if "(((" in q]

    def alerts(self, queries: Sequence[str]) -> list[str]:
        if self.alerts_from is not None and self.calls >= self.alerts_from:
            return list(queries)
        return []


@dataclasses.dataclass
class FakePlatform:
    """Plans every fault as a recorded activity pair on a fake provider."""

    problems: list[str] = dataclasses.field(default_factory=list)
    ready: float | None = 3.0
    name: str = "fake"
    #: fault index -> what ``check_effect`` says (absent: not checked)
    effect_ok: dict[int, bool] = dataclasses.field(default_factory=dict)
    #: fault index -> how many verifications still find the fault there
    still_there: dict[int, int] = dataclasses.field(default_factory=dict)

    def preflight(self, experiment: model.Experiment) -> list[str]:
        return list(self.problems)

    def plan(self, experiment: model.Experiment, run_id: str, seed: int
             ) -> list[ports.PlannedFault]:
        out = []
        for index, fault in enumerate(experiment.faults):
            kind = type(fault).__name__
            out.append(ports.PlannedFault(
                index=index, name=getattr(fault, "name", kind), kind=kind,
                targets=(f"target-{seed}-{index}",),
                action=_activity("inject", index), revert=_activity("revert", index),
            ))
        return out

    def ready_replicas(self, probe: model.ReadyReplicasProbe) -> float | None:
        return self.ready

    def lock_keys(self, planned: Sequence[ports.PlannedFault]) -> list[str]:
        return [f"fake:/target/{t}" for f in planned for t in f.targets] or ["fake:/*"]

    def check_effect(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        ok = self.effect_ok.get(fault.index)
        if ok is None:
            return ports.EffectCheck(None, "not checked (fake)")
        return ports.EffectCheck(ok, "took effect (fake)" if ok else "no effect (fake)")

    def verify_revert(self, fault: ports.PlannedFault, within: float) -> ports.RevertCheck:
        left = self.still_there.get(fault.index, 0)
        if left:
            self.still_there[fault.index] = left - 1
            return ports.RevertCheck(False, "still there (fake)")
        return ports.RevertCheck(True, "gone (fake)")


def _activity(verb: str, index: int) -> dict[str, Any]:
    return {"type": "action", "name": f"{verb}-{index}",
            "provider": {"type": "python", "module": "fake", "func": verb,
                         "arguments": {"fault": index}}}


class RecordingActivities:
    """Records activities run; can fail some of them a number of times."""

    def __init__(self, failures: Mapping[str, int] | None = None) -> None:
        self.ran: list[str] = []
        self._failures = dict(failures or {})

    def run(self, activity: Mapping[str, Any]) -> Any:
        name = str(activity.get("name"))
        self.ran.append(name)
        left = self._failures.get(name, 0)
        if left:
            self._failures[name] = left - 1
            raise errors.ActivityError(f"activity {name!r} failed: simulated")
        return {"ok": name}


class MemorySink:
    """Collects every event emitted."""

    def __init__(self) -> None:
        self.events: list[Mapping[str, Any]] = []

    def emit(self, event: Mapping[str, Any]) -> None:
        self.events.append(event)
