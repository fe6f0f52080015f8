"""The baseline phase: the steady state must hold before any fault, and the test is calibrated.

Reads every probe on the wall-clock grid for ``steady_state.baseline`` seconds (at least
three ticks; counter deltas primed first), journals each tick, calibrates the sequential
test (``stats.calibrate``) and refuses the run (exit 3, nothing injected) when the
baseline does not hold or a guardrail fired. An experiment with no probes at all (a
Chaos Toolkit file without gameday's Prometheus probes) has nothing to read: its
baseline is one safe point, where the tolerance sentinel runs its "before" check.
"""

from __future__ import annotations

from runner import errors
from runner.engine import context
from runner.engine import probes as probe_mod
from runner.journal import events
from runner.stats import history as stats_history
from runner.stats import monitor as stats


def run(ctx: context.RunContext, past: stats_history.Calibration | None = None
        ) -> stats.MonitorPlan:
    """The calibrated plan; raises ``errors.BaselineNotSteady`` (or ``Halted``).

    ``past`` (a calibration on the service's own history) raises the abort threshold,
    never lowers it; it is journaled beside the calibration.
    """
    exp = ctx.exp
    steady = exp.steady_state
    if not steady.probes:  # nothing to read: one safe point
        ctx.enter("baseline", ticks=0, seconds=0)
        ctx.checkpoint("baseline", tick=0)
        return stats.calibrate([], steady.alpha, {}, window_ticks=1)
    seconds = max(steady.baseline, 3 * ctx.tick)
    ctx.enter("baseline", ticks=int(seconds // ctx.tick), seconds=seconds)
    probe_mod.read(steady, ctx.metrics, ctx.platform)  # primes counter deltas
    history: dict[str, list[stats.Obs | None]] = {p.name: [] for p in steady.stat_probes}
    guards = probe_mod.Guardrails(steady)
    for t in ctx.ticks(seconds, minimum=3):
        ctx.checkpoint("baseline", tick=t.k)
        reading = probe_mod.read(steady, ctx.metrics, ctx.platform)
        for name, o in reading.obs(steady).items():
            history[name].append(o)
        ctx.log(events.TICK, phase="baseline", tick=t.k, of=t.of,
                samples=reading.to_dict(), guardrails=guards.update(reading),
                read_errors=list(reading.errors), **ctx.tick_extra(t))
    window_ticks = max(1, int(exp.duration // ctx.tick))
    plan = stats.calibrate(
        probe_mod.stat_specs(steady), steady.alpha, history,
        min_effect=steady.min_effect, window_ticks=window_ticks,
    )
    plan = stats_history.apply(plan, past)
    ctx.log(events.CALIBRATION, **plan.to_dict())
    if past is not None:
        ctx.log(events.HISTORY_CALIBRATION, **past.to_dict())
    for warning in plan.warnings:
        ctx.log(events.WARNING, phase="baseline", message=warning)
    problems = list(plan.problems)
    if guards.ever_fired:
        problems.append("guardrail(s) broken during the baseline: "
                        + ", ".join(sorted(guards.ever_fired)))
    if problems or not plan.baseline_holds:
        raise errors.BaselineNotSteady(
            "Refused before any fault: the steady state did not hold during the baseline ("
            + "; ".join(problems or ["see the calibration event in the journal"])
            + "). Nothing was injected. Fix the service or the thresholds and run again."
        )
    return plan
