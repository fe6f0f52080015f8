"""The facade the engine uses: calibrate once, then ``step`` once per tick.

    plan = calibrate(specs, alpha, baseline_obs, window_ticks=W)   # before any fault
    state = start(plan)                                             # fresh e-processes
    state, decision = step(plan, state, {"checkout errors": Obs(n=1500, e=12)})

``step`` is a pure function of (plan, state, observations) over frozen values, so each
tick can be journaled (``decision.to_dict()``) and a reviewer can replay the run from
the plan and the observations alone. After a revert the engine calls ``start`` again:
the recovery watch gets fresh e-processes.

Decisions:
- A probe with no data this tick (missing, None, NaN, n = 0) is left untouched: no
  data is neither for nor against the steady state. Being blind is the engine's
  ``no-data`` abort condition, not evidence.
- The combined e-value is E = Σ_j w_j E_j; the test rejects once log E ≥ log(1/α_test)
  and the rejection is sticky (Ville's bound is about the supremum over time).
- Each probe reports its always-valid p-value min(1, 1/max_s E_j,s) and whether it is
  individually significant (max_s E_j,s ≥ 1/(w_j α_test)); ``attribution`` lists those.
  ``leading`` names the largest contributor w_j·E_j, useful when the combined evidence
  crosses without any single probe doing so.
- With no statistical probe (or all weights zero) E is 1 by convention: never rejects.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TypedDict

from runner.stats import betting, combine, negbin
from runner.stats.guardrail import GuardrailState, guardrail_step
from runner.stats.plan import (
    MonitorPlan,
    Obs,
    ProbeCalibration,
    ProbeSpec,
    calibrate,
    usable,
)

__all__ = [
    "GuardrailState",
    "MonitorPlan",
    "MonitorState",
    "MonitorStep",
    "Obs",
    "ProbeCalibration",
    "ProbeSpec",
    "ProbeStep",
    "calibrate",
    "guardrail_step",
    "start",
    "step",
]

Process = betting.BettingState | negbin.FastState


@dataclasses.dataclass(frozen=True)
class ProbeState:
    """One probe's e-process and the running maximum of its log E (for the p-value)."""

    process: Process
    max_log_e: float = 0.0


@dataclasses.dataclass(frozen=True)
class MonitorState:
    """All probes' e-processes after ``tick`` ticks, in the plan's order."""

    tick: int
    probes: tuple[ProbeState, ...]
    max_log_e: float = 0.0
    rejected: bool = False


class ProbeStepDict(TypedDict):
    name: str
    n: float | None
    e: float | None
    log_factor: float
    log_e: float
    p_value: float
    significant: bool


class MonitorStepDict(TypedDict):
    tick: int
    probes: list[ProbeStepDict]
    log_e: float
    max_log_e: float
    threshold_log: float
    reject: bool
    attribution: list[str]
    leading: str | None


@dataclasses.dataclass(frozen=True)
class ProbeStep:
    """One probe on one tick. ``n``/``e`` are None when the tick had no data."""

    name: str
    n: float | None
    e: float | None
    log_factor: float
    log_e: float
    p_value: float
    significant: bool

    def to_dict(self) -> ProbeStepDict:
        return ProbeStepDict(name=self.name, n=self.n, e=self.e, log_factor=self.log_factor,
                             log_e=self.log_e, p_value=self.p_value,
                             significant=self.significant)


@dataclasses.dataclass(frozen=True)
class MonitorStep:
    """The decision of one tick: the evidence, the threshold, and whether to abort."""

    tick: int
    probes: tuple[ProbeStep, ...]
    log_e: float
    max_log_e: float
    threshold_log: float
    reject: bool
    attribution: tuple[str, ...]
    leading: str | None

    def to_dict(self) -> MonitorStepDict:
        return MonitorStepDict(
            tick=self.tick, probes=[p.to_dict() for p in self.probes], log_e=self.log_e,
            max_log_e=self.max_log_e, threshold_log=self.threshold_log, reject=self.reject,
            attribution=list(self.attribution), leading=self.leading,
        )


def _fresh(probe: ProbeCalibration) -> ProbeState:
    return ProbeState(process=negbin.start() if probe.mode_used == "fast" else betting.start())


def start(plan: MonitorPlan) -> MonitorState:
    """Fresh e-processes (every E_j = 1) for the plan's probes."""
    return MonitorState(tick=0, probes=tuple(_fresh(p) for p in plan.probes))


def _advance(probe: ProbeCalibration, state: ProbeState, o: Obs) -> tuple[ProbeState, float]:
    process = state.process
    if isinstance(process, negbin.FastState):
        if probe.phi is None:
            raise ValueError(f"{probe.name}: fast mode without a dispersion bound in the plan")
        new_fast, inc = negbin.update(process, o.n, o.e, probe.p0, probe.phi, probe.n_ref)
        return ProbeState(new_fast, max(state.max_log_e, new_fast.log_e)), inc
    new_bet, inc = betting.update(process, o.n, o.e, probe.p0, probe.n_ref)
    return ProbeState(new_bet, max(state.max_log_e, new_bet.log_e)), inc


def step(
    plan: MonitorPlan, state: MonitorState, obs: Mapping[str, Obs | None]
) -> tuple[MonitorState, MonitorStep]:
    """Feed one tick of observations; returns the new state and the tick's decision."""
    if len(state.probes) != len(plan.probes):
        raise ValueError("the monitor state does not belong to this plan (probe count differs)")
    alpha = plan.alpha_test
    new_states: list[ProbeState] = []
    steps: list[ProbeStep] = []
    for probe, old in zip(plan.probes, state.probes, strict=True):
        o = obs.get(probe.name)
        n: float | None
        e: float | None
        if o is not None and usable(o):
            ps, inc = _advance(probe, old, o)
            n, e = float(o.n), float(o.e)
        else:
            ps, inc, n, e = old, 0.0, (None if o is None else float(o.n)), None
        new_states.append(ps)
        steps.append(ProbeStep(
            name=probe.name, n=n if n is None or math.isfinite(n) else None, e=e,
            log_factor=inc, log_e=ps.process.log_e, p_value=combine.p_value(ps.max_log_e),
            significant=combine.significant(ps.max_log_e, probe.weight, alpha),
        ))
    weights = [p.weight for p in plan.probes]
    log_e = combine.log_weighted_sum([s.log_e for s in steps], weights)
    if not math.isfinite(log_e):
        log_e = 0.0  # no probe carries weight: E = 1 by convention, never rejects
    max_log_e = max(state.max_log_e, log_e)
    rejected = state.rejected or log_e >= plan.threshold_log
    contributions = [(math.log(w) + s.log_e, s.name) for s, w in zip(steps, weights, strict=True)
                     if w > 0]
    leading = max(contributions)[1] if contributions else None
    new_state = MonitorState(tick=state.tick + 1, probes=tuple(new_states),
                             max_log_e=max_log_e, rejected=rejected)
    decision = MonitorStep(
        tick=new_state.tick, probes=tuple(steps), log_e=log_e, max_log_e=max_log_e,
        threshold_log=plan.threshold_log, reject=rejected,
        attribution=combine.attribution([p.name for p in plan.probes],
                                        [s.max_log_e for s in new_states], weights, alpha),
        leading=leading,
    )
    return new_state, decision
