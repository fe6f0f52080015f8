"""The watch phase: once per tick, read, test, check the abort policy; an abort ends it.

The fault window started when the first fault acted (``started``) and lasts
``duration`` seconds on the wall clock, however slow the reads are (a Chaos Toolkit
method restarts it when the method ends: then ``duration`` more). Each tick: every
probe read, the sequential test stepped, guardrails and alerts checked, the tick
journaled, and the first abort condition that holds (``policy_for``) journaled and
returned. A sentinel's halt at a tick is an abort too (``abort_from``). An experiment
with no probes and no ``duration`` has nothing to watch: one safe point, where the
tolerance sentinel runs its end-of-method check.
"""

from __future__ import annotations

from runner import errors
from runner.engine import abort as abort_mod
from runner.engine import context
from runner.engine import probes as probe_mod
from runner.journal import events
from runner.model import experiment as model
from runner.stats import monitor as stats


def policy_for(experiment: model.Experiment) -> abort_mod.Condition:
    """The abort policy of an experiment: the steady-state test is always on."""
    policy = abort_mod.steady_state()
    if experiment.abort.guardrail:
        policy = policy | abort_mod.guardrail()
    if experiment.abort.no_data_ticks > 0:
        policy = policy | abort_mod.no_data(experiment.abort.no_data_ticks)
    if experiment.abort.alerts:
        policy = policy | abort_mod.alert()
    return policy


def abort_from(ctx: context.RunContext, halted: context.Halted) -> abort_mod.Abort:
    """A sentinel's halt as an abort, journaled with where it happened."""
    halt = halted.halt
    found = abort_mod.Abort(kind=halt.kind, reason=halt.reason, evidence=halt.evidence)
    where: dict[str, object] = {"phase": halted.point.phase}
    if halted.point.tick is not None:
        where["tick"] = halted.point.tick
    if halted.point.fault is not None:
        where["fault"] = halted.point.fault
    ctx.log_safe(events.ABORT, kind=found.kind, reason=found.reason,
                 evidence=dict(found.evidence), **where)
    return found


def _alerts(ctx: context.RunContext) -> list[str]:
    if not ctx.exp.abort.alerts:
        return []
    try:
        return ctx.metrics.alerts(ctx.exp.abort.alerts)
    except errors.GamedayError:
        return []


def run(ctx: context.RunContext, plan: stats.MonitorPlan,
        started: float | None) -> abort_mod.Abort | None:
    """The abort that ended the window, or None when it ended on time."""
    exp = ctx.exp
    steady = exp.steady_state
    began = started if started is not None else ctx.clock.monotonic()
    seconds = max(ctx.tick, exp.duration - (ctx.clock.monotonic() - began))
    if not steady.probes and exp.duration <= 0:  # the method was the window
        ctx.enter("watch", seconds=0, duration=0)
        try:
            ctx.checkpoint("watch", tick=0)
        except context.Halted as halted:
            return abort_from(ctx, halted)
        return None
    ctx.enter("watch", seconds=round(seconds, 3), duration=exp.duration)
    policy = policy_for(exp)
    state = stats.start(plan)
    guards = probe_mod.Guardrails(steady)
    streaks = probe_mod.Streaks([p.name for p in steady.stat_probes])
    last = None
    try:
        for t in ctx.ticks(seconds):
            last = t
            ctx.checkpoint("watch", tick=t.k)
            reading = probe_mod.read(steady, ctx.metrics, ctx.platform)
            obs = reading.obs(steady)
            state, step = stats.step(plan, state, obs)
            guard_view = guards.update(reading)
            alerts = _alerts(ctx)
            stats_dict = step.to_dict()
            view = abort_mod.TickView(
                tick=t.k, reject=step.reject, attribution=step.attribution,
                stats=stats_dict, fired_guardrails=guards.fired_now,
                no_data_streaks=streaks.update(obs), firing_alerts=tuple(alerts),
            )
            ctx.log(events.TICK, phase="watch", tick=t.k, of=t.of,
                    samples=reading.to_dict(), stats=stats_dict,
                    guardrails=guard_view, alerts=alerts,
                    read_errors=list(reading.errors), **ctx.tick_extra(t))
            found = policy(view)
            if found is not None:
                ctx.log(events.ABORT, kind=found.kind, reason=found.reason,
                        evidence=dict(found.evidence), tick=t.k)
                return found
    except context.Halted as halted:
        return abort_from(ctx, halted)
    if last is not None and last.k < last.of:
        ctx.log(events.WARNING, phase="watch",
                message=f"the fault window ended at its deadline with {last.of - last.k} "
                "tick(s) not read: the reads were slower than the tick")
    return None
