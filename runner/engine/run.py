"""One run, phase by phase: preflight, claim, baseline, inject, watch, revert, recovery, verdict.

Decisions:
- Every fault's intent and revert are journaled (fsynced) and the revert registered on
  the stack *before* the fault acts (``inject``); reverts run in a ``finally`` on every
  exit path, and they never depend on the journal being writable (``log_safe``).
- What the faults touch is claimed (``ports.TargetLease``: locks on the resolved targets
  and a lease renewed at every checkpoint) before the baseline, so two runs can never
  overlap on the same replicas, however their selectors are spelled.
- Signals are cooperative, and so are sentinels (emergency stop, tolerances, burn rate):
  ``RunContext.checkpoint`` runs between ticks, faults and sleep slices; the revert
  phase ignores both, so a Ctrl-C, SIGTERM or stop always ends in completed reverts.
- Phases end on the wall clock (``schedule``): the fault window starts when the first
  fault acts and lasts ``duration`` seconds however slow the reads are.
- A tick whose probes cannot be read is "no data", never a crash; blindness for
  ``abort.no_data_ticks`` ticks aborts (exit 4: the run could not observe, not a finding).
- "Steady state held" means the fault window ended without an abort, in those words.
- A dry run (``dry=True``) does everything but inject: the watch runs on live data and
  says whether it would have aborted. A replayed window (``replay``: where and when in
  history) is a dry run over a history metrics source; ``run-started`` says which.
- ``history`` (a calibration on the service's own past, ``stats.history``) raises the
  abort threshold, never lowers it; it is journaled beside the calibration.
- A Chaos Toolkit method (``exp.method``) is the inject phase (``method``): its steps in
  order, its rollbacks one revert group (``rollbacks``). Its window is the method's own
  time plus ``duration``; without Prometheus probes the baseline and the watch are one
  safe point each (where the tolerance sentinel checks), and "after" is a safe point
  right after the reverts, a broken halt there meaning the steady state did not hold.
"""

from __future__ import annotations

import dataclasses
import os
import platform as pyplatform
from collections.abc import Mapping
from typing import Any

from runner import __version__, errors, ports
from runner.engine import abort as abort_mod
from runner.engine import (
    baseline,
    context,
    inject,
    method,
    recovery,
    reverts,
    rollbacks,
    verdicts,
    watch,
)
from runner.engine import clock as clock_mod
from runner.journal import events, writer
from runner.model import experiment as model
from runner.stats import history as stats_history
from runner.stats import monitor as stats

Outcome = verdicts.Outcome
#: How long the verification of a revert may wait (pod kill: replicas back) by default.
VERIFY_WITHIN = 30.0


@dataclasses.dataclass(frozen=True)
class RunPorts:
    """Everything a run touches, built by the CLI (or by tests)."""

    metrics: ports.MetricsSource
    platform: ports.Platform
    activities: ports.ActivityRunner
    clock: ports.Clock
    journal: writer.JournalWriter
    cancel: clock_mod.Cancel
    sentinels: tuple[ports.Sentinel, ...] = ()
    lease: ports.TargetLease | None = None


policy_for = watch.policy_for  # the abort policy of an experiment (runner.engine.watch)


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
        dry: bool = False,
        replay: Mapping[str, Any] | None = None,
        history: stats_history.Calibration | None = None,
    ) -> None:
        self.exp = experiment
        self.replay = dict(replay) if replay is not None else None
        self.history = history
        self.run_id = run_id
        self.seed = seed
        self.dry = dry
        self.versions = {"gameday": __version__, "python": pyplatform.python_version(),
                         **(versions or {})}
        self.ctx = context.RunContext(
            exp=experiment, run_id=run_id, metrics=run_ports.metrics,
            platform=run_ports.platform, activities=run_ports.activities,
            clock=run_ports.clock, journal=run_ports.journal, cancel=run_ports.cancel,
            sentinels=run_ports.sentinels, lease=run_ports.lease,
        )
        self.stack = reverts.RevertStack(run_ports.activities, self.ctx.log_safe,
                                         run_ports.clock, verify=self._verify)
        self.injector = inject.Injector(self.ctx, self.stack)
        self.planned: dict[int, ports.PlannedFault] = {}
        self.plan: stats.MonitorPlan | None = None
        self.window_started: float | None = None
        self._claimed = False

    @property
    def injected(self) -> int:
        return self.injector.injected

    # -- the story -------------------------------------------------------------------

    def execute(self) -> Outcome:
        ctx, exp = self.ctx, self.exp
        ctx.log(events.RUN_STARTED, run_id=self.run_id, title=exp.title, owner=exp.owner,
                source=exp.source, source_path=_absolute(exp.source),
                experiment=dict(exp.document),
                experiment_sha256=exp.sha256, platform=exp.target.platform, seed=self.seed,
                versions=self.versions, tick=ctx.tick, duration=exp.duration,
                alpha=exp.steady_state.alpha, dry_run=self.dry,
                **({"replay": self.replay} if self.replay is not None else {}))
        outcome: Outcome | None = None
        found: abort_mod.Abort | None = None
        try:
            try:
                planned = self._preflight()
                self._claim(planned)
                self.plan = self._baseline()
                self._inject(planned)
                found = self._watch()
            except context.Halted as halted:
                if not len(self.stack):
                    raise errors.RefusedError(
                        f"Refused before any fault: {halted.halt.reason}. Nothing was "
                        "injected.") from halted
                found = self._abort_from(halted)
        except errors.GamedayError as exc:
            outcome = verdicts.for_error(self.run_id, self._note_signal(exc),
                                         registered=bool(len(self.stack)),
                                         injected=self.injected)
        except Exception as exc:  # noqa: BLE001 - any bug still ends in reverts
            outcome = verdicts.for_error(
                self.run_id,
                errors.RunnerError(f"gameday failed unexpectedly: {type(exc).__name__}: {exc}"),
                registered=bool(len(self.stack)), injected=self.injected)
        finally:
            results = self._revert(found, outcome)
        try:
            return self._conclude(outcome, found, results)
        finally:
            self.ctx.seal()
            if self.ctx.lease is not None and self._claimed:
                self.ctx.lease.release(self.ctx.head())  # the sealed head, kept outside

    def _conclude(self, outcome: Outcome | None, found: abort_mod.Abort | None,
                  results: list[reverts.RevertOutcome]) -> Outcome:
        failed = [r for r in results if not r.ok]
        if failed:
            outcome = verdicts.revert_failed(self.run_id, failed, str(self.ctx.journal.path),
                                             self.injected)
        elif outcome is None:
            outcome = self._after(found)
        before = self.ctx.journal_error
        outcome = verdicts.with_journal_gaps(outcome, before, self.ctx.unrecorded)
        self.ctx.log_safe(events.VERDICT, verdict=outcome.verdict,
                          exit_code=int(outcome.exit_code), reason=outcome.reason,
                          faults_injected=outcome.faults_injected,
                          reverts_failed=outcome.reverts_failed, dry_run=self.dry)
        if before is None and self.ctx.journal_error is not None:
            outcome = verdicts.with_journal_gaps(outcome, self.ctx.journal_error,
                                                 self.ctx.unrecorded)
        return outcome

    def _after(self, found: abort_mod.Abort | None) -> Outcome:
        """After the reverts: the recovery watch (when faults were live) and the verdict."""
        try:
            if found is not None:
                detail = ""
                if found.kind in verdicts.BROKEN_KINDS and self.injected:
                    # Whether the revert brought the service back is what a reviewer asks
                    # next, so the recovery watch runs after an abort too.
                    _back, detail = self._recovery()
                return verdicts.after_abort(self.run_id, found, detail, self.injected,
                                            self.dry)
            self.ctx.checkpoint("after")  # a Chaos Toolkit "after" check, after the reverts
            recovered, detail = self._recovery() if self.injected else (True, "")
            return verdicts.after_window(self.run_id, recovered, detail, self.injected,
                                         self.dry)
        except context.Halted as halted:
            if halted.halt.broken:
                return verdicts.after_abort(self.run_id, self._abort_from(halted), "",
                                            self.injected, self.dry)
            return verdicts.Outcome(self.run_id, "stopped", errors.ExitCode.RUNNER_ERROR,
                                    f"stopped during the recovery watch: {halted.halt.reason}."
                                    " All faults were reverted.", self.injected)
        except errors.GamedayError as exc:
            return verdicts.for_error(self.run_id, self._note_signal(exc), registered=True,
                                      injected=self.injected)

    def _note_signal(self, exc: errors.GamedayError) -> errors.GamedayError:
        if isinstance(exc, errors.Interrupted):
            self.ctx.log_safe(events.SIGNAL, reason=self.ctx.cancel.reason,
                              note="interrupted; reverting every fault before exiting")
        return exc

    # -- phases ----------------------------------------------------------------------

    def _preflight(self) -> list[ports.PlannedFault]:
        ctx = self.ctx
        ctx.enter("preflight")
        steady = self.exp.steady_state
        prom = [p for p in steady.probes if not isinstance(p, model.ReadyReplicasProbe)]
        problems = list(ctx.metrics.preflight(prom)) if prom else []
        warnings = list(ctx.metrics.warnings(prom)) if prom else []
        if self.exp.abort.alerts:
            problems += ctx.metrics.preflight_alerts(self.exp.abort.alerts)
        problems += ctx.platform.preflight(self.exp)
        if ctx.journal.reserved == 0 and not self.dry:
            problems.append(f"the disk under the journal {ctx.journal.path} has no room for the "
                            "reserve that keeps the revert records writable if it fills up; "
                            "free some space or choose another --journal-dir")
        for probe in steady.probes:
            if (isinstance(probe, model.ReadyReplicasProbe) and not problems
                    and ctx.platform.ready_replicas(probe) is None):
                problems.append(f"probe {probe.name!r}: cannot read the ready replicas "
                                f"of {probe.kind} {probe.workload!r}")
        planned: list[ports.PlannedFault] = []
        if not problems:
            planned = ctx.platform.plan(self.exp, self.run_id, self.seed)
        ctx.log(events.PREFLIGHT, problems=problems, warnings=warnings)
        if problems:
            raise errors.PreflightRefused(
                "Refused before any fault: " + "; ".join(problems)
                + ". Nothing was injected; fix the above and run again."
            )
        ctx.log(events.PLAN, faults=[inject.planned_dict(f) for f in planned])
        self.planned = {f.index: f for f in planned}
        ctx.checkpoint("preflight")
        return planned

    def _claim(self, planned: list[ports.PlannedFault]) -> None:
        """Lock what the faults touch (resolved targets), or refuse (exit 3)."""
        lease = self.ctx.lease
        if lease is None or self.dry:
            return
        keys = self.ctx.platform.lock_keys(planned)
        lease.acquire(self.run_id, keys, str(self.ctx.journal.path))
        self._claimed = True
        self.ctx.log(events.LOCK, keys=list(keys))

    def _baseline(self) -> stats.MonitorPlan:
        return baseline.run(self.ctx, self.history)

    def _inject(self, planned: list[ports.PlannedFault]) -> None:
        self.window_started = self.ctx.clock.monotonic()
        if self.dry:
            self.ctx.enter("inject", faults=0, dry_run=True,
                           note=f"dry run: {len(planned)} planned fault(s) not injected")
            return
        if self.exp.method is not None:
            method.run(self.ctx, self.injector, self.stack, self.exp.method, self.planned)
            self.window_started = self.ctx.clock.monotonic()  # then `duration` more
            return
        self.injector.inject_all(planned)

    def _watch(self) -> abort_mod.Abort | None:
        assert self.plan is not None
        return watch.run(self.ctx, self.plan, self.window_started)

    def _abort_from(self, halted: context.Halted) -> abort_mod.Abort:
        return watch.abort_from(self.ctx, halted)

    # -- revert and recovery -----------------------------------------------------------

    def _revert(self, found: abort_mod.Abort | None,
                outcome: Outcome | None) -> list[reverts.RevertOutcome]:
        if not len(self.stack):
            return []
        self.ctx.phase = "revert"
        self.ctx.log_safe(events.PHASE, phase="revert")
        if self.exp.method is not None:
            rollbacks.before_reverts(self.ctx, self.stack, self.exp.method,
                                     rollbacks.ending(found, outcome))
        return self.stack.revert_all()

    def _verify(self, entry: reverts.RevertEntry) -> ports.RevertCheck:
        fault = self.planned.get(entry.fault)
        if fault is None:
            return ports.RevertCheck(None, "not checked: the fault is not in this run's plan")
        within = self.exp.recovery.within or VERIFY_WITHIN
        return self.ctx.platform.verify_revert(fault, within)

    def _recovery(self) -> tuple[bool, str]:
        if self.plan is None:
            return True, ""
        return recovery.watch(self.ctx, self.plan)


def _absolute(source: str) -> str | None:
    """The experiment file's absolute path (so `gameday revert` finds it from anywhere)."""
    return os.path.abspath(source) if os.path.isfile(source) else None
