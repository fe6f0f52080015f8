"""The recovery watch: after the reverts, must the steady state be shown to come back?

Runs on the wall-clock grid for ``recovery.within`` seconds with fresh e-processes
(the statistics engineer replaces "no rejection for a few ticks" with positive evidence:
an always-valid upper bound below p0). Guardrails must be in bounds. A stop or a signal
during the recovery watch ends it (journaled as cut short, then re-raised: the verdict
is then "interrupted" or "stopped", not a finding about the service).
"""

from __future__ import annotations

from runner import errors
from runner.engine import context
from runner.engine import probes as probe_mod
from runner.journal import events
from runner.stats import monitor as stats

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
    settled = 0
    try:
        for t in ctx.ticks(within, minimum=RECOVERY_SETTLE_TICKS):
            ctx.checkpoint("recovery", tick=t.k)
            reading = probe_mod.read(steady, ctx.metrics, ctx.platform)
            state, step = stats.step(plan, state, reading.obs(steady))
            guards_ok = all(
                probe_mod.in_bounds(reading.value(g.name), *probe_mod.guardrail_bounds(g)[:2])
                for g in steady.guardrails
            )
            if step.reject:
                state = stats.start(plan)  # not back yet: fresh evidence from here
            settled = settled + 1 if guards_ok and not step.reject else 0
            ctx.log(events.TICK, phase="recovery", tick=t.k, of=t.of,
                    samples=reading.to_dict(), stats=step.to_dict(), guardrails_ok=guards_ok,
                    settled=settled, **ctx.tick_extra(t))
            if settled >= RECOVERY_SETTLE_TICKS:
                seconds = ctx.clock.monotonic() - started
                ctx.log(events.RECOVERY, recovered=True, seconds=round(seconds, 3))
                return True, f"recovered {seconds:.0f} s after the revert"
    except (errors.Interrupted, context.Halted) as exc:
        seconds = ctx.clock.monotonic() - started
        ctx.log_safe(events.RECOVERY, recovered=False, seconds=round(seconds, 3),
                     cut_short=str(exc))
        raise
    ctx.log(events.RECOVERY, recovered=False, seconds=round(ctx.clock.monotonic() - started, 3))
    return False, f"not shown to be back within {within:.0f} s"
