"""The recovery watch needs positive evidence: an upper bound of the error ratio below p0.

Before, "back" was three ticks in which a fresh e-process did not reject, which a service
still at 2·p0 always passes (the fresh test needs ≥ 5 ticks). These runs use the engine
with the fakes of our own ports (runner/testing.py) and the engine tests' harness.
"""

from __future__ import annotations

from collections.abc import Callable

from runner import ports
from runner.errors import ExitCode
from runner.journal import reader
from runner.model import experiment as model

from .conftest import TICK, Harness, make_experiment

WITHIN = 12 * TICK


def _script(h: Harness, after_revert: Callable[[int], ports.Counts]) -> None:
    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(3.0)
        if "revert-0" in h.activities.ran:
            return after_revert(call)
        return ports.Counts(n=400, e=1 if call % 2 else 0)  # 0.125 %: healthy, p0 = 1 %

    h.metrics.script = script


def test_a_service_left_at_twice_its_slo_after_the_revert_is_not_shown_back(
        harness: Callable[..., Harness]) -> None:
    h = harness(exp=make_experiment(recovery=model.Recovery(within=WITHIN)))
    _script(h, lambda call: ports.Counts(n=400, e=8))  # 2 % = 2·p0, every tick
    outcome = h.run()
    assert outcome.verdict == "not-recovered" and outcome.exit_code == ExitCode.BROKEN
    assert f"not shown to be back within {WITHIN:.0f} s" in outcome.reason
    journal = reader.read(h.journal_path)
    event = journal.last("recovery")
    assert event is not None and event["recovered"] is False
    assert "not below p0" in str(event["statement"])
    ticks = [t for t in journal.of_type("tick") if t.get("phase") == "recovery"]
    assert len(ticks) >= 12 and all(not t["recovery"]["back"] for t in ticks)
    # the upper bound never claims the ratio is below what it really is (2 %)
    bounds = [t["recovery"]["probes"][0]["upper_bound"] for t in ticks]
    assert all(b is None or b > 0.01 for b in bounds)


def test_a_service_truly_back_is_shown_back_with_how_sure_the_statistics_are(
        harness: Callable[..., Harness]) -> None:
    h = harness(exp=make_experiment(recovery=model.Recovery(within=WITHIN)))
    _script(h, lambda call: ports.Counts(n=400, e=0))
    outcome = h.run()
    assert outcome.verdict == "held" and outcome.exit_code == ExitCode.HELD
    assert "recovered" in outcome.reason and "upper bound" in outcome.reason
    journal = reader.read(h.journal_path)
    event = journal.last("recovery")
    assert event is not None and event["recovered"] is True
    statement = str(event["statement"])
    assert statement.startswith("back: errors: 95% upper bound") and "≤ p0 0.01" in statement
    bound = event["bounds"]["probes"][0]["upper_bound"]
    assert bound is not None and bound <= 0.01
    ticks = [t for t in journal.of_type("tick") if t.get("phase") == "recovery"]
    assert ticks[-1]["recovery"]["back"] and len(ticks) < 12  # decided early, not at the end


def test_the_bound_must_come_with_guardrails_in_bounds(
        harness: Callable[..., Harness]) -> None:
    h = harness(exp=make_experiment(recovery=model.Recovery(within=WITHIN)))

    def script(call: int, probe: model.Probe) -> ports.Sample:
        reverted = "revert-0" in h.activities.ran
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(1.0 if reverted else 3.0)  # replicas never come back
        return ports.Counts(n=400, e=0 if reverted else (1 if call % 2 else 0))

    h.metrics.script = script
    outcome = h.run()
    assert outcome.verdict == "not-recovered"
    journal = reader.read(h.journal_path)
    ticks = [t for t in journal.of_type("tick") if t.get("phase") == "recovery"]
    assert any(t["recovery"]["back"] for t in ticks)  # the statistics alone said back
    assert all(not t["guardrails_ok"] for t in ticks)
