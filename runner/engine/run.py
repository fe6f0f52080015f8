"""One run, phase by phase: preflight, baseline, inject, watch, revert, recovery, verdict.

Decisions:
- Every fault's intent and revert are journaled (fsynced) and the revert registered on
  the stack *before* the fault acts; reverts run in a ``finally`` on every exit path.
- Signals are cooperative: the cancel token is checked between ticks and faults, and the
  revert phase ignores it, so a Ctrl-C or SIGTERM always ends in completed reverts.
- A tick whose probes cannot be read is "no data", never a crash; blindness for
  ``abort.no_data_ticks`` ticks aborts (exit 4: the run could not observe, not a finding).
- "Steady state held" means the fault window ended without an abort, in those words.
"""

from __future__ import annotations

import dataclasses
import math
import platform as pyplatform
from collections.abc import Mapping
from typing import Any

from runner import __version__, errors, ports
from runner.engine import abort as abort_mod
from runner.engine import clock as clock_mod
from runner.engine import probes as probe_mod
from runner.engine import reverts
from runner.errors import ExitCode
from runner.journal import events, writer
from runner.model import experiment as model
from runner.stats import monitor as stats

RECOVERY_SETTLE_TICKS = 3
MAX_TICKS = 100_000  # a hard bound on any tick loop


@dataclasses.dataclass(frozen=True)
class RunPorts:
    """Everything a run touches, built by the CLI (or by tests)."""

    metrics: ports.MetricsSource
    platform: ports.Platform
    activities: ports.ActivityRunner
    clock: ports.Clock
    journal: writer.JournalWriter
    cancel: clock_mod.Cancel


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The in-memory result of a run (the journal's ``verdict`` event is its record)."""

    run_id: str
    verdict: str
    exit_code: ExitCode
    reason: str
    faults_injected: int = 0
    reverts_failed: int = 0


class _Aborted(Exception):
    def __init__(self, found: abort_mod.Abort) -> None:
        super().__init__(found.reason)
        self.found = found


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


class Run:
    """Executes one experiment against the given ports."""

    def __init__(
        self,
        experiment: model.Experiment,
        run_ports: RunPorts,
        *,
        run_id: str,
        seed: int,
        versions: Mapping[str, str] | None = None,
    ) -> None:
        self.exp = experiment
        self.p = run_ports
        self.run_id = run_id
        self.seed = seed
        self.versions = {"gameday": __version__, "python": pyplatform.python_version(),
                         **(versions or {})}
        self.tick = experiment.prometheus.tick
        self.stack = reverts.RevertStack(run_ports.activities, run_ports.journal, run_ports.clock)
        self.injected = 0
        self.plan: stats.MonitorPlan | None = None

    # -- helpers ---------------------------------------------------------------------

    def _log(self, type_: str, **payload: Any) -> events.Event:
        return self.p.journal.append(type_, **payload)

    def _phase(self, name: str, **detail: Any) -> None:
        self._log(events.PHASE, phase=name, **detail)

    def _check_cancel(self) -> None:
        if self.p.cancel.is_set():
            raise errors.Interrupted(f"interrupted by {self.p.cancel.reason}")

    def _sleep_until(self, deadline: float) -> None:
        for _ in range(MAX_TICKS):
            self._check_cancel()
            remaining = deadline - self.p.clock.monotonic()
            if remaining <= 0:
                return
            self.p.clock.sleep(min(remaining, 1.0))
        self._check_cancel()

    def _ticks(self, count: int) -> Any:
        """Yield tick numbers 1..count, each at its scheduled time (no drift)."""
        start = self.p.clock.monotonic()
        for k in range(1, min(count, MAX_TICKS) + 1):
            self._sleep_until(start + k * self.tick)
            yield k

    # -- phases ----------------------------------------------------------------------

    def execute(self) -> Outcome:
        exp = self.exp
        self._log(
            events.RUN_STARTED,
            run_id=self.run_id,
            title=exp.title,
            owner=exp.owner,
            source=exp.source,
            experiment=dict(exp.document),
            experiment_sha256=exp.sha256,
            platform=exp.target.platform,
            seed=self.seed,
            versions=self.versions,
            tick=self.tick,
            duration=exp.duration,
            alpha=exp.steady_state.alpha,
        )
        outcome: Outcome | None = None
        found: abort_mod.Abort | None = None
        try:
            planned = self._preflight()
            self.plan = self._baseline()
            self._inject(planned)
            found = self._watch()
        except errors.GamedayError as exc:
            outcome = self._outcome_for_error(exc)
        except Exception as exc:  # noqa: BLE001 - any bug still ends in reverts
            outcome = self._outcome_for_error(
                errors.RunnerError(f"gameday failed unexpectedly: {type(exc).__name__}: {exc}")
            )
        finally:
            if len(self.stack):
                self._phase("revert")
                results = self.stack.revert_all()
            else:
                results = []
        failed = [r for r in results if not r.ok]
        if failed:
            names = ", ".join(f"#{r.fault} {r.name}: {r.error}" for r in failed)
            outcome = Outcome(
                self.run_id, "revert-failed", ExitCode.REVERT_FAILED,
                f"a revert failed; a human must act now ({names}). "
                f"`gameday revert {self.p.journal.path}` retries the pending reverts.",
                self.injected, len(failed),
            )
        elif outcome is None:
            try:
                outcome = self._after_window(found)
            except errors.Interrupted as exc:
                outcome = self._outcome_for_error(exc)
        self._log(
            events.VERDICT,
            verdict=outcome.verdict,
            exit_code=int(outcome.exit_code),
            reason=outcome.reason,
            faults_injected=outcome.faults_injected,
            reverts_failed=outcome.reverts_failed,
        )
        return outcome

    def _outcome_for_error(self, exc: errors.GamedayError) -> Outcome:
        if isinstance(exc, errors.Interrupted):
            self._log(events.SIGNAL, reason=self.p.cancel.reason,
                      note="interrupted; reverting every fault before exiting")
            verdict = "interrupted"
        elif isinstance(exc, errors.RefusedError):
            verdict = "refused"
        elif isinstance(exc, errors.InputError):
            verdict = "invalid"
        elif isinstance(exc, errors.PlatformError) and not len(self.stack):
            verdict = "refused"  # the platform failed before any fault was registered
        else:
            code = ExitCode.RUNNER_ERROR if exc.exit_code == ExitCode.REFUSED else exc.exit_code
            return Outcome(self.run_id, "error", code, exc.message, self.injected)
        return Outcome(self.run_id, verdict, exc.exit_code, exc.message, self.injected)

    def _preflight(self) -> list[ports.PlannedFault]:
        self._phase("preflight")
        steady = self.exp.steady_state
        prom = [p for p in steady.probes if not isinstance(p, model.ReadyReplicasProbe)]
        problems = list(self.p.metrics.preflight(prom)) if prom else []
        warnings = list(self.p.metrics.warnings(prom)) if prom else []
        if self.exp.abort.alerts:
            problems += self.p.metrics.preflight_alerts(self.exp.abort.alerts)
        problems += self.p.platform.preflight(self.exp)
        for probe in steady.probes:
            if (isinstance(probe, model.ReadyReplicasProbe) and not problems
                    and self.p.platform.ready_replicas(probe) is None):
                problems.append(f"probe {probe.name!r}: cannot read the ready replicas "
                                f"of {probe.kind} {probe.workload!r}")
        planned: list[ports.PlannedFault] = []
        if not problems:
            planned = self.p.platform.plan(self.exp, self.run_id, self.seed)
        self._log(events.PREFLIGHT, problems=problems, warnings=warnings)
        if problems:
            raise errors.PreflightRefused(
                "Refused before any fault: " + "; ".join(problems)
                + ". Nothing was injected; fix the above and run again."
            )
        self._log(events.PLAN, faults=[_planned_dict(f) for f in planned])
        self._check_cancel()
        return planned

    def _baseline(self) -> stats.MonitorPlan:
        steady = self.exp.steady_state
        count = max(3, math.ceil(steady.baseline / self.tick))
        self._phase("baseline", ticks=count)
        probe_mod.read(steady, self.p.metrics, self.p.platform)  # primes counter deltas
        history: dict[str, list[stats.Obs | None]] = {p.name: [] for p in steady.stat_probes}
        guards = {g.name: stats.GuardrailState() for g in steady.guardrails}
        fired: dict[str, float | None] = {}
        for k in self._ticks(count):
            reading = probe_mod.read(steady, self.p.metrics, self.p.platform)
            obs = reading.obs(steady)
            for name, o in obs.items():
                history[name].append(o)
            guard_view = self._guardrails(steady, reading, guards, fired)
            self._log(events.TICK, phase="baseline", tick=k, samples=reading.to_dict(),
                      guardrails=guard_view, read_errors=list(reading.errors))
        window_ticks = max(1, math.ceil(self.exp.duration / self.tick))
        plan = stats.calibrate(
            probe_mod.stat_specs(steady), steady.alpha, history,
            min_effect=steady.min_effect, window_ticks=window_ticks,
        )
        self._log(events.CALIBRATION, **plan.to_dict())
        for warning in plan.warnings:
            self._log(events.WARNING, phase="baseline", message=warning)
        problems = list(plan.problems)
        if fired:
            problems.append("guardrail(s) broken during the baseline: " + ", ".join(sorted(fired)))
        if problems or not plan.baseline_holds:
            raise errors.BaselineNotSteady(
                "Refused before any fault: the steady state did not hold during the baseline ("
                + "; ".join(problems or ["see the calibration event in the journal"])
                + "). Nothing was injected. Fix the service or the thresholds and run again."
            )
        return plan

    def _guardrails(
        self,
        steady: model.SteadyState,
        reading: probe_mod.Reading,
        guards: dict[str, stats.GuardrailState],
        fired: dict[str, float | None],
    ) -> dict[str, Any]:
        view: dict[str, Any] = {}
        for g in steady.guardrails:
            lo, hi, k = probe_mod.guardrail_bounds(g)
            value = reading.value(g.name)
            guards[g.name], did_fire = stats.guardrail_step(guards[g.name], value, lo, hi, k)
            if did_fire:
                fired[g.name] = value
            view[g.name] = {"value": value, "in_bounds": probe_mod.in_bounds(value, lo, hi),
                            "fired": did_fire}
        return view

    def _inject(self, planned: list[ports.PlannedFault]) -> None:
        self._phase("inject", faults=len(planned))
        for fault in planned:
            self._check_cancel()
            self._log(events.FAULT_INTENT, **_planned_dict(fault))
            if fault.revert is not None:
                self.stack.push(reverts.RevertEntry(fault.index, fault.name, fault.revert))
            started = self.p.clock.monotonic()
            try:
                result = self.p.activities.run(fault.action)
            except Exception as exc:
                message = exc.message if isinstance(exc, errors.GamedayError) else repr(exc)
                self._log(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=False,
                          seconds=round(self.p.clock.monotonic() - started, 6), error=message)
                raise errors.RunnerError(
                    f"fault #{fault.index} {fault.name!r} failed to inject: {message}. "
                    "Every fault already injected was reverted."
                ) from exc
            self.injected += 1
            self._log(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=True,
                      seconds=round(self.p.clock.monotonic() - started, 6),
                      result=_jsonable(result))

    def _watch(self) -> abort_mod.Abort | None:
        assert self.plan is not None
        steady = self.exp.steady_state
        count = max(1, math.ceil(self.exp.duration / self.tick))
        self._phase("watch", ticks=count, duration=self.exp.duration)
        policy = policy_for(self.exp)
        state = stats.start(self.plan)
        guards = {g.name: stats.GuardrailState() for g in steady.guardrails}
        streaks = probe_mod.Streaks([p.name for p in steady.stat_probes])
        for k in self._ticks(count):
            reading = probe_mod.read(steady, self.p.metrics, self.p.platform)
            obs = reading.obs(steady)
            state, step = stats.step(self.plan, state, obs)
            fired: dict[str, float | None] = {}
            guard_view = self._guardrails(steady, reading, guards, fired)
            alerts = self._alerts()
            view = abort_mod.TickView(
                tick=k, reject=step.reject, attribution=step.attribution,
                stats=step.to_dict(), fired_guardrails=fired,
                no_data_streaks=streaks.update(obs), firing_alerts=tuple(alerts),
            )
            self._log(events.TICK, phase="watch", tick=k, of=count, samples=reading.to_dict(),
                      stats=step.to_dict(), guardrails=guard_view, alerts=alerts,
                      read_errors=list(reading.errors))
            found = policy(view)
            if found is not None:
                self._log(events.ABORT, kind=found.kind, reason=found.reason,
                          evidence=dict(found.evidence), tick=k)
                return found
        return None

    def _alerts(self) -> list[str]:
        if not self.exp.abort.alerts:
            return []
        try:
            return self.p.metrics.alerts(self.exp.abort.alerts)
        except errors.GamedayError:
            return []

    def _after_window(self, found: abort_mod.Abort | None) -> Outcome:
        if found is not None:
            if found.kind == "no-data":
                return Outcome(self.run_id, "blind", ExitCode.RUNNER_ERROR,
                               f"aborted: {found.reason}. All faults were reverted.",
                               self.injected)
            # The verdict is already "broken"; whether the revert brought the service back
            # is what a reviewer asks next, so the recovery watch runs after an abort too.
            _back, detail = self._recovery()
            after = f"; after the revert: {detail}" if detail else ""
            return Outcome(self.run_id, "broken", ExitCode.BROKEN,
                           f"aborted: {found.reason}. All faults were reverted{after}.",
                           self.injected)
        recovered, detail = self._recovery()
        if not recovered:
            return Outcome(self.run_id, "not-recovered", ExitCode.BROKEN,
                           "the fault window ended without an abort, but the steady state did "
                           f"not come back after the revert: {detail}", self.injected)
        return Outcome(self.run_id, "held", ExitCode.HELD,
                       "steady state held: the fault window ended without an abort"
                       + (f"; {detail}" if detail else ""), self.injected)

    def _recovery(self) -> tuple[bool, str]:
        within = self.exp.recovery.within
        if within is None or self.plan is None or self.injected == 0:
            return True, ""
        steady = self.exp.steady_state
        self._phase("recovery", within=within)
        started = self.p.clock.monotonic()
        count = max(RECOVERY_SETTLE_TICKS, math.ceil(within / self.tick))
        state = stats.start(self.plan)
        settled = 0
        for k in self._ticks(count):
            reading = probe_mod.read(steady, self.p.metrics, self.p.platform)
            state, step = stats.step(self.plan, state, reading.obs(steady))
            guards_ok = all(
                probe_mod.in_bounds(reading.value(g.name), *probe_mod.guardrail_bounds(g)[:2])
                for g in steady.guardrails
            )
            if step.reject:
                state = stats.start(self.plan)  # not back yet: fresh evidence from here
            settled = settled + 1 if guards_ok and not step.reject else 0
            self._log(events.TICK, phase="recovery", tick=k, samples=reading.to_dict(),
                      stats=step.to_dict(), guardrails_ok=guards_ok, settled=settled)
            if settled >= RECOVERY_SETTLE_TICKS:
                seconds = self.p.clock.monotonic() - started
                self._log(events.RECOVERY, recovered=True, seconds=round(seconds, 3))
                return True, f"recovered {seconds:.0f} s after the revert"
        self._log(events.RECOVERY, recovered=False,
                  seconds=round(self.p.clock.monotonic() - started, 3))
        return False, f"not back within {within:.0f} s"


def _planned_dict(fault: ports.PlannedFault) -> dict[str, Any]:
    return {
        "fault": fault.index,
        "name": fault.name,
        "kind": fault.kind,
        "targets": list(fault.targets),
        "description": fault.description,
        "action": dict(fault.action),
        "revert": dict(fault.revert) if fault.revert is not None else None,
        "expires_at": fault.expires_at,
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value][:100]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in list(value.items())[:100]}
    return repr(value)[:500]
