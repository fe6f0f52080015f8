"""Gates as arithmetic: error budget, worst-case spend, firing alerts, burn rate.

Pure: readings come in (``Reading``, ``Exposure``), a ``Result`` with its numbers and the
sentence a senior SRE would say comes out. The adapter that reads Prometheus is
``runner.adapters.burnrate``; the CLI builds exposures from each experiment's plan.

The error budget (the SRE rule: healthy budget → chaos allowed, thin → tighten,
exhausted → freeze):

- spent = (bad / total over the window) / (1 − SLO); remaining = 1 − spent (below zero
  when the SLO is already missed). Refuse when remaining < ``min_remaining`` (25 %).
- The remaining budget in requests is remaining × (1 − SLO) × the window's requests.
  When the history is shorter than the window (its requests are less than half of what
  today's rate fills the window with), the window's requests are projected at today's
  rate, and the sentence says so: the SLO is a promise over the whole window.
- Worst case of an experiment, assuming every request its faults can reach fails: the
  traffic they can reach (blast share × request rate) for the time until the abort is
  certain. That time comes from the power check of the statistics
  (``stats.power.earliest_abort_ticks``: the ticks the default test needs on the error
  ratio the failures cause, at today's traffic per tick, for each ratio probe with an
  SLO; the fastest probe aborts the run), plus one tick: a fault acts mid-tick and the
  decision lands on a tick, and the power check gives the typical delay, which the extra
  tick turns into a certain one (tests/day/test_gates.py simulates the real test). A
  failure too small to abort on (below min_effect × the SLO) could instead last the
  whole window; the worst case is the larger of the two.
  Refuse when it exceeds ``max_spend`` (10 %) of the remaining budget.
- A budget that cannot be read (Prometheus down, no series, no requests in the window)
  refuses: a gate that cannot see is closed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from runner.day import model as day_model
from runner.model import experiment as model
from runner.model import slo

#: A window's requests below this share of (today's rate x window) mean a short history.
SHORT_HISTORY = 0.5


@dataclasses.dataclass(frozen=True)
class Result:
    """One gate's verdict before one experiment, with the numbers behind it."""

    kind: str
    ok: bool
    sentence: str
    numbers: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Reading:
    """An error budget's inputs as Prometheus answered them (None: no answer)."""

    bad: float | None
    total: float | None
    rate: float | None  # requests per second now
    error: str | None = None  # why the reading is incomplete


@dataclasses.dataclass(frozen=True)
class Exposure:
    """What an experiment puts at risk: the share of traffic its faults reach, and how
    fast its steady-state test aborts when all of that traffic fails."""

    share: float  # 0..1
    share_text: str  # "1 of 3 replicas"
    tick: float
    duration: float
    abort_ticks: int | None  # ticks to a certain abort when all reached requests fail
    undetected: float | None  # the largest error ratio the test may not abort on (psi*p0)
    note: str = ""


def exposure(exp: model.Experiment, targets: Sequence[tuple[Sequence[str], int | None]],
             traffic: Mapping[str, float | None], noun: str) -> Exposure:
    """From a plan: ``targets`` is (target names, population) per fault; ``traffic`` the
    events per second behind each statistical probe now (``MetricsSource.traffic``)."""
    known = [(names, of) for names, of in targets if of and names]
    if not targets:
        share, text = 0.0, "no target"
    elif len(known) < len(targets):
        share, text = 1.0, "targets the platform cannot count (all traffic assumed)"
    else:
        population = max(of for _names, of in known if of)
        hit = min(population, len({name for names, _of in known for name in names}))
        share, text = hit / population, f"{hit} of {population} {noun}"
    from runner.stats import power  # numpy: loaded when a gate is evaluated, not to import

    steady = exp.steady_state
    tick = exp.prometheus.tick
    weights = sum(p.weight for p in steady.stat_probes) or 1.0
    ticks: list[int] = []
    floors: list[float] = []
    for probe in steady.stat_probes:
        if not isinstance(probe, model.RatioProbe) or probe.max is None:
            continue
        floors.append(min(1.0, steady.min_effect * probe.max))
        rate = traffic.get(probe.name)
        if not rate or share <= probe.max:
            continue
        found = power.earliest_abort_ticks("default", rate * tick, probe.max,
                                           psi=share / probe.max,
                                           alpha=steady.alpha * probe.weight / weights)
        if found is not None:
            ticks.append(found)
    note = "" if floors else "no error-ratio probe with an SLO: the whole window is assumed"
    return Exposure(share=share, share_text=text, tick=tick, duration=exp.duration,
                    abort_ticks=min(ticks) if ticks else None,
                    undetected=max(floors) if floors else None, note=note)


def worst_case(exp: Exposure, rate: float) -> tuple[float, float, str]:
    """``(failed requests, seconds, why)`` in the worst case at ``rate`` requests/s."""
    reached = exp.share * rate
    if exp.abort_ticks is None:
        seconds = exp.duration
        failed = reached * seconds
        why = "for the whole fault window (nothing would abort it sooner)"
    else:
        seconds = min(exp.duration, (exp.abort_ticks + 1) * exp.tick)
        failed = reached * seconds
        why = f"before the abort (~{seconds:.0f} s: {exp.abort_ticks} tick(s) to a certain " \
              "abort, plus one)"
    if exp.undetected is not None:
        quiet = min(exp.share, exp.undetected) * rate * exp.duration
        if quiet > failed:
            failed, seconds = quiet, exp.duration
            why = (f"if the failures stay just under what the test is built to catch "
                   f"({exp.undetected:.3g} of requests) for the whole {exp.duration:g} s window")
    return failed, seconds, why


def error_budget(gate: day_model.ErrorBudgetGate, reading: Reading,
                 exp: Exposure) -> Result:
    numbers: dict[str, Any] = {"slo": gate.slo, "window_seconds": gate.window,
                               "min_remaining": gate.min_remaining, "max_spend": gate.max_spend,
                               "bad": reading.bad, "total": reading.total, "rate": reading.rate,
                               "share": exp.share, "exposure_note": exp.note or None}
    head = f"error budget (SLO {gate.slo * 100:.4g} % over {_span(gate.window)})"
    if reading.error or reading.bad is None or not reading.total:
        why = reading.error or ("no requests in the window" if reading.total == 0
                                else "no answer for its queries")
        return Result(gate.kind, False, f"{head}: cannot be judged ({why}); a gate that "
                      "cannot see is closed", numbers)
    allowed = 1.0 - gate.slo
    spent = (reading.bad / reading.total) / allowed
    remaining = 1.0 - spent
    rate = reading.rate if reading.rate is not None else reading.total / gate.window
    filled = rate * gate.window
    projected = reading.rate is not None and reading.total < SHORT_HISTORY * filled
    window_requests = filled if projected else reading.total
    left = max(0.0, remaining) * allowed * window_requests
    failed, seconds, why = worst_case(exp, rate)
    share = failed / left if left > 0 else math.inf
    numbers.update(error_ratio=reading.bad / reading.total, spent=spent, remaining=remaining,
                   projected=projected, window_requests=window_requests,
                   remaining_failures=left, worst_case_failures=failed,
                   worst_case_seconds=seconds, worst_case_share=share if left > 0 else None)
    budget = (f"{remaining * 100:.3g} % remains ({reading.bad:,.0f} failed of "
              f"{reading.total:,.0f} requests; ~{left:,.0f} more failures allowed"
              + (f", projected over the window at today's {rate:.4g} req/s: the history is "
                 "shorter than the window" if projected else "") + ")")
    spend = (f"at {rate:.4g} req/s, {exp.share_text}, up to ~{failed:,.0f} failed requests "
             f"{why} = {_share(share)} of the remaining budget"
             + (f" ({exp.note})" if exp.note else ""))
    if remaining < gate.min_remaining:
        return Result(gate.kind, False, f"{head}: only {budget}, below the floor of "
                      f"{gate.min_remaining * 100:.3g} %: no chaos until it recovers", numbers)
    if share > gate.max_spend:
        return Result(gate.kind, False, f"{head}: {budget}; {spend}, more than the "
                      f"{gate.max_spend * 100:.3g} % allowed", numbers)
    return Result(gate.kind, True, f"{head}: {budget}; {spend} (limit "
                  f"{gate.max_spend * 100:.3g} %)", numbers)


def no_alerts(gate: day_model.NoAlertsGate, firing: Sequence[str] | None,
              error: str | None = None) -> Result:
    numbers: dict[str, Any] = {"query": gate.query, "firing": list(firing or [])}
    if firing is None:
        return Result(gate.kind, False, f"alerts `{gate.query}`: cannot be checked ({error}); "
                      "a gate that cannot see is closed", numbers)
    if firing:
        shown = ", ".join(firing[:5]) + (f" and {len(firing) - 5} more" if len(firing) > 5
                                          else "")
        return Result(gate.kind, False, f"{len(firing)} alert(s) firing for `{gate.query}`: "
                      f"{shown}", numbers)
    return Result(gate.kind, True, f"no alert firing for `{gate.query}`", numbers)


def burn_rate(gate: day_model.BurnRateGate, ratios: Sequence[float | None] | None,
              error: str | None = None) -> Result:
    if ratios is None:
        return Result(gate.kind, False, f"burn rate: cannot be read ({error}); a gate that "
                      "cannot see is closed", {"slo": gate.rule.slo})
    burn = slo.evaluate(gate.rule, ratios)
    if burn.hot:
        return Result(gate.kind, False, f"{burn.sentence()}: the budget is burning now; no "
                      "chaos until it cools", burn.to_dict())
    return Result(gate.kind, True, burn.sentence(), burn.to_dict())


def _share(value: float) -> str:
    if math.isinf(value):
        return "more than all"
    return f"{value * 100:.3g} %" if value >= 0.001 else "< 0.1 %"


def _span(seconds: float) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds / 86_400:.0f}d"
    if seconds % 3_600 == 0:
        return f"{seconds / 3_600:.0f}h"
    return f"{seconds / 60:.0f}m" if seconds % 60 == 0 else f"{seconds:g}s"
