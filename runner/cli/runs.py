"""Running one experiment file end to end: lock, ports, journal, signals, reports.

Shared by ``gameday run`` and ``gameday demo``. Signals are turned into the engine's
cooperative cancel token: the first SIGINT/SIGTERM ends the fault window and reverts;
further ones only say that reverts are still running (they are never cut short).
Locks are the engine's business now (``ports.TargetLease``, on the resolved targets
after the plan), not a lock on the selector string taken here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from runner import errors, ports
from runner.cli import compose, live
from runner.cli import guard as guard_mod
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import writer
from runner.model import experiment as model


@dataclasses.dataclass(frozen=True)
class Finished:
    outcome: run_mod.Outcome
    run_dir: Path
    journal: Path
    reports: tuple[Path, ...]


_FIRST = "stopping and reverting every fault before exiting."
_AGAIN = "reverts are running and will finish first (they are never cut short)."


@contextlib.contextmanager
def signals_to(cancel: clock_mod.Cancel, *, first: str = _FIRST,
               again: str = _AGAIN) -> Iterator[None]:
    """Route SIGINT/SIGTERM into the cancel token for the duration of the block.

    ``first`` and ``again`` finish the line printed for the first signal and for any
    after it (a game day says what *it* does with one).
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if cancel.is_set():
            print(f"gameday: {name} received again; {again}", file=sys.stderr, flush=True)
        else:
            print(f"gameday: {name} received; {first}", file=sys.stderr, flush=True)
        cancel.set(name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def execute(
    exp: model.Experiment,
    options: compose.Options,
    *,
    journal_dir: Path,
    sink: ports.Sink,
    seed: int | None = None,
    write_reports: bool = True,
    dry: bool = False,
    journal_key: bytes | None = None,
    run_id: str | None = None,
    sentinels: Sequence[ports.Sentinel] = (),
    guard: bool = False,
    journal_key_file: Path | None = None,
    cancel: clock_mod.Cancel | None = None,
) -> Finished:
    """Run an experiment with real parts; returns when every fault is reverted.

    ``run_id`` lets a caller (a game day) journal where the run's journal will be before
    it starts; ``sentinels`` are consulted besides the ones every run has (the emergency
    stop, the cluster's kill switch, burn-rate aborts: ``compose.build_sentinels``).
    ``cancel``: a caller's token (a game day's), so a signal during the run also ends
    what the caller does next; a fresh one otherwise.
    ``guard`` starts a detached ``gameday guard --run`` for this run first: it reverts
    the run's faults if this process dies (its log is ``guard.log`` beside the journal).
    """
    from runner.adapters import stop

    stop.refuse_if_stopped("run")  # before anything is built: nothing starts while stopped
    cancel = cancel or clock_mod.Cancel()
    ctk = compose.build_ctk(exp, options, warn=_warn) if exp.ctk is not None else None
    with signals_to(cancel):
        try:
            metrics = compose.build_metrics(exp, options)
            platform = ctk.platform if ctk else compose.build_platform(exp, options)
            every = (*compose.build_sentinels(exp, options, metrics), *sentinels,
                     *(ctk.sentinels if ctk else ()))
        except errors.PlatformError as exc:
            raise errors.PreflightRefused(
                f"Refused before any fault: {exc.message} Nothing was injected."
            ) from exc
        from runner.cli import replay as replay_cli

        history = replay_cli.preflight(exp, options)  # steady_state.history, before any fault
        for line in history.lines:
            print(f"gameday: {line}", file=sys.stderr)
        activities = ctk.activities if ctk else compose.build_activities()
        run_id = run_id or compose.new_run_id(exp.title)
        run_dir = journal_dir / run_id
        journal_path = run_dir / "journal.jsonl"
        chosen_seed = seed if seed is not None else (
            exp.seed if exp.seed is not None else int(time.time()) % 1_000_000)
        lease = compose.build_lease(exp, options, run_id=run_id, key=journal_key)
        watchdog = guard_mod.spawn(
            run_id, run_dir / "guard.log", key_file=journal_key_file,
            cluster=guard_mod.cluster_args(exp, options.kubeconfig, options.context,
                                           run_dir)) if guard and not dry else None
        scrub = exp.prometheus.secret_values() + (ctk.session.secret_values() if ctk else ())
        outcome: run_mod.Outcome | None = None
        try:
            with writer.JournalWriter(journal_path, now=time.time, listeners=[sink.emit],
                                      key=journal_key, scrub=scrub) as jw:
                observe = getattr(lease, "observe", None)  # a lease mirroring pending reverts
                if callable(observe):
                    jw.add_listener(observe)
                run_ports = run_mod.RunPorts(
                    metrics=metrics, platform=platform, activities=activities,
                    clock=clock_mod.SystemClock(cancel), journal=jw, cancel=cancel,
                    sentinels=every, lease=lease,
                )
                outcome = run_mod.Run(exp, run_ports, run_id=run_id, seed=chosen_seed,
                                      versions=compose.versions(), dry=dry,
                                      history=history.calibration).execute()
        finally:
            if ctk is not None:  # the experiment's after-controls, cleanup, safeguards
                ctk.close({"verdict": outcome.verdict if outcome else None,
                           "deviated": bool(outcome and outcome.exit_code == 1)})
        if watchdog is not None:
            guard_mod.settle(watchdog)
    assert outcome is not None
    for line in outcome.unrecorded:
        print(f"gameday: not in the journal: {line}", file=sys.stderr)
    written: tuple[Path, ...] = ()
    if write_reports:
        written = write_all_reports(journal_path)
    return Finished(outcome, run_dir, journal_path, written)


def _warn(message: str) -> None:
    print(f"gameday: warning: {message}", file=sys.stderr, flush=True)


def write_all_reports(journal_path: Path) -> tuple[Path, ...]:
    from runner import report

    try:
        return tuple(report.write_all(journal_path, journal_path.parent))
    except errors.GamedayError as exc:
        print(f"gameday: the reports could not be written: {exc.message}", file=sys.stderr)
        return ()


def default_sink() -> ports.Sink:
    return live.make_sink()


class Fanout:
    """One sink that hands every event to several (the live view, the metrics)."""

    def __init__(self, *sinks: ports.Sink) -> None:
        self.sinks = sinks

    def emit(self, event: Mapping[str, Any]) -> None:
        for sink in self.sinks:
            sink.emit(event)


@contextlib.contextmanager
def open_sink(metrics_port: str | None = None, pushgateway: str | None = None,
              metrics_textfile: Path | None = None) -> Iterator[ports.Sink]:
    """The run's sink: the live view (or plain lines), plus gameday's own metrics when
    asked for; the metrics are flushed and their server stopped when the block ends."""
    from runner.adapters import telemetry_outputs

    cfg = telemetry_outputs.config(metrics_port, pushgateway, metrics_textfile)
    view = live.make_sink()
    try:
        if not cfg.enabled:
            yield view
            return
        with telemetry_outputs.open_telemetry(cfg) as metrics:
            yield Fanout(view, metrics.sink)
    finally:
        view.close()
