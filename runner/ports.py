"""Interfaces between the pure engine and the outside world (hexagonal ports).

The engine only sees these Protocols; the CLI builds real adapters (Prometheus,
Chaos Toolkit activities, the sandbox, Kubernetes) and tests build the fakes in
``runner.testing``. Every side effect the engine has goes through one of them: time,
metrics, platform planning, fault activities, target locks and leases, the checks
consulted at every safe point (emergency stop, Chaos Toolkit tolerances...), and the
live view.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from runner.model import experiment as model


@dataclasses.dataclass(frozen=True)
class Counts:
    """One tick of a statistical probe: ``n`` events (requests), ``e`` bad ones."""

    n: float
    e: float


@dataclasses.dataclass(frozen=True)
class Value:
    """One tick of a guardrail: a single number (ready replicas, a gauge)."""

    value: float


#: A probe's reading for one tick; None means no data this tick (neither for nor against).
Sample = Counts | Value | None


class Clock(Protocol):
    """Time, injected. ``monotonic`` for intervals, ``time`` for journal timestamps."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MetricsSource(Protocol):
    """Reads the steady state. Counter probes yield deltas since the previous ``sample``."""

    def preflight(self, probes: Sequence[model.Probe]) -> list[str]:
        """Problems that make a run impossible (unreachable, a query with no series...)."""
        ...

    def warnings(self, probes: Sequence[model.Probe]) -> list[str]:
        """Non-fatal remarks (no histogram bucket at the latency threshold...)."""
        ...

    def sample(self, probes: Sequence[model.Probe]) -> dict[str, Sample]:
        """One tick: every probe's reading, keyed by probe name."""
        ...

    def read_errors(self) -> Mapping[str, str]:
        """Why probes read no data on the last ``sample`` (probe name -> sentence)."""
        ...

    def alerts(self, queries: Sequence[str]) -> list[str]:
        """The queries among ``queries`` that currently return a non-empty result."""
        ...

    def traffic(self, probe: model.StatProbe) -> float | None:
        """Events per second behind a statistical probe right now (for ``gameday plan``)."""
        ...

    def preflight_alerts(self, queries: Sequence[str]) -> list[str]:
        """Problems with abort-alert queries (Prometheus rejects them...)."""
        ...


@dataclasses.dataclass(frozen=True)
class PlannedFault:
    """A fault made concrete: targets chosen, and the Chaos Toolkit activities to run.

    ``action`` and ``revert`` are plain JSON-able Chaos Toolkit activity mappings, so a
    later ``gameday revert JOURNAL`` can run the revert from the journal alone.
    """

    index: int
    name: str
    kind: str
    targets: tuple[str, ...]
    action: Mapping[str, Any]
    revert: Mapping[str, Any] | None
    description: str = ""
    expires_at: float | None = None  # wall time after which the platform removes it itself
    population: int | None = None  # how many targets the selector matched (None: unknown)


@dataclasses.dataclass(frozen=True)
class EffectCheck:
    """Whether an injected fault was seen to take effect, and at what size.

    ``ok`` None means "not checked" (the platform cannot tell); reports say so, and
    nothing claims an effect that was not observed.
    """

    ok: bool | None
    detail: str
    measured: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RevertCheck:
    """Whether a reverted fault was seen to be gone. ``ok`` None: not checked."""

    ok: bool | None
    detail: str


class Platform(Protocol):
    """What faults hit: checks the target, chooses victims, reads workload guardrails."""

    name: str

    def preflight(self, experiment: model.Experiment) -> list[str]:
        """Problems that refuse the run: target missing, permissions, blast radius..."""
        ...

    def plan(
        self, experiment: model.Experiment, run_id: str, seed: int
    ) -> list[PlannedFault]:
        """Choose targets for every fault (seeded), touching nothing."""
        ...

    def ready_replicas(self, probe: model.ReadyReplicasProbe) -> float | None:
        """A workload's ready replicas right now, or None when it cannot be read."""
        ...

    def lock_keys(self, planned: Sequence[PlannedFault]) -> list[str]:
        """What the faults touch, as lock keys ``<endpoint>/<resource>``.

        ``<endpoint>/*`` means "anything at this endpoint" (a fault whose targets the
        platform cannot name): it conflicts with every other key of the endpoint.
        """
        ...

    def check_effect(self, fault: PlannedFault, result: Any) -> EffectCheck:
        """After an inject: did the fault take effect, and at what size?"""
        ...

    def verify_revert(self, fault: PlannedFault, within: float) -> RevertCheck:
        """After a revert: is the fault gone? May wait up to ``within`` seconds."""
        ...


class ActivityRunner(Protocol):
    """Runs one Chaos Toolkit activity; raises ``errors.ActivityError`` on failure."""

    def run(self, activity: Mapping[str, Any]) -> Any: ...


@dataclasses.dataclass(frozen=True)
class Judgement:
    """A probe's output held against its tolerance (a Chaos Toolkit method probe)."""

    ok: bool
    detail: str
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@runtime_checkable
class StepRunner(ActivityRunner, Protocol):
    """An activity runner that also serves a method's steps (Chaos Toolkit, ``model.Method``).

    What the pure engine cannot do itself lives here, in the adapter: ``seconds`` resolves
    a pause (``${name}`` from the configuration), ``observe`` runs a probe whose tolerance
    decides (no judging of exit or HTTP status), ``judge`` holds its output against the
    tolerance (chaoslib's own ``within_tolerance``), and ``control`` applies the controls
    of a level (``method``, ``rollback``) before or after it (chaoslib's ``controls``).
    """

    def seconds(self, value: float | str) -> float: ...

    def observe(self, activity: Mapping[str, Any]) -> Any: ...

    def judge(self, activity: Mapping[str, Any], output: Any) -> Judgement: ...

    def control(self, level: str, scope: str, state: Any = None) -> None: ...


class Sink(Protocol):
    """Receives every journal event as it is written (live view, CI lines)."""

    def emit(self, event: Mapping[str, Any]) -> None: ...


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A safe point of a run where sentinels are consulted.

    ``phase`` is one of preflight, baseline, inject, pause, watch, recovery. ``record``
    journals an event of the sentinel's own (``record(type, payload)``).
    """

    phase: str
    tick: int | None = None
    fault: int | None = None
    record: Callable[[str, Mapping[str, Any]], None] | None = None


@dataclasses.dataclass(frozen=True)
class Halt:
    """A sentinel's reason to end the run now.

    ``broken`` True: evidence that the steady state broke (a Chaos Toolkit tolerance, a
    burn rate): exit 1 inside the fault window. False: an operational stop (emergency
    stop, a lost lease): exit 4. Before any fault either one refuses the run (exit 3).
    """

    kind: str
    reason: str
    broken: bool = False
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class Sentinel(Protocol):
    """Consulted at every checkpoint (each tick, before each fault, in pauses)."""

    name: str

    def check(self, point: Checkpoint) -> Halt | None: ...


class TargetLease(Protocol):
    """Exclusive claim on what a run touches, renewed while it lives (dead man's switch).

    ``acquire`` raises ``errors.PreflightRefused`` naming the holder when any key is
    taken; ``renew`` is called at every checkpoint with the journal's head, so the head
    is also recorded outside the journal; ``release`` ends the claim.
    """

    def acquire(self, run_id: str, keys: Sequence[str], journal: str) -> None: ...

    def renew(self, phase: str, head: tuple[int, str] | None) -> None: ...

    def release(self, head: tuple[int, str] | None) -> None: ...
