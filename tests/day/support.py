"""Helpers shared by the game-day tests: journals polled while a process writes them,
runs of the real engine on our own fakes, experiment files for the sandbox."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runner import ports, testing
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import writer
from runner.model import experiment as model
from tests.fixtures.experiments import sandbox_experiment

Event = dict[str, Any]


def events(path: Path) -> list[Event]:
    """The complete lines of a journal being written (a torn last line is skipped)."""
    found: list[Event] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return found
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def wait_for(predicate: Callable[[], Any], proc: subprocess.Popen[str] | None = None,
             timeout: float = 120.0, what: str = "the awaited condition") -> Any:
    """Poll ``predicate`` (0.1 s) until it returns something truthy; bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the process exited early ({proc.returncode}) before "
                                 f"{what}:\n{out}\n{err}")
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def first_journal(folder: Path, pattern: str = "*/journal.jsonl") -> Path | None:
    found = sorted(folder.glob(pattern))
    return found[0] if found else None


def fake_run(exp: model.Experiment, journal: Path, *, sentinels: Sequence[ports.Sentinel],
             clock: testing.FakeClock, script: testing.Script,
             activities: testing.RecordingActivities | None = None) -> run_mod.Outcome:
    """The real engine on our own fakes (platform, activities, metrics, clock)."""
    with writer.JournalWriter(journal, now=clock.time) as jw:
        run_ports = run_mod.RunPorts(testing.ScriptedMetrics(script), testing.FakePlatform(),
                                     activities or testing.RecordingActivities(), clock, jw,
                                     clock_mod.Cancel(), sentinels=tuple(sentinels))
        return run_mod.Run(exp, run_ports, run_id="day-test", seed=1).execute()


def healthy(call: int, probe: model.Probe) -> ports.Sample:
    if isinstance(probe, model.GaugeProbe):
        return ports.Value(3.0)
    return ports.Counts(n=200, e=1 if call % 2 else 0)


def experiment(**overrides: Any) -> model.Experiment:
    import dataclasses

    tick = 5.0
    base = model.Experiment(
        title="day test", target=model.Target(platform="local", selector="app=demo"),
        prometheus=model.PrometheusConfig(url="http://127.0.0.1:1", tick=tick),
        steady_state=model.SteadyState(alpha=0.05, baseline=10 * tick, probes=(
            model.RatioProbe(name="errors", errors="e", total="t", max=0.01),)),
        faults=(model.LatencyFault(delay=0.2, name="slow"),), duration=30 * tick,
    )
    return dataclasses.replace(base, **overrides)


def write_sandbox_experiment(path: Path, *, fault: str, duration: str = "60s",
                             title: str | None = None, tick: str = "2s",
                             extra: str = "") -> Path:
    return sandbox_experiment(path, fault, title=title or f"day {path.stem}",
                              duration=duration, tick=tick, extra=extra)
