"""The engine's phases, driven by fake ports and a fake clock (no real time passes)."""

from __future__ import annotations

from collections.abc import Callable

from runner import ports
from runner.errors import ExitCode
from runner.journal import reader, recovery
from runner.model import experiment as model
from tests.engine.conftest import Harness, healthy, make_experiment


def broken_after(call_threshold: int, ratio: float) -> Callable[[int, model.Probe], ports.Sample]:
    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(3.0)
        if call >= call_threshold:
            return ports.Counts(n=200, e=200 * ratio)
        return ports.Counts(n=200, e=0)
    return script


def test_a_healthy_run_holds_and_reverts_every_fault_in_reverse_order(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    outcome = h.run()
    assert outcome.exit_code == ExitCode.HELD
    assert outcome.verdict == "held"
    assert "the fault window ended without an abort" in outcome.reason
    assert h.activities.ran == ["inject-0", "inject-1", "revert-1", "revert-0"]


def test_every_fault_intent_is_journaled_before_the_fault_acts(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    order: list[str] = []
    original = h.activities.run

    def run(activity: dict[str, object]) -> object:
        journal = reader.read(h.journal_path)
        intents = [e["name"] for e in journal.of_type("fault-intent")]
        order.append(f"{activity['name']} after intents {intents}")
        return original(activity)

    h.activities.run = run  # type: ignore[method-assign]
    h.run()
    assert order[0] == "inject-0 after intents ['kill']"
    assert order[1] == "inject-1 after intents ['kill', 'slow']"


def test_a_violation_aborts_on_the_sequential_test_and_reverts(
        harness: Callable[..., Harness]) -> None:
    baseline_calls = 1 + 10  # the priming read and ten baseline ticks
    h = harness(script=broken_after(baseline_calls + 2, ratio=0.2))
    outcome = h.run()
    assert outcome.exit_code == ExitCode.BROKEN
    assert outcome.verdict == "broken"
    journal = reader.read(h.journal_path)
    abort = journal.last("abort")
    assert abort is not None and abort["kind"] == "steady-state"
    assert abort["tick"] <= 5
    assert h.activities.ran[-2:] == ["revert-1", "revert-0"]
    assert recovery.pending_reverts(journal) == []


def test_a_baseline_that_is_not_steady_refuses_with_exit_3_and_injects_nothing(
        harness: Callable[..., Harness]) -> None:
    h = harness(script=broken_after(0, ratio=0.3))
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REFUSED
    assert h.activities.ran == []
    assert "fault-intent" not in h.types()


def test_preflight_problems_refuse_before_any_fault(harness: Callable[..., Harness]) -> None:
    h = harness(problems=["probe 'errors': no series match t"])
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REFUSED
    assert "no series match" in outcome.reason
    assert h.activities.ran == []


def test_losing_prometheus_mid_window_aborts_as_blind_and_reverts(
        harness: Callable[..., Harness]) -> None:
    h = harness(fail_from=1 + 10 + 4)
    outcome = h.run()
    assert outcome.verdict == "blind"
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    abort = reader.read(h.journal_path).last("abort")
    assert abort is not None and abort["kind"] == "no-data"
    assert h.activities.ran[-2:] == ["revert-1", "revert-0"]


def test_a_guardrail_breaking_for_k_ticks_aborts(harness: Callable[..., Harness]) -> None:
    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(1.0 if call > 14 else 3.0)
        return healthy(call, probe)

    h = harness(script=script)
    outcome = h.run()
    assert outcome.verdict == "broken"
    abort = reader.read(h.journal_path).last("abort")
    assert abort is not None and abort["kind"] == "guardrail"


def test_a_firing_alert_aborts(harness: Callable[..., Harness]) -> None:
    exp = make_experiment(abort=model.AbortPolicy(alerts=('ALERTS{alertname="Down"}',)))
    h = harness(exp=exp, alerts_from=14)
    outcome = h.run()
    abort = reader.read(h.journal_path).last("abort")
    assert outcome.exit_code == ExitCode.BROKEN
    assert abort is not None and abort["kind"] == "alert"


def test_an_alert_query_prometheus_rejects_refuses_before_any_fault(
        harness: Callable[..., Harness]) -> None:
    exp = make_experiment(abort=model.AbortPolicy(alerts=("sum(((",)))
    h = harness(exp=exp)
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REFUSED
    assert "bad PromQL" in outcome.reason
    assert h.activities.ran == []


def test_a_failed_injection_reverts_what_was_registered_and_exits_4(
        harness: Callable[..., Harness]) -> None:
    h = harness(failures={"inject-1": 1})
    outcome = h.run()
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    assert "failed to inject" in outcome.reason
    # the failed fault's revert was registered before it acted, so it runs too
    assert h.activities.ran == ["inject-0", "inject-1", "revert-1", "revert-0"]


def test_a_transient_revert_failure_is_retried(harness: Callable[..., Harness]) -> None:
    h = harness(failures={"revert-0": 2})
    outcome = h.run()
    assert outcome.exit_code == ExitCode.HELD
    result = next(e for e in reader.read(h.journal_path).of_type("revert-result")
                  if e["fault"] == 0)
    assert result["ok"] is True and result["attempts"] == 3


def test_a_revert_that_keeps_failing_exits_5_and_stays_pending(
        harness: Callable[..., Harness]) -> None:
    h = harness(failures={"revert-1": 99})
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REVERT_FAILED
    assert "a human must act now" in outcome.reason
    pending = recovery.pending_reverts(reader.read(h.journal_path))
    assert [p["fault"] for p in pending] == [1]
    assert "revert-0" in h.activities.ran  # the other revert still ran


def test_a_signal_during_the_window_reverts_and_exits_4(harness: Callable[..., Harness]) -> None:
    h = harness()
    window_started: list[bool] = []

    def interrupt(_now: float) -> None:
        if h.activities.ran and not window_started:
            window_started.append(True)
            h.cancel.set("SIGTERM")

    h.clock.on_sleep.append(interrupt)
    outcome = h.run()
    assert outcome.verdict == "interrupted"
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    assert h.activities.ran == ["inject-0", "inject-1", "revert-1", "revert-0"]
    journal = reader.read(h.journal_path)
    assert journal.last("signal") is not None
    assert reader.verify(journal) == []


def test_recovery_that_does_not_come_back_is_broken(harness: Callable[..., Harness]) -> None:
    exp = make_experiment(recovery=model.Recovery(within=4 * 5.0))
    window_end = 1 + 10 + 30

    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(1.0 if call > window_end else 3.0)
        return healthy(call, probe)

    h = harness(exp=exp, script=script)
    outcome = h.run()
    assert outcome.verdict == "not-recovered"
    assert outcome.exit_code == ExitCode.BROKEN


def test_the_journal_of_a_run_is_a_complete_intact_chain(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.run()
    journal = reader.read(h.journal_path)
    assert reader.verify(journal) == []
    types = [e["type"] for e in journal.events]
    assert types[0] == "run-started" and types[-2:] == ["verdict", "journal-sealed"]
    for phase in ("preflight", "baseline", "inject", "watch", "revert"):
        assert any(e["type"] == "phase" and e["phase"] == phase for e in journal.events), phase
    ticks = journal.of_type("tick")
    assert any(t["phase"] == "watch" and "stats" in t for t in ticks)


def test_a_platform_that_fails_while_planning_refuses_with_exit_3(
        harness: Callable[..., Harness]) -> None:
    from runner import errors

    h = harness()

    def broken_plan(*_args: object) -> list[ports.PlannedFault]:
        raise errors.PlatformError("the API server did not answer")

    h.platform.plan = broken_plan  # type: ignore[method-assign]
    outcome = h.run()
    assert outcome.verdict == "refused"
    assert outcome.exit_code == ExitCode.REFUSED
    assert h.activities.ran == []


def test_after_an_abort_the_recovery_watch_still_says_whether_the_service_came_back(
        harness: Callable[..., Harness]) -> None:
    h = harness(exp=make_experiment(recovery=model.Recovery(within=6 * 5.0)))

    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(3.0)
        ran = h.activities.ran
        faulty = "inject-0" in ran and "revert-0" not in ran  # broken while the fault is live
        return ports.Counts(n=200, e=60 if faulty else 0)

    h.metrics.script = script
    outcome = h.run()
    assert outcome.verdict == "broken" and outcome.exit_code == ExitCode.BROKEN
    journal = reader.read(h.journal_path)
    recovered = journal.last("recovery")
    assert recovered is not None and recovered["recovered"] is True
    assert "after the revert: recovered" in outcome.reason
