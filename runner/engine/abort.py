"""Abort conditions as small composable policies (tenacity's ``stop`` shape).

Each condition looks at one tick's ``TickView`` and returns an ``Abort`` or None; they
combine with ``|`` (first that fires wins, in order)::

    policy = steady_state() | guardrail() | no_data(3) | alert()

The steady-state condition is the sequential test's rejection (inside α); guardrails,
blindness and alerts are deterministic and sit outside α on purpose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

#: Kinds from the policies here; sentinels add theirs ("stop", "tolerance", "burn-rate"...).
AbortKind = str


@dataclasses.dataclass(frozen=True)
class TickView:
    """What one watch tick saw, for the abort policy."""

    tick: int
    reject: bool
    attribution: tuple[str, ...]
    stats: Mapping[str, Any]
    fired_guardrails: Mapping[str, float | None]
    no_data_streaks: Mapping[str, int]
    firing_alerts: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Abort:
    """Why the fault window ends now, and the evidence to journal."""

    kind: AbortKind
    reason: str
    evidence: Mapping[str, Any]


class Condition:
    """Base: ``__call__`` returns an Abort or None; ``|`` combines."""

    def __call__(self, view: TickView) -> Abort | None:
        raise NotImplementedError

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))


@dataclasses.dataclass(frozen=True)
class AnyOf(Condition):
    conditions: tuple[Condition, ...]

    def __call__(self, view: TickView) -> Abort | None:
        for condition in self.conditions:
            found = condition(view)
            if found is not None:
                return found
        return None

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((*self.conditions, other))


class SteadyState(Condition):
    def __call__(self, view: TickView) -> Abort | None:
        if not view.reject:
            return None
        who = ", ".join(view.attribution) or "the combined evidence of all probes"
        return Abort(
            kind="steady-state",
            reason=f"steady state broken: the sequential test rejected at tick {view.tick} "
            f"(individually significant: {who})",
            evidence=dict(view.stats),
        )


class Guardrail(Condition):
    def __call__(self, view: TickView) -> Abort | None:
        if not view.fired_guardrails:
            return None
        names = ", ".join(sorted(view.fired_guardrails))
        return Abort(
            kind="guardrail",
            reason=f"guardrail broken at tick {view.tick}: {names}",
            evidence={"guardrails": dict(view.fired_guardrails)},
        )


@dataclasses.dataclass(frozen=True)
class NoData(Condition):
    ticks: int

    def __call__(self, view: TickView) -> Abort | None:
        blind = {n: s for n, s in view.no_data_streaks.items() if s >= self.ticks}
        if not blind:
            return None
        names = ", ".join(sorted(blind))
        return Abort(
            kind="no-data",
            reason=f"blind: no data for {self.ticks} consecutive ticks from {names}; "
            "running faults without observing the steady state is not safe",
            evidence={"no_data_streaks": blind},
        )


class Alert(Condition):
    def __call__(self, view: TickView) -> Abort | None:
        if not view.firing_alerts:
            return None
        return Abort(
            kind="alert",
            reason=f"alert firing at tick {view.tick}: {view.firing_alerts[0]}",
            evidence={"alerts": list(view.firing_alerts)},
        )


def steady_state() -> Condition:
    return SteadyState()


def guardrail() -> Condition:
    return Guardrail()


def no_data(ticks: int) -> Condition:
    return NoData(ticks)


def alert() -> Condition:
    return Alert()
