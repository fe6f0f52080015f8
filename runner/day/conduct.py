"""Conducting a day: each experiment in turn through its window, gates and run.

The day drives the single-run engine, it does not contain one: ``Launcher.run`` is
``gameday run`` for one experiment (``runs.execute`` in the CLI; a fake in tests), and
everything a run does — locks on its targets, sentinels, reverts, its own journal —
happens there. Per experiment, in the order of ``Day.experiments``:

1. skipped if the day has ended (on_broken stop, an exit 4 or 5, an emergency stop, a
   signal), or when an experiment it needs did not hold (``queue.unmet``);
2. refused (exit 3) when the window does not leave it time to finish (``calendar``);
3. the gates (the day's, then its own) are evaluated now and journaled with their
   numbers; any closed gate refuses it, nothing is injected;
4. ``gated``, then ``running`` with the run id and journal path — journaled *before* the
   run starts, so ``gameday day resume`` finds the run after a crash;
5. the run's end is linked (path, sha256 of its final line) and its state follows from
   its exit code: 0 held, 1 broken, 3 refused, else error.

The day's exit code is the worst of its experiments (``queue.worst``), said with the
experiment that set it. Decisions: a closed window or gate refuses that experiment and
the day goes on (its dependants are skipped; others may still fit). Signals between
experiments end the day (the running experiment handles its own, and reverts).
"""

from __future__ import annotations

import dataclasses
import os
import platform as pyplatform
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from runner import __version__, errors, ports
from runner.day import calendar, gates, queue, records
from runner.day import model as day_model
from runner.engine import clock as clock_mod
from runner.errors import ExitCode
from runner.journal import writer


@dataclasses.dataclass(frozen=True)
class RunResult:
    """How one experiment's run ended (``journal`` None: it never opened one)."""

    run_id: str
    journal: Path | None
    verdict: str
    exit_code: int
    reason: str
    reports: tuple[Path, ...] = ()


class Launcher(Protocol):
    """Runs one experiment of the day with real parts (``gameday run``)."""

    def journal_for(self, entry: day_model.DayExperiment) -> tuple[str, Path]:
        """The run id and journal path the next run of ``entry`` will use."""
        ...

    def run(self, entry: day_model.DayExperiment, run_id: str) -> RunResult:
        """Run it; returns once every fault is reverted. Never raises ``GamedayError``."""
        ...


class Assessor(Protocol):
    """Evaluates gates for one experiment, now (Prometheus, the experiment's plan)."""

    def assess(self, entry: day_model.DayExperiment,
               gate_list: Sequence[day_model.Gate]) -> list[gates.Result]: ...


@dataclasses.dataclass(frozen=True)
class DayPorts:
    journal: writer.JournalWriter
    clock: ports.Clock
    launcher: Launcher
    assessor: Assessor
    stopped: Callable[[], str | None]  # the emergency stop in force, as a sentence
    cancel: clock_mod.Cancel
    say: Callable[[str], None] = lambda _line: None


@dataclasses.dataclass(frozen=True)
class DayOutcome:
    exit_code: ExitCode
    worst: str | None
    reason: str
    states: Mapping[str, str]


def started_payload(day: day_model.Day, day_id: str, dry: bool) -> dict[str, object]:
    return {
        "day_id": day_id, "title": day.title, "owner": day.owner, "source": day.source,
        "day_sha256": day.sha256, "document": dict(day.document), "dry_run": dry,
        "window": calendar.describe(day.window) if day.window else None,
        "experiments": [records.PlannedEntry(
            id=e.id, source=e.source, sha256=e.experiment.sha256, needs=list(e.needs),
            on_broken=e.on_broken, expected_seconds=e.expected_seconds)
            for e in day.experiments],
        "order": [e.id for e in day.experiments],
        "versions": {"gameday": __version__, "python": pyplatform.python_version()},
        "host": socket.gethostname(), "pid": os.getpid(),
    }


class DayRun:
    """One session of a day (a first run, or a resume given what already ended)."""

    def __init__(self, day: day_model.Day, day_ports: DayPorts, *, day_id: str,
                 ended: Mapping[str, queue.Ended] | None = None) -> None:
        self.day = day
        self.ports = day_ports
        self.day_id = day_id
        self.ended: dict[str, queue.Ended] = dict(ended or {})
        self.halted: str | None = None
        self.halted_by_stop = False
        self.cut_short = False  # an experiment was skipped because the day had ended

    def log(self, type_: str, **payload: object) -> None:
        self.ports.journal.append(type_, **payload)

    def state(self, entry: day_model.DayExperiment, state: str, reason: str = "",
              **extra: object) -> None:
        self.log(records.EXPERIMENT, day=self.day.title, id=entry.id, state=state,
                 reason=reason, **extra)
        if state in queue.FINAL:
            code = extra.get("exit_code")
            self.ended[entry.id] = queue.Ended(state, code if isinstance(code, int) else None,
                                               reason)
            self.ports.say(f"{entry.id}: {state}" + (f" - {reason}" if reason else ""))

    def start(self, *, dry: bool = False) -> None:
        """Journal the day as loaded and queue every experiment (a first session)."""
        self.log(records.DAY_STARTED, **started_payload(self.day, self.day_id, dry))
        for entry in self.day.experiments:
            self.log(records.EXPERIMENT, day=self.day.title, id=entry.id, state="queued",
                     reason="waiting for its turn" + (f" (needs {', '.join(entry.needs)})"
                                                      if entry.needs else ""))

    def resumed(self, reverted: Sequence[Mapping[str, object]]) -> None:
        """Journal the start of a resume session (what was reverted first, what is left)."""
        self.log(records.DAY_RESUMED, day_id=self.day_id, reverted=list(reverted),
                 remaining=[e.id for e in self.day.experiments if e.id not in self.ended])

    def finish_crashed(self, entry_id: str, run_id: str | None, journal: Path, state: str,
                       exit_code: int, reason: str) -> None:
        """Record how an experiment that was running when the day died ended (resume)."""
        entry = self.day.entry(entry_id)
        line_sha, head_hash, head_seq = records.final_line_sha256(journal)
        self.log(records.RUN_LINKED, id=entry_id, run_id=run_id or "", journal=str(journal),
                 final_line_sha256=line_sha, head_hash=head_hash, head_seq=head_seq,
                 verdict=state, exit_code=exit_code, reason=reason, reports=[])
        self.state(entry, state, reason, exit_code=exit_code, run_id=run_id or "")
        # The day runner's own death (exit 4) is what resume repairs: it does not end the
        # day. A finding with on_broken stop, or a failed revert, still does.
        if exit_code != ExitCode.RUNNER_ERROR and self.halted is None:
            self.halted = queue.ends_the_day(entry_id, entry.on_broken, self.ended[entry_id])

    def execute(self) -> DayOutcome:
        total = len(self.day.experiments)
        for number, entry in enumerate(self.day.experiments, start=1):
            if entry.id in self.ended:
                continue
            self.ports.say(f"[{number}/{total}] {entry.id}: {entry.experiment.title}")
            self._one(entry)
        return self._verdict()

    def _one(self, entry: day_model.DayExperiment) -> None:
        reason = self._halt_reason()
        if reason is not None:
            code = int(ExitCode.REFUSED) if self.halted_by_stop else None
            self.state(entry, "skipped", reason, exit_code=code)
            self.cut_short = True
            return
        unmet = queue.unmet(entry.needs, self.ended)
        if unmet is not None:
            self.state(entry, "skipped", unmet)
            return
        window = self.day.window
        if window is not None:
            answer = calendar.check(window, self.ports.clock.time(),
                                    needs=entry.expected_seconds)
            if not answer.open:
                self.state(entry, "refused", f"outside the window: {answer.reason}",
                           exit_code=int(ExitCode.REFUSED),
                           next_open=answer.next_open.isoformat() if answer.next_open else None)
                return
        closed = self._gates(entry)
        if closed:
            self.state(entry, "refused", "gate(s) closed: " + "; ".join(closed),
                       exit_code=int(ExitCode.REFUSED))
            return
        self.state(entry, "gated", "every gate is open")
        run_id, journal = self.ports.launcher.journal_for(entry)
        self.state(entry, "running", "", run_id=run_id, journal=str(journal))
        result = self.ports.launcher.run(entry, run_id)
        self._finish(entry, result)

    def _halt_reason(self) -> str | None:
        if self.halted is None:
            if self.ports.cancel.is_set():
                self.halted = f"the day was interrupted ({self.ports.cancel.reason})"
                self.halted_by_stop = True
            elif (stop := self.ports.stopped()) is not None:
                self.halted = f"the day was stopped: {stop}"
                self.halted_by_stop = True
        return None if self.halted is None else f"not run: {self.halted}"

    def _gates(self, entry: day_model.DayExperiment) -> list[str]:
        wanted = self.day.gates_for(entry)
        if not wanted:
            return []
        try:
            results = self.ports.assessor.assess(entry, wanted)
        except errors.GamedayError as exc:
            results = [gates.Result("gates", False, f"the gates could not be evaluated: "
                                    f"{exc.message}")]
        for result in results:
            self.log(records.GATE, id=entry.id, gate=result.kind, ok=result.ok,
                     sentence=result.sentence, numbers=dict(result.numbers))
            self.ports.say(f"  gate {result.kind}: {'open' if result.ok else 'CLOSED'} - "
                           f"{result.sentence}")
        return [r.sentence for r in results if not r.ok]

    def _finish(self, entry: day_model.DayExperiment, result: RunResult) -> None:
        if result.journal is not None and result.journal.exists():
            line_sha, head_hash, head_seq = records.final_line_sha256(result.journal)
            self.log(records.RUN_LINKED, id=entry.id, run_id=result.run_id,
                     journal=str(result.journal), final_line_sha256=line_sha,
                     head_hash=head_hash, head_seq=head_seq, verdict=result.verdict,
                     exit_code=result.exit_code, reason=result.reason,
                     reports=[str(p) for p in result.reports])
        code = result.exit_code
        state = {int(ExitCode.HELD): "held", int(ExitCode.BROKEN): "broken",
                 int(ExitCode.REFUSED): "refused"}.get(code, "error")
        self.state(entry, state, result.reason, exit_code=code, run_id=result.run_id,
                   verdict=result.verdict)
        ends = queue.ends_the_day(entry.id, entry.on_broken, self.ended[entry.id])
        if ends is not None and self.halted is None:
            self.halted = ends
            if result.verdict in ("stopped", "interrupted"):
                self.halted_by_stop = True

    def _verdict(self) -> DayOutcome:
        codes = {e.id: self.ended[e.id].exit_code if e.id in self.ended else None
                 for e in self.day.experiments}
        code, worst = queue.worst(codes)
        states = {e.id: self.ended[e.id].state if e.id in self.ended else "queued"
                  for e in self.day.experiments}
        counts = ", ".join(f"{n} {s}" for s, n in _count(states.values()))
        if worst is None:
            reason = f"nothing ran ({counts})"
        else:
            last = self.ended[worst]
            reason = (f"exit {code}, set by {worst!r} ({last.state}: {last.reason}); {counts}"
                      if code else f"every experiment held ({counts})")
        if self.halted is not None and self.cut_short:
            reason += f"; the day ended early: {self.halted}"
        self.log(records.DAY_VERDICT, exit_code=code, worst=worst, reason=reason,
                 states=states)
        return DayOutcome(ExitCode(code), worst, reason, states)


def _count(states: Iterable[str]) -> list[tuple[str, int]]:
    found: dict[str, int] = {}
    for s in states:
        found[s] = found.get(s, 0) + 1
    return sorted(found.items())
