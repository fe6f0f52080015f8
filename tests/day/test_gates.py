"""Gates as arithmetic: the error budget, the worst case an experiment can spend, firing
alerts and burn rates; the worst case's "abort is certain after k ticks" is checked by
simulating the real sequential test."""

from __future__ import annotations

import numpy as np
import pytest

from runner.day import gates
from runner.day import model as day_model
from runner.model import experiment as model
from runner.model import slo
from runner.stats import monitor, power
from tests.day import support

DAY = 86_400.0
GATE = day_model.ErrorBudgetGate(slo=0.999, window=28 * DAY, total="t", bad="b")
WINDOW_REQUESTS = 100.0 * 28 * DAY
EXPOSED = gates.Exposure(share=1 / 3, share_text="1 of 3 pods", tick=15.0, duration=300.0,
                         abort_ticks=3, undetected=0.002)


def reading(spent: float) -> gates.Reading:
    """A 28-day history at 100 req/s that has spent ``spent`` of a 99.9 % budget."""
    return gates.Reading(bad=spent * 0.001 * WINDOW_REQUESTS, total=WINDOW_REQUESTS, rate=100.0)


def test_a_healthy_budget_opens_the_gate_and_says_the_worst_case_like_an_sre() -> None:
    result = gates.error_budget(GATE, reading(0.10), EXPOSED)
    assert result.ok
    n = result.numbers
    assert n["remaining"] == pytest.approx(0.9)
    assert n["remaining_failures"] == pytest.approx(0.9 * 0.001 * WINDOW_REQUESTS)
    assert n["worst_case_seconds"] == pytest.approx(60.0)  # (3 + 1) ticks of 15 s
    assert n["worst_case_failures"] == pytest.approx(100 / 3 * 60)
    assert not n["projected"]
    share = n["worst_case_failures"] / n["remaining_failures"]
    assert n["worst_case_share"] == pytest.approx(share)
    assert ("at 100 req/s, 1 of 3 pods, up to ~2,000 failed requests before the abort "
            "(~60 s") in result.sentence
    assert f"= {share * 100:.3g} % of the remaining budget" in result.sentence
    assert "90 % remains" in result.sentence


def test_a_thin_budget_refuses_below_the_floor() -> None:
    result = gates.error_budget(GATE, reading(0.80), EXPOSED)
    assert not result.ok and result.numbers["remaining"] == pytest.approx(0.2)
    assert "below the floor of 25 %" in result.sentence


def test_an_exhausted_budget_refuses_and_says_so() -> None:
    result = gates.error_budget(GATE, reading(1.4), EXPOSED)
    assert not result.ok and result.numbers["remaining"] == pytest.approx(-0.4)
    assert result.numbers["remaining_failures"] == 0


def test_a_worst_case_over_the_allowed_share_of_what_remains_refuses() -> None:
    strict = day_model.ErrorBudgetGate(slo=0.999, window=28 * DAY, total="t", bad="b",
                                       max_spend=0.005)
    result = gates.error_budget(strict, reading(0.10), EXPOSED)
    assert not result.ok and "more than the 0.5 % allowed" in result.sentence


def test_a_budget_that_cannot_be_read_is_a_closed_gate() -> None:
    for broken in (gates.Reading(None, None, None, error="Prometheus at x did not answer"),
                   gates.Reading(0.0, 0.0, 1.0)):
        result = gates.error_budget(GATE, broken, EXPOSED)
        assert not result.ok and "cannot be judged" in result.sentence


def test_a_short_history_projects_the_budget_over_the_window_at_todays_rate() -> None:
    young = gates.Reading(bad=0.0, total=100.0 * 3600, rate=100.0)  # one hour of history
    result = gates.error_budget(GATE, young, EXPOSED)
    assert result.ok and result.numbers["projected"]
    assert result.numbers["window_requests"] == pytest.approx(WINDOW_REQUESTS)
    assert "the history is shorter than the window" in result.sentence


def test_a_failure_too_small_to_abort_on_may_last_the_whole_window() -> None:
    slow = gates.Exposure(share=1.0, share_text="3 of 3", tick=15.0, duration=3600.0,
                          abort_ticks=1, undetected=0.02)
    failed, seconds, why = gates.worst_case(slow, 100.0)
    assert seconds == 3600.0 and failed == pytest.approx(0.02 * 100 * 3600)
    assert "just under what the test is built to catch" in why


def test_exposure_uses_the_plan_and_the_power_check() -> None:
    exp = support.experiment(steady_state=model.SteadyState(alpha=0.05, baseline=50, probes=(
        model.RatioProbe(name="errors", errors="e", total="t", max=0.01),)))
    found = gates.exposure(exp, [(("demo-1",), 3)], {"errors": 40.0}, "replicas")
    assert found.share == pytest.approx(1 / 3) and found.share_text == "1 of 3 replicas"
    assert found.abort_ticks == power.earliest_abort_ticks(
        "default", 40.0 * exp.prometheus.tick, 0.01, psi=(1 / 3) / 0.01, alpha=0.05)
    unknown = gates.exposure(exp, [((), None)], {"errors": 40.0}, "replicas")
    assert unknown.share == 1.0 and "cannot count" in unknown.share_text


def test_the_abort_is_certain_within_the_ticks_the_worst_case_assumes() -> None:
    """Simulated with the real sequential test: when 1/3 of 200 requests per tick fail on
    top of a healthy 0.1 % background, the run aborts within the ticks the worst case
    counts (the power check's typical ticks, plus one) in every one of 200 runs (0 in 200
    bounds the true rate of a later abort below 1.5 % at 95 % confidence)."""
    exp = support.experiment(steady_state=model.SteadyState(alpha=0.05, baseline=100, probes=(
        model.RatioProbe(name="errors", errors="e", total="t", max=0.01),)))
    rate = 200 / exp.prometheus.tick
    k = gates.exposure(exp, [(("p1",), 3)], {"errors": rate}, "pods").abort_ticks
    assert k is not None
    rng = np.random.default_rng(7)
    late = 0
    for _ in range(200):
        base = [monitor.Obs(200, float(rng.binomial(200, 0.001))) for _ in range(20)]
        plan = monitor.calibrate([monitor.ProbeSpec("errors", 0.01)], 0.05, {"errors": base},
                                 window_ticks=30)
        state = monitor.start(plan)
        ticks = 0
        for tick in range(1, 31):
            bad = rng.binomial(200, 1 / 3) + rng.binomial(200, 0.001)
            state, step = monitor.step(plan, state, {"errors": monitor.Obs(200, float(bad))})
            if step.reject:
                ticks = tick
                break
        late += ticks == 0 or ticks > k + 1  # worst_case counts (k + 1) ticks
    assert late == 0


def test_a_burn_rate_is_hot_only_when_every_window_is_above_its_factor() -> None:
    rule = model.BurnRate(slo=0.999, windows=(model.BurnWindow(300, 14.4),
                                              model.BurnWindow(3600, 6.0)), total="t", bad="b")
    hot = slo.evaluate(rule, [0.02, 0.007])  # 20x and 7x
    assert hot.hot and "20x over 5m (> 14.4) and 7x over 1h (> 6)" in hot.sentence()
    assert not slo.evaluate(rule, [0.02, 0.005]).hot  # the slow window is not confirming
    assert not slo.evaluate(rule, [None, 0.5]).hot  # unknown is never hot
    gate = day_model.BurnRateGate(rule)
    assert not gates.burn_rate(gate, [0.02, 0.007]).ok
    assert not gates.burn_rate(gate, None, "down").ok
    assert gates.burn_rate(gate, [0.0, 0.0]).ok
    assert "or vector(0)" in slo.error_ratio_query(rule, 300)


def test_firing_alerts_close_the_gate_and_are_named() -> None:
    gate = day_model.NoAlertsGate('ALERTS{severity="critical",alertstate="firing"}')
    assert gates.no_alerts(gate, []).ok
    closed = gates.no_alerts(gate, ["CheckoutDown{namespace=shop}"])
    assert not closed.ok and "CheckoutDown" in closed.sentence
    assert not gates.no_alerts(gate, None, "timeout").ok
