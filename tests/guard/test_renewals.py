"""The lease is renewed all through a run, long fault windows included: never a gap as
long as the lease, so a live runner is never taken for a dead one (fake clock, real
local lease and run record)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from runner import testing
from runner.adapters import locks
from runner.engine import clock as clock_mod
from tests.engine.conftest import TICK, Harness, healthy, make_experiment


class Watching(locks.LocalLease):
    """The real local lease, noting when (fake time) and in which phase it was renewed."""

    def __init__(self, clock: testing.FakeClock, seconds: float) -> None:
        super().__init__(lease_seconds=seconds, now=clock.time)
        self.clock = clock
        self.renewals: list[tuple[float, str]] = []

    def acquire(self, run_id: str, keys: Sequence[str], journal: str) -> None:
        super().acquire(run_id, keys, journal)
        self.renewals.append((self.clock.time(), "acquire"))

    def renew(self, phase: str, head: tuple[int, str] | None) -> None:
        super().renew(phase, head)
        self.renewals.append((self.clock.time(), phase))


@pytest.fixture(autouse=True)
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(locks.ENV_LOCKS, raising=False)
    monkeypatch.setenv(locks.ENV_HOME, str(tmp_path / "home"))
    return tmp_path / "home"


def test_a_long_fault_window_renews_the_lease_every_tick_and_it_never_lapses(
        tmp_path: Path, registry: Path) -> None:
    clock = testing.FakeClock()
    lease = Watching(clock, seconds=3 * TICK)
    exp = make_experiment(duration=40 * TICK)  # far longer than the lease
    h = Harness(exp=exp, metrics=testing.ScriptedMetrics(healthy),
                platform=testing.FakePlatform(), activities=testing.RecordingActivities(),
                clock=clock, cancel=clock_mod.Cancel(), journal_path=tmp_path / "j.jsonl",
                sink=testing.MemorySink(), lease=lease)
    outcome = h.run()
    assert outcome.exit_code == 0, outcome.reason
    times = [t for t, _phase in lease.renewals]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= TICK + 1e-6, "renewed at least once a tick"
    assert max(gaps) < lease.lease_seconds
    phases = {phase for _t, phase in lease.renewals}
    assert {"preflight", "baseline", "inject", "watch"} <= phases
    watch = [t for t, phase in lease.renewals if phase == "watch"]
    assert watch[-1] - watch[0] >= exp.duration - 2 * TICK, "all through the window"
    record = json.loads((registry / "locks" / "runs" / "test-run.json").read_text())
    assert record["state"] == "finished" and record["lease_seconds"] == 3 * TICK


def test_a_long_pause_renews_the_lease_every_second(tmp_path: Path) -> None:
    from runner.engine import context
    from runner.journal import writer

    clock = testing.FakeClock()
    lease = Watching(clock, seconds=5.0)
    lease.acquire("pausing-run", ["local:/sb/replica/demo-1"], str(tmp_path / "j.jsonl"))
    with writer.JournalWriter(tmp_path / "j.jsonl", now=clock.time) as jw:
        ctx = context.RunContext(
            exp=make_experiment(), run_id="pausing-run",
            metrics=testing.ScriptedMetrics(healthy), platform=testing.FakePlatform(),
            activities=testing.RecordingActivities(), clock=clock, journal=jw,
            cancel=clock_mod.Cancel(), lease=lease)
        ctx.sleep(120.0)  # a two-minute Chaos Toolkit pause
    times = [t for t, phase in lease.renewals if phase != "acquire"]
    assert len(times) >= 100
    assert max(b - a for a, b in itertools.pairwise(times)) <= 1.0 + 1e-6
    lease.release(None)
