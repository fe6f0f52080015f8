"""Guardrails, latency reduction, combination and the power check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import combine, generators, guardrail, latency, power, simulate
from runner.stats.guardrail import GuardrailState

# --- guardrails -------------------------------------------------------------------------


def _run(values: list[float | None], lo: float | None, hi: float | None, k: int) -> list[bool]:
    state = GuardrailState()
    fired = []
    for v in values:
        state, f = guardrail.guardrail_step(state, v, lo, hi, k)
        fired.append(f)
    return fired


def test_a_guardrail_fires_only_after_k_consecutive_breaches() -> None:
    assert _run([1, 1, 3, 1, 1, 1], lo=2, hi=None, k=3) == [False, False, False, False, False,
                                                              True]


def test_a_guardrail_checks_both_bounds() -> None:
    assert _run([0.5, 5.0, 2.0], lo=1.0, hi=4.0, k=1) == [True, True, False]


def test_a_tick_without_data_neither_counts_nor_resets_the_streak() -> None:
    assert _run([1, None, 1, float("nan"), None, 1], lo=2, hi=None, k=3) == [
        False, False, False, False, False, True]


def test_the_fired_flag_is_sticky_for_the_journal() -> None:
    state = GuardrailState()
    state, _ = guardrail.guardrail_step(state, 0.0, 1.0, None, 1)
    state, fired = guardrail.guardrail_step(state, 5.0, 1.0, None, 1)
    assert not fired and state.fired and state.streak == 0


def test_a_guardrail_needs_at_least_one_tick() -> None:
    with pytest.raises(ValueError, match="k >= 1"):
        guardrail.guardrail_step(GuardrailState(), 1.0, 0.0, None, 0)


# --- latency reduction ------------------------------------------------------------------

DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, math.inf]


def test_a_bucket_at_the_threshold_is_used_as_is() -> None:
    assert latency.choose_bucket([0.1, 0.3, 1.0, math.inf], 0.3) == (0.3, True)
    assert latency.bucket_warning("p99", 0.3, 0.3, exact=True) is None


def test_without_a_bucket_at_the_threshold_the_next_one_is_used_and_the_user_is_told() -> None:
    bucket, exact = latency.choose_bucket(DEFAULT_BUCKETS, 0.3)
    assert (bucket, exact) == (0.5, False)
    text = latency.bucket_warning("checkout p99", 0.3, bucket, exact)
    assert text is not None and "0.5 s" in text and "add a bucket at 0.3 s" in text


def test_a_threshold_above_every_finite_bucket_cannot_be_tested() -> None:
    with pytest.raises(ValueError, match="no histogram bucket"):
        latency.choose_bucket(DEFAULT_BUCKETS, 30.0)


def test_quantile_le_labels_and_counts_reduce_to_an_error_ratio() -> None:
    assert latency.p0_for_quantile(0.99) == pytest.approx(0.01)
    assert latency.parse_le("+Inf") == math.inf and latency.parse_le("0.25") == 0.25
    assert latency.counts(1000.0, 985.0) == (1000.0, 15.0)
    assert latency.counts(10.0, 12.0) == (10.0, 0.0)  # scrape skew never gives e < 0
    with pytest.raises(ValueError):
        latency.p0_for_quantile(1.0)


# --- combination ------------------------------------------------------------------------


def test_log_space_averages_do_not_overflow() -> None:
    assert float(combine.log_mean_exp([1000.0, 1000.0])) == pytest.approx(1000.0)
    assert float(combine.log_mean_exp([-1e6, 0.0])) == pytest.approx(math.log(0.5))
    assert combine.log_weighted_sum([800.0, 0.0], [0.5, 0.5]) == pytest.approx(
        800.0 + math.log(0.5))


def test_averaging_never_rejects_later_than_bonferroni() -> None:
    rng = np.random.default_rng(401)
    alpha = 0.05
    weights = (0.5, 0.3, 0.2)
    for _ in range(2000):
        logs = list(rng.normal(1.0, 3.0, size=3))
        bonferroni = any(x >= math.log(1 / (w * alpha)) for x, w in zip(logs, weights, strict=True))
        average = combine.log_weighted_sum(logs, weights) >= math.log(1 / alpha)
        assert average or not bonferroni


def test_p_values_and_attribution_follow_the_running_maximum() -> None:
    assert combine.p_value(-3.0) == 1.0
    assert combine.p_value(math.log(40.0)) == pytest.approx(0.025)
    names = ("a", "b")
    assert combine.attribution(names, [math.log(45.0), math.log(39.0)], [0.5, 0.5], 0.05) == (
        "a",)


def test_weights_are_normalised_and_must_not_be_negative() -> None:
    assert combine.normalise_weights([2.0, 6.0]) == (0.25, 0.75)
    assert combine.normalise_weights([0.0, 0.0]) == (0.0, 0.0)
    with pytest.raises(ValueError, match="weights"):
        combine.normalise_weights([1.0, -1.0])


# --- power check ------------------------------------------------------------------------


@pytest.mark.parametrize("per_tick", [150.0, 1500.0])
def test_the_power_check_is_close_to_the_simulated_median_delay(per_tick: float) -> None:
    predicted = power.earliest_abort_ticks("default", per_tick, 0.01, psi=2.0, alpha=0.05)
    assert predicted is not None
    rng = np.random.default_rng(402)
    n, e = generators.draw(rng, generators.Gen(), runs=1000, base=20, window=120,
                           p_base=0.005, p_window=0.02, per_tick=per_tick)
    median = float(np.median(simulate.run(n, e, base=20, p0=0.01, alpha=0.05).abort))
    assert 0.7 * predicted <= median <= 1.3 * predicted, (predicted, median)


def test_the_power_check_counts_blocks_when_the_plan_bets_on_blocks() -> None:
    one = power.earliest_abort_ticks("default", 1500.0, 0.01, psi=2.0, alpha=0.05)
    four = power.earliest_abort_ticks("default", 1500.0, 0.01, psi=2.0, alpha=0.05, block=4)
    assert one is not None and four is not None and four % 4 == 0 and four > one


def test_the_power_check_knows_fast_mode_counts_requests_not_ticks() -> None:
    fast = power.earliest_abort_ticks("fast", 15_000.0, 0.01, psi=2.0, alpha=0.05, phi=1.9)
    default = power.earliest_abort_ticks("default", 15_000.0, 0.01, psi=2.0, alpha=0.05)
    assert fast is not None and default is not None
    assert fast <= 2 < 5 <= default


def test_the_power_check_warns_when_the_window_is_too_short() -> None:
    ticks = power.earliest_abort_ticks("default", 15.0, 0.01, psi=2.0, alpha=0.05)
    assert ticks is not None and ticks > 30
    text = power.power_warning("checkout", ticks, window_ticks=40, psi=2.0, p0=0.01, n_ref=15.0)
    assert text is not None and "more than half of the 40-tick fault window" in text
    assert power.power_warning("checkout", 7, window_ticks=40, psi=2.0, p0=0.01,
                               n_ref=1500.0) is None


def test_an_impossible_violation_is_reported_as_undetectable() -> None:
    assert power.earliest_abort_ticks("default", 100.0, 0.6, psi=2.0, alpha=0.05) is None
    text = power.power_warning("x", None, window_ticks=40, psi=2.0, p0=0.6, n_ref=100.0)
    assert text is not None and "impossible" in text
