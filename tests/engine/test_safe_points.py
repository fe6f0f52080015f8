"""Windows end on the wall clock; sentinels and dry runs act at the run's safe points."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from runner import ports
from runner.errors import ExitCode
from runner.model import experiment as model
from tests.engine.conftest import TICK, Harness, make_experiment


@dataclasses.dataclass
class StopAt:
    """A sentinel that halts at the n-th checkpoint of a phase (an emergency stop)."""

    phase: str
    after: int
    kind: str = "stop"
    broken: bool = False
    name: str = "test-stop"
    seen: int = 0
    points: list[ports.Checkpoint] = dataclasses.field(default_factory=list)

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        self.points.append(point)
        if point.phase != self.phase:
            return None
        self.seen += 1
        if self.seen >= self.after:
            return ports.Halt(self.kind, f"{self.kind} requested by a test", self.broken)
        return None


def slow_reads(h: Harness, seconds: float) -> None:
    """Every read costs ``seconds`` of (fake) time, as on a slow Prometheus."""
    original = h.metrics.sample

    def sample(probes: object) -> dict[str, ports.Sample]:
        h.clock.sleep(seconds)
        return original(probes)  # type: ignore[arg-type]

    h.metrics.sample = sample  # type: ignore[method-assign]


def watch_span(h: Harness) -> float:
    ticks = h.events("tick")
    watch = next(e for e in h.sink.events if e["type"] == "phase" and e["phase"] == "watch")
    reverted = next(e for e in h.sink.events if e["type"] == "phase" and e["phase"] == "revert")
    assert ticks
    intent = h.events("fault-intent")[0]
    assert float(watch["ts"]) >= float(intent["ts"])
    return float(reverted["ts"]) - float(intent["ts"])


def test_slow_reads_do_not_stretch_the_fault_window(harness: Callable[..., Harness]) -> None:
    exp = make_experiment(duration=12 * TICK)
    h = harness(exp=exp)
    slow_reads(h, 1.7 * TICK)  # every read overruns its tick
    outcome = h.run()
    assert outcome.exit_code == ExitCode.HELD
    # faults live from the first intent to the revert: duration + grace + one read at most
    assert watch_span(h) <= exp.duration + 0.5 + 1.7 * TICK + 1e-6
    watch_ticks = [e for e in h.events("tick") if e["phase"] == "watch"]
    assert any(e.get("skipped") for e in watch_ticks), "missed slots must be journaled"
    assert all(int(e["tick"]) <= int(e["of"]) for e in watch_ticks)


def test_on_time_reads_use_every_slot_and_flag_nothing(harness: Callable[..., Harness]) -> None:
    exp = make_experiment(duration=6 * TICK)
    h = harness(exp=exp)
    h.run()
    watch_ticks = [e for e in h.events("tick") if e["phase"] == "watch"]
    assert [e["tick"] for e in watch_ticks] == [1, 2, 3, 4, 5, 6]
    assert not any("late" in e or "skipped" in e for e in watch_ticks)


def test_a_late_tick_says_how_late_it_is(harness: Callable[..., Harness]) -> None:
    h = harness(exp=make_experiment(duration=6 * TICK))
    slow_reads(h, 1.4 * TICK)
    h.run()
    watch_ticks = [e for e in h.events("tick") if e["phase"] == "watch"]
    assert float(watch_ticks[0].get("late", 0)) == 0
    assert any(float(e.get("late", 0)) >= 0.3 * TICK for e in watch_ticks[1:])
    assert all(float(e.get("late", 0)) < TICK for e in watch_ticks)


def test_a_stop_mid_window_reverts_within_the_tick_and_exits_4(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    stop = StopAt("watch", after=3)
    h.sentinels = (stop,)
    outcome = h.run()
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    assert outcome.verdict == "stopped"
    assert "stop requested" in outcome.reason
    assert h.activities.ran == ["inject-0", "inject-1", "revert-1", "revert-0"]
    abort = h.events("abort")[-1]
    assert abort["kind"] == "stop" and abort["phase"] == "watch"
    # the stop was seen on the third watch checkpoint, less than a tick after the second
    assert len([e for e in h.events("tick") if e["phase"] == "watch"]) <= 3


def test_a_stop_before_any_fault_refuses_and_injects_nothing(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.sentinels = (StopAt("baseline", after=2),)
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REFUSED
    assert h.activities.ran == []
    assert "Nothing was injected" in outcome.reason


def test_a_broken_tolerance_in_the_window_is_a_finding_exit_1(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.sentinels = (StopAt("watch", after=2, kind="tolerance", broken=True),)
    outcome = h.run()
    assert outcome.exit_code == ExitCode.BROKEN
    assert outcome.verdict == "broken"
    assert "revert-0" in h.activities.ran


def test_a_stop_between_faults_reverts_the_first_and_skips_the_second(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.sentinels = (StopAt("inject", after=2),)
    outcome = h.run()
    assert outcome.verdict == "stopped"
    assert h.activities.ran == ["inject-0", "revert-0"]


def test_sentinels_are_asked_in_every_phase_with_the_tick(
        harness: Callable[..., Harness]) -> None:
    h = harness(exp=make_experiment(recovery=model.Recovery(within=4 * TICK)))
    probe = StopAt("never", after=1)
    h.sentinels = (probe,)
    h.run()
    phases = {p.phase for p in probe.points}
    assert {"preflight", "baseline", "inject", "watch", "recovery"} <= phases
    assert any(p.phase == "watch" and p.tick == 1 for p in probe.points)


def test_a_dry_run_watches_live_data_and_injects_nothing(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    outcome = h.run(dry=True)
    assert outcome.exit_code == ExitCode.HELD
    assert outcome.dry and "dry run" in outcome.reason
    assert h.activities.ran == []
    assert not h.events("fault-intent")
    assert len([e for e in h.events("tick") if e["phase"] == "watch"]) == 30
    assert h.events("verdict")[0]["dry_run"] is True


def test_a_dry_run_says_it_would_have_aborted(harness: Callable[..., Harness]) -> None:
    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(3.0)
        return ports.Counts(n=200, e=40 if call > 14 else 0)

    h = harness(script=script)
    outcome = h.run(dry=True)
    assert outcome.exit_code == ExitCode.BROKEN
    assert "a dry run would have aborted" in outcome.reason
    assert h.activities.ran == []
