"""The default betting test: its factors, its numerics, and its error rates by simulation.

Every simulation is seeded; every claim is checked with a stated bound (normal CI on a
mean of many factors, one-sided 99 % Clopper–Pearson on a rate).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import betting, simulate

P0 = 0.01
ALPHA = 0.05


def _beta_binomial(rng: np.random.Generator, n: np.ndarray, p: float, icc: float) -> np.ndarray:
    a = p * (1 - icc) / icc
    b = (1 - p) * (1 - icc) / icc
    return rng.binomial(n.astype(np.int64), rng.beta(a, b, size=n.shape)).astype(float)


@pytest.mark.parametrize("n_per_tick", [5, 150, 15_000])
@pytest.mark.parametrize("icc", [0.0, 0.05])
def test_each_factor_has_expectation_at_most_one_at_the_null_boundary(
    n_per_tick: int, icc: float
) -> None:
    rng = np.random.default_rng(101 + n_per_tick)
    size = 200_000
    n = rng.poisson(n_per_tick, size=size).astype(float)
    e = (_beta_binomial(rng, n, P0, icc) if icc else
         rng.binomial(n.astype(np.int64), P0).astype(float))
    factors = np.exp(betting.log_factors(n, e, P0, n_ref=n_per_tick))
    mean = factors.mean(axis=0)
    half_width = 3.29 * factors.std(axis=0) / math.sqrt(size)  # two-sided 99.9 %
    assert np.all(mean - half_width <= 1.0), (mean, half_width)
    assert np.all(mean + half_width >= 0.97)  # and it is not trivially small


def test_a_factor_is_never_below_one_minus_the_bet_even_for_absurd_counts() -> None:
    n = np.array([10.0, 10.0, 10.0, 0.0, 5.0])
    e = np.array([0.0, 10.0, 25.0, 3.0, -4.0])  # e > n and e < 0 are counter glitches
    logs = betting.log_factors(n, e, 1e-6, n_ref=10.0)
    assert np.all(np.isfinite(logs))
    assert np.all(logs >= math.log(1 - max(betting.BETS)) - 1e-12)
    assert np.all(logs[3] == 0.0)  # no traffic: skipped
    assert np.allclose(logs[1], logs[2])  # the ratio is clipped at 1


def test_ten_thousand_ticks_of_strong_evidence_stay_finite() -> None:
    n = np.full(10_000, 1_000.0)
    paths = betting.log_e_paths(n, n, 1e-4)
    assert np.all(np.isfinite(paths))
    assert paths[-1] > 1e4


def test_quiet_ticks_are_damped_by_the_reference_traffic() -> None:
    full = betting.log_factors(100.0, 5.0, P0, n_ref=100.0)
    quiet = betting.log_factors(10.0, 0.5, P0, n_ref=100.0)
    assert np.all(quiet < full)  # same ratio, a tenth of the traffic: a tenth of the bet


def test_false_aborts_stay_below_alpha_on_binomial_and_overdispersed_errors() -> None:
    rng = np.random.default_rng(7)
    cells = [simulate.Generator(), simulate.Generator("beta", icc=0.01),
             simulate.Generator("beta", icc=0.05)]
    for gen in cells:
        for per_tick in (15.0, 1500.0):
            b = simulate.batch(rng, gen, p_base=P0, p_window=P0, per_tick=per_tick, runs=3000,
                               base_ticks=20, window_ticks=120)
            aborts = int((simulate.default_abort(b, P0, ALPHA) > 0).sum())
            upper = simulate.clopper_pearson(aborts, 3000, 0.99)[1]
            assert upper <= ALPHA, (gen.label, per_tick, aborts)


def test_a_doubled_error_ratio_is_detected_within_sixty_ticks_at_ten_requests_a_second() -> None:
    rng = np.random.default_rng(8)
    b = simulate.batch(rng, simulate.Generator(), p_base=P0 / 2, p_window=2 * P0,
                       per_tick=150.0, runs=2000, base_ticks=20, window_ticks=60)
    detected = int((simulate.default_abort(b, P0, ALPHA) > 0).sum())
    assert simulate.clopper_pearson(detected, 2000, 0.99)[0] >= 0.95


def test_a_sustained_violation_at_high_traffic_aborts_in_t_min_ticks_or_so() -> None:
    rng = np.random.default_rng(9)
    b = simulate.batch(rng, simulate.Generator(), p_base=P0 / 2, p_window=2 * P0,
                       per_tick=15_000.0, runs=1000, base_ticks=20, window_ticks=60)
    ticks = simulate.default_abort(b, P0, ALPHA)
    assert np.all(ticks >= 6)  # the exact mixture crossing at r = 2·p0 is tick 6
    assert np.median(ticks) <= 8


def test_the_one_tick_update_walks_the_same_path_as_the_batch_computation() -> None:
    rng = np.random.default_rng(10)
    n = rng.poisson(50, size=40).astype(float)
    n[[3, 17]] = 0.0
    e = rng.binomial(n.astype(np.int64), 0.02).astype(float)
    state = betting.start()
    for t in range(n.size):
        state, _ = betting.update(state, float(n[t]), float(e[t]), P0, 50.0)
    assert state.log_e == pytest.approx(float(betting.log_e_paths(n, e, P0, 50.0)[-1]))
