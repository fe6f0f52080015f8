"""The real parts of a game day: its launcher (``gameday run`` per experiment) and its
gate assessor (Prometheus through the existing adapter, and each experiment's plan).

Decisions:
- A run of the day is ``runs.execute`` with the run id chosen by the day (the day
  journals the run's journal path before it starts) and its journal under the day's
  directory (``<day dir>/<run id>/journal.jsonl``); every run keeps its own locks,
  sentinels (emergency stop, kill switch, burn rate) and reverts.
- Gates read the Prometheus of the experiment they guard (the day's defaults flow into
  each experiment), each query once per evaluation; ``cache`` (``day plan``) reuses a
  gate's readings for every experiment it guards, since they are taken at one moment.
- An experiment's exposure (its blast share and how fast it aborts) comes from its plan,
  exactly as ``gameday plan`` makes it: the platform's preflight and seeded target
  choice (touching nothing), and the traffic behind each probe now. A platform that does
  not answer leaves the share unknown, and the worst case assumes all traffic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from runner import errors, ports
from runner.adapters import burnrate, prometheus
from runner.cli import compose
from runner.day import conduct, gates
from runner.day import model as day_model
from runner.engine import clock as clock_mod
from runner.model import experiment as model


@dataclasses.dataclass
class Launcher:
    """``conduct.Launcher`` over ``runs.execute``."""

    options: compose.Options
    day_dir: Path
    sink: ports.Sink
    dry: bool = False
    journal_key: bytes | None = None
    seed: int | None = None
    #: The day's token: SIGINT/SIGTERM during a run ends that run (reverted) *and* the day.
    cancel: clock_mod.Cancel | None = None

    def journal_for(self, entry: day_model.DayExperiment) -> tuple[str, Path]:
        run_id = compose.new_run_id(entry.id)
        return run_id, self.day_dir / run_id / "journal.jsonl"

    def run(self, entry: day_model.DayExperiment, run_id: str) -> conduct.RunResult:
        from runner.cli import runs  # the engine: imported when a day runs, not to plan it

        journal = self.day_dir / run_id / "journal.jsonl"
        try:
            finished = runs.execute(entry.experiment, self.options, journal_dir=self.day_dir,
                                    sink=self.sink, seed=self.seed, dry=self.dry,
                                    journal_key=self.journal_key, run_id=run_id,
                                    cancel=self.cancel)
        except errors.GamedayError as exc:
            verdict = "refused" if exc.exit_code == errors.ExitCode.REFUSED else "error"
            return conduct.RunResult(run_id, journal if journal.exists() else None, verdict,
                                     int(exc.exit_code), exc.message)
        outcome = finished.outcome
        return conduct.RunResult(run_id, finished.journal, outcome.verdict,
                                 int(outcome.exit_code), outcome.reason, finished.reports)


def _noun(exp: model.Experiment) -> str:
    return "pods" if exp.target.platform == "kubernetes" else "replicas"


@dataclasses.dataclass
class Assessor:
    """``conduct.Assessor`` reading Prometheus and planning the experiment now."""

    options: compose.Options
    cache: dict[tuple[str, str], gates.Reading] | None = None
    exposures: dict[str, gates.Exposure] = dataclasses.field(default_factory=dict)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def assess(self, entry: day_model.DayExperiment,
               gate_list: Sequence[day_model.Gate]) -> list[gates.Result]:
        exp = entry.experiment
        sources: dict[str, prometheus.PrometheusSource] = {}

        def source_for(config: model.PrometheusConfig) -> prometheus.PrometheusSource:
            resolved = compose.resolve_prometheus(dataclasses.replace(exp, prometheus=config),
                                                  self.options)
            key = repr(resolved)
            if key not in sources:
                sources[key] = prometheus.PrometheusSource(resolved, config.tick)
            return sources[key]

        try:
            results = []
            for gate in gate_list:
                try:
                    source = source_for(gate.prometheus or exp.prometheus)
                except errors.PlatformError as exc:  # e.g. the sandbox's, when none runs
                    results.append(gates.Result(gate.kind, False, f"{gate.kind}: cannot be "
                                                f"judged ({exc.message}); a gate that cannot "
                                                "see is closed"))
                    continue
                results.append(self._one(entry, gate, burnrate.SloQueries(source.query),
                                         source, lambda: source_for(exp.prometheus)))
            return results
        finally:
            for source in sources.values():
                source.close()

    def _one(self, entry: day_model.DayExperiment, gate: day_model.Gate,
             reads: burnrate.SloQueries, source: prometheus.PrometheusSource,
             own: Callable[[], prometheus.PrometheusSource]) -> gates.Result:
        if isinstance(gate, day_model.NoAlertsGate):
            try:
                return gates.no_alerts(gate, reads.firing(gate.query))
            except errors.PlatformError as exc:
                return gates.no_alerts(gate, None, exc.message)
        if isinstance(gate, day_model.BurnRateGate):
            try:
                return gates.burn_rate(gate, reads.ratios(gate.rule))
            except errors.PlatformError as exc:
                return gates.burn_rate(gate, None, exc.message)
        return gates.error_budget(gate, self.reading(gate, reads, source.url),
                                  self.exposure(entry, own))

    def reading(self, gate: day_model.ErrorBudgetGate, reads: burnrate.SloQueries,
                url: str) -> gates.Reading:
        key = (url, repr(gate))
        if self.cache is not None:
            with self.lock:  # day plan assesses experiments concurrently: read once
                return self._cached(key, gate, reads)
        return self._read(gate, reads)

    def _cached(self, key: tuple[str, str], gate: day_model.ErrorBudgetGate,
                reads: burnrate.SloQueries) -> gates.Reading:
        assert self.cache is not None
        if key not in self.cache:
            found = self._read(gate, reads)
            if found.error is not None:
                return found
            self.cache[key] = found
        return self.cache[key]

    def _read(self, gate: day_model.ErrorBudgetGate,
              reads: burnrate.SloQueries) -> gates.Reading:
        try:
            total = reads.value(gate.total)
            if gate.bad is not None:
                bad = reads.value(gate.bad)
                bad = 0.0 if bad is None and total is not None else bad
            else:
                good = reads.value(gate.good or "")
                bad = None if good is None or total is None else max(0.0, total - good)
            rate = reads.value(gate.rate) if gate.rate else None
            return gates.Reading(bad, total, rate)
        except errors.PlatformError as exc:
            return gates.Reading(None, None, None, error=exc.message)

    def exposure(self, entry: day_model.DayExperiment,
                 own: Callable[[], prometheus.PrometheusSource]) -> gates.Exposure:
        """What the experiment puts at risk, from its plan and the traffic behind its
        probes now (read from its own Prometheus; unknown when that does not answer)."""
        if entry.id in self.exposures:
            return self.exposures[entry.id]
        exp = entry.experiment
        targets: list[tuple[Sequence[str], int | None]] = []
        notes = []
        try:
            platform = compose.build_platform(exp, self.options)
            problems = platform.preflight(exp)
            if problems:
                raise errors.PlatformError("; ".join(problems))
            seed = exp.seed if exp.seed is not None else 0
            targets = [(f.targets, f.population) for f in platform.plan(exp, "gate", seed)]
        except errors.GamedayError as exc:
            targets = [((), None) for _ in exp.faults]
            notes.append(f"the platform's plan is not available ({exc.message})")
        traffic: dict[str, float | None] = {}
        try:
            source = own()
            traffic = {p.name: source.traffic(p) for p in exp.steady_state.stat_probes}
        except errors.PlatformError as exc:
            notes.append(f"the traffic behind its probes is unknown ({exc.message})")
        found = gates.exposure(exp, targets, traffic, _noun(exp))
        if notes:
            found = dataclasses.replace(found, note="; ".join([found.note, *notes]).strip("; "))
        self.exposures[entry.id] = found
        return found


def day_id(title: str) -> str:
    """``<UTC stamp>-<title slug>-<random>``, like a run id: the day's directory name."""
    return compose.new_run_id(title)


@contextlib.contextmanager
def day_lock(day_file: str) -> Iterator[None]:
    """Hold an exclusive lock on a day file (its resolved path) for the block: one
    ``day run`` / ``day resume`` of a day at a time on this machine; refused (exit 3)
    naming the holder otherwise. Released when the process dies (a flock)."""
    from runner.adapters import locks

    resolved = str(Path(day_file).resolve())
    folder = locks.locks_dir()
    path = folder / f"day-{hashlib.sha256(resolved.encode()).hexdigest()[:24]}.lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    except OSError as exc:
        raise errors.PreflightRefused(
            f"Cannot create the day lock in {folder}: {exc.strerror}. Set "
            f"{locks.ENV_HOME} to a writable directory; nothing was run.") from exc
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another gameday process"
            raise errors.PreflightRefused(
                f"The day {resolved} is already being run ({holder}). Wait for it to end "
                "(or stop it with `gameday stop`); nothing was run.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()
