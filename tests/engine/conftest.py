"""Builders for engine tests: experiments as dataclasses and a run wired to fakes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from runner import ports, testing
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import disk, writer
from runner.model import experiment as model

TICK = 5.0


def make_experiment(**overrides: object) -> model.Experiment:
    base = model.Experiment(
        title="engine test",
        target=model.Target(platform="local", selector="app=demo"),
        prometheus=model.PrometheusConfig(url="http://127.0.0.1:1", tick=TICK),
        steady_state=model.SteadyState(
            alpha=0.05, baseline=10 * TICK,
            probes=(
                model.RatioProbe(name="errors", errors="e", total="t", max=0.01),
                model.GaugeProbe(name="ready", query="r", min=2, for_ticks=2),
            ),
        ),
        faults=(model.PodKillFault(count=1, name="kill"),
                model.LatencyFault(delay=0.2, name="slow")),
        duration=30 * TICK,
        abort=model.AbortPolicy(no_data_ticks=3),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def healthy(call: int, probe: model.Probe) -> ports.Sample:
    if isinstance(probe, model.GaugeProbe):
        return ports.Value(3.0)
    return ports.Counts(n=200, e=1 if call % 2 else 0)


@dataclasses.dataclass
class Harness:
    exp: model.Experiment
    metrics: testing.ScriptedMetrics
    platform: testing.FakePlatform
    activities: testing.RecordingActivities
    clock: testing.FakeClock
    cancel: clock_mod.Cancel
    journal_path: Path
    sink: testing.MemorySink
    sentinels: tuple[ports.Sentinel, ...] = ()
    lease: ports.TargetLease | None = None
    journal_ops: disk.Ops | None = None
    journal_reserve: int = disk.RESERVE_BYTES

    def run(self, *, dry: bool = False) -> run_mod.Outcome:
        with writer.JournalWriter(self.journal_path, now=self.clock.time,
                                  listeners=[self.sink.emit], ops=self.journal_ops,
                                  reserve_bytes=self.journal_reserve) as jw:
            run_ports = run_mod.RunPorts(self.metrics, self.platform, self.activities,
                                         self.clock, jw, self.cancel,
                                         sentinels=self.sentinels, lease=self.lease)
            return run_mod.Run(self.exp, run_ports, run_id="test-run", seed=3,
                               dry=dry).execute()

    def events(self, type_: str) -> list[dict[str, object]]:
        return [dict(e) for e in self.sink.events if e["type"] == type_]

    def types(self) -> list[str]:
        return [str(e["type"]) for e in self.sink.events]


@pytest.fixture
def harness(tmp_path: Path) -> Callable[..., Harness]:
    def build(exp: model.Experiment | None = None, script: testing.Script = healthy,
              failures: dict[str, int] | None = None, **metrics_kw: object) -> Harness:
        return Harness(
            exp=exp or make_experiment(),
            metrics=testing.ScriptedMetrics(script, **metrics_kw),  # type: ignore[arg-type]
            platform=testing.FakePlatform(),
            activities=testing.RecordingActivities(failures),
            clock=testing.FakeClock(),
            cancel=clock_mod.Cancel(),
            journal_path=tmp_path / "run" / "journal.jsonl",
            sink=testing.MemorySink(),
        )

    return build
