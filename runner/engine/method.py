"""The inject phase of a Chaos Toolkit method: its steps in order, then its background joined.

A ``model.Method`` is run by ``run``, as the inject phase of the one run loop
(``runner.engine.run``); faults keep every guarantee of ``inject.Injector``. Decisions:

- The rollback group is registered (journaled, fsynced, pushed) before the first step
  (``rollbacks.register``), so every exit path, and ``gameday revert`` after a SIGKILL,
  runs it.
- An action is a fault: intent journaled and fsynced, then it acts, and its outcome is
  judged (exception, exit status, HTTP status: exit 4 "did not take effect").
- A probe is an observation (``observation``, its output bounded). A probe with a
  tolerance is run as chaoslib runs it and held against its tolerance by the adapter
  (``ports.StepRunner.judge``, chaoslib's own code); outside it, the steady state has
  deviated: the run aborts as broken (``tolerance``, exit 1). A probe without one is
  judged as an action is: a failed read is exit 4.
- Pauses (``pauses.before/after``, ``${name}`` resolved by the adapter at run time) are
  ``RunContext.sleep``: interruptible by signals and stops, and the sentinels (the
  hypothesis checks during the method) keep being consulted in them.
- ``background: true`` activities run in a worker thread each (at most
  ``MAX_BACKGROUND``); their intents are journaled in the run's own thread before they
  are handed over, their outcomes when joined. They are joined after the last step,
  waiting in one-second slices that keep consulting the safe points, for at most
  ``JOIN_LIMIT`` seconds; on an abnormal exit the wait is ``JOIN_GRACE`` at most, and a
  worker still running then is abandoned (journaled as a warning; Python cannot stop a
  thread) before the reverts start.
- Method-level controls (``ports.StepRunner.control``) run before the first step and
  after the join, on every exit path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent import futures
from typing import Any, NoReturn

from runner import errors, ports
from runner.engine import context, inject, reverts, rollbacks
from runner.journal import events
from runner.model import experiment as model

MAX_BACKGROUND = 32
JOIN_LIMIT = 3600.0
JOIN_GRACE = 30.0


@dataclasses.dataclass
class _Job:
    step: model.Step
    future: futures.Future[tuple[float, Any]]


def run(ctx: context.RunContext, injector: inject.Injector, stack: reverts.RevertStack,
        method: model.Method, planned: Mapping[int, ports.PlannedFault]) -> None:
    """Register the rollbacks, run every step in order, join the background ones."""
    runner = ctx.activities
    if not isinstance(runner, ports.StepRunner):
        raise errors.RunnerError("a Chaos Toolkit method needs its activity runner "
                                 "(runner.adapters.ctk); this run was built without it")
    ctx.enter("inject", faults=len(method.actions), steps=len(method.steps),
              rollbacks=len(method.rollbacks))
    offset = len(method.steps)
    rollbacks.register(ctx, stack, method,
                       [planned[offset + i] for i in range(len(method.rollbacks))])
    jobs: list[_Job] = []
    pool = futures.ThreadPoolExecutor(max_workers=MAX_BACKGROUND,
                                      thread_name_prefix="gameday-background")
    done = False
    runner.control("method", "before")
    try:
        for step in method.steps:
            _pause(ctx, runner, step, "before")
            if step.background:
                jobs.append(_start(ctx, injector, runner, pool, step, planned))
            elif step.kind == "action":
                injector.inject(planned[step.index])
            else:
                _observe(ctx, runner, step, _timed(ctx, runner, step))
            _pause(ctx, runner, step, "after")
        _join(ctx, injector, runner, jobs, planned, JOIN_LIMIT, strict=True)
        done = True
    finally:
        if not done:
            _join(ctx, injector, runner, jobs, planned, JOIN_GRACE, strict=False)
        pool.shutdown(wait=False, cancel_futures=True)
        runner.control("method", "after", [j.step.name for j in jobs])


def _pause(ctx: context.RunContext, runner: ports.StepRunner, step: model.Step,
           when: str) -> None:
    value = step.pause_before if when == "before" else step.pause_after
    if value is None:
        return
    seconds = runner.seconds(value)
    if seconds <= 0:
        return
    ctx.log(events.PAUSE, step=step.index, name=step.name, when=when, seconds=seconds)
    phase, ctx.phase = ctx.phase, "pause"
    try:
        ctx.sleep(seconds)
    finally:
        ctx.phase = phase


def _timed(ctx: context.RunContext, runner: ports.StepRunner, step: model.Step
           ) -> tuple[float, Any]:
    started = ctx.clock.monotonic()
    try:
        output = runner.observe(step.activity) if step.checked else runner.run(step.activity)
    except Exception as exc:  # noqa: BLE001 - journaled, then the run ends (exit 4)
        _probe_failed(ctx, step, ctx.clock.monotonic() - started, exc)
    return ctx.clock.monotonic() - started, output


def _probe_failed(ctx: context.RunContext, step: model.Step, seconds: float,
                  exc: BaseException) -> NoReturn:
    message = exc.message if isinstance(exc, errors.GamedayError) else repr(exc)
    evidence = exc.evidence if isinstance(exc, errors.ActivityError) else {}
    ctx.log(events.OBSERVATION, step=step.index, name=step.name, ok=False,
            activity=dict(step.activity), seconds=round(seconds, 6), error=message,
            evidence=evidence)
    raise inject.FaultFailed(
        f"method probe #{step.index} {step.name!r} failed ({message}): the method did not "
        "run as written. Every fault registered so far was reverted.") from exc


def _observe(ctx: context.RunContext, runner: ports.StepRunner, step: model.Step,
             timed: tuple[float, Any]) -> None:
    seconds, output = timed
    verdict = runner.judge(step.activity, output) if step.checked else None
    ctx.log(events.OBSERVATION, step=step.index, name=step.name, ok=True,
            activity=dict(step.activity), seconds=round(seconds, 6),
            output=inject.jsonable(output),
            tolerance_met=None if verdict is None else verdict.ok,
            tolerance=None if verdict is None else verdict.detail)
    if verdict is not None and not verdict.ok:
        halt = ports.Halt("tolerance", f"method probe {step.name!r} is outside its tolerance "
                          f"({verdict.detail})", broken=True,
                          evidence={"step": step.index, **dict(verdict.evidence)})
        raise context.Halted(halt, ports.Checkpoint("inject", fault=step.index))


def _start(ctx: context.RunContext, injector: inject.Injector, runner: ports.StepRunner,
           pool: futures.ThreadPoolExecutor, step: model.Step,
           planned: Mapping[int, ports.PlannedFault]) -> _Job:
    """Journal the intent here, then hand the step to a worker (its pauses too)."""
    if step.kind == "action":
        injector.intend(planned[step.index])
    else:
        ctx.checkpoint("inject", fault=step.index)
    clock = ctx.clock

    def work() -> tuple[float, Any]:
        started = clock.monotonic()
        if step.kind == "action":
            return clock.monotonic() - started, runner.run(step.activity)
        if step.checked:
            return clock.monotonic() - started, runner.observe(step.activity)
        return clock.monotonic() - started, runner.run(step.activity)

    return _Job(step, pool.submit(work))


def _join(ctx: context.RunContext, injector: inject.Injector, runner: ports.StepRunner,
          jobs: list[_Job], planned: Mapping[int, ports.PlannedFault], limit: float, *,
          strict: bool) -> None:
    """Wait for the background jobs (bounded), then journal each outcome in order."""
    pending = [j.future for j in jobs if not j.future.done()]
    deadline = ctx.clock.monotonic() + limit
    for _ in range(int(limit) + 1):  # one-second waits: bounded in count and in time
        if not pending or ctx.clock.monotonic() >= deadline:
            break
        if strict:
            ctx.between()  # a stop or a tolerance check may end the wait (then: grace)
        _done, still = futures.wait(pending, timeout=1.0)
        pending = list(still)
    for job in list(jobs):
        jobs.remove(job)
        if not job.future.done():
            ctx.log_safe(events.WARNING, phase="inject", message=f"background step "
                         f"#{job.step.index} {job.step.name!r} was still running after "
                         f"{limit:g} s; gameday stops waiting for it (its outcome is unknown)")
            if strict:
                raise errors.RunnerError(f"background step {job.step.name!r} did not finish "
                                         f"within {limit:g} s; every fault was reverted")
            continue
        _finish(ctx, injector, runner, job, planned[job.step.index]
                if job.step.kind == "action" else None, strict)


def _finish(ctx: context.RunContext, injector: inject.Injector, runner: ports.StepRunner,
            job: _Job, fault: ports.PlannedFault | None, strict: bool) -> None:
    step = job.step
    exc = job.future.exception()
    try:
        if fault is not None:
            if exc is not None:
                injector.failed(fault, 0.0, exc)
            injector.succeeded(fault, *job.future.result())
        elif exc is not None:
            _probe_failed(ctx, step, 0.0, exc)
        else:
            _observe(ctx, runner, step, job.future.result())
    except (errors.GamedayError, context.Halted):
        if strict:
            raise

