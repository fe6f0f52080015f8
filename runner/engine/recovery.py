"""The recovery watch: after the reverts, must the steady state be shown to come back?

Runs on the wall-clock grid for ``recovery.within`` seconds. "Back" needs positive
evidence (``runner.stats.recovery``): every statistical probe's always-valid upper bound
of its error ratio is at or below its p0, with the guardrails in bounds on that tick; a
fresh test that merely did not reject proves nothing (a service still at 2·p0 passes
that). Each tick journals the bounds; the verdict says how sure ("back: 95 % upper bound
X ≤ p0 after N ticks") or "not shown to be back within N s". A stop or a signal
during the recovery watch ends it (journaled as cut short, then re-raised: the verdict
is then "interrupted" or "stopped", not a finding about the service).
"""

from __future__ import annotations

from runner import errors
from runner.engine import context
from runner.engine import probes as probe_mod
from runner.journal import events
from runner.stats import monitor as stats
from runner.stats import recovery as stats_recovery

RECOVERY_SETTLE_TICKS = 3


def watch(ctx: context.RunContext, plan: stats.MonitorPlan) -> tuple[bool, str]:
    """``(recovered, sentence)``; journals every tick and a ``recovery`` event."""
    within = ctx.exp.recovery.within
    if within is None:
        return True, ""
    steady = ctx.exp.steady_state
    ctx.enter("recovery", within=within)
    started = ctx.clock.monotonic()
    state = stats.start(plan)
    rplan = stats_recovery.plan(plan)
    rstate = stats_recovery.start(rplan)
    bounds: stats_recovery.RecoveryStep | None = None
    settled = 0
    guard_streak = 0  # consecutive ticks with every guardrail in bounds
    try:
        for t in ctx.ticks(within, minimum=RECOVERY_SETTLE_TICKS):
            ctx.checkpoint("recovery", tick=t.k)
            reading = probe_mod.read(steady, ctx.metrics, ctx.platform)
            obs = reading.obs(steady)
            state, step = stats.step(plan, state, obs)
            rstate, bounds = stats_recovery.step(rplan, rstate, obs)
            guards_ok = all(
                probe_mod.in_bounds(reading.value(g.name), *probe_mod.guardrail_bounds(g)[:2])
                for g in steady.guardrails
            )
            if step.reject:
                state = stats.start(plan)  # not back yet: fresh evidence from here
            settled = settled + 1 if guards_ok and not step.reject else 0
            guard_streak = guard_streak + 1 if guards_ok else 0
            ctx.log(events.TICK, phase="recovery", tick=t.k, of=t.of,
                    samples=reading.to_dict(), stats=step.to_dict(), guardrails_ok=guards_ok,
                    settled=settled, recovery=bounds.to_dict(), **ctx.tick_extra(t))
            if bounds.back and guard_streak >= RECOVERY_SETTLE_TICKS:
                seconds = ctx.clock.monotonic() - started
                how = f"back: {bounds.sentence()} after {t.k} ticks" if rplan.probes else (
                    f"back: guardrails in bounds for {guard_streak} ticks")
                ctx.log(events.RECOVERY, recovered=True, seconds=round(seconds, 3),
                        statement=how, bounds=bounds.to_dict())
                return True, f"recovered {seconds:.0f} s after the revert ({how})"
    except (errors.Interrupted, context.Halted) as exc:
        seconds = ctx.clock.monotonic() - started
        ctx.log_safe(events.RECOVERY, recovered=False, seconds=round(seconds, 3),
                     cut_short=str(exc))
        raise
    last = "no reading" if bounds is None else (
        bounds.sentence() if rplan.probes else "guardrails not in bounds long enough")
    how = f"not shown to be back within {within:.0f} s ({last})"
    ctx.log(events.RECOVERY, recovered=False, seconds=round(ctx.clock.monotonic() - started, 3),
            statement=how, bounds=None if bounds is None else bounds.to_dict())
    return False, how
