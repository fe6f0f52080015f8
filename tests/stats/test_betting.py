"""The default test (adaptive predictable bet): numerics, validity, speed, late onsets.

Every simulation is seeded; every statistical claim is checked with a stated bound
(a normal interval on a mean of many factors, one-sided 99 % Clopper–Pearson on rates).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import betting, generators, kelly, power, simulate

P0 = 0.01
ALPHA = 0.05


def _walk_scalar(params: betting.BetParams, n: np.ndarray, e: np.ndarray) -> list[float]:
    state = betting.start(params)
    out = []
    for nt, et in zip(n, e, strict=True):
        state, _ = betting.update(params, state, float(nt), float(et))
        out.append(state.log_e)
    return out


@pytest.mark.parametrize("per_tick", [15, 1500])
@pytest.mark.parametrize("icc", [0.0, 0.05])
def test_every_factor_has_conditional_mean_at_most_one_at_the_null_boundary(
    per_tick: int, icc: float
) -> None:
    # Many independent 8-tick runs at p = p0: the product of the factors (an e-value at
    # tick 8, whatever bets were chosen) must have mean ≤ 1.
    rng = np.random.default_rng(101 + per_tick)
    gen = generators.Gen("beta", icc=icc) if icc else generators.Gen()
    n, e = generators.draw(rng, gen, runs=100_000, base=0, window=8, p_base=P0, p_window=P0,
                           per_tick=per_tick)
    final = np.exp(betting.log_e_paths(n, e, P0)[:, -1])
    half = 3.29 * final.std() / math.sqrt(final.size)  # two-sided 99.9 %
    assert final.mean() - half <= 1.0, (final.mean(), half)
    assert final.mean() + half >= 0.9  # and the bets are not trivially zero


def test_the_engine_update_walks_the_same_path_as_the_batch_computation() -> None:
    rng = np.random.default_rng(102)
    n = rng.poisson(150, size=60).astype(float)
    n[[3, 17, 18]] = 0.0  # ticks without traffic are skipped by both
    e = rng.binomial(n.astype(np.int64), np.r_[np.full(30, 0.005), np.full(30, 0.03)])
    params = betting.BetParams(p0=P0, psi_prior=2.0, phi=1.7, n_disp=120.0)
    want = betting.log_e_paths(n, e.astype(float), P0, phi=1.7, n_disp=120.0)[0]
    assert _walk_scalar(params, n, e.astype(float)) == pytest.approx(list(want), abs=1e-9)


def test_a_factor_never_drops_below_one_minus_the_largest_bet_even_for_absurd_counts() -> None:
    params = betting.BetParams(p0=1e-6)
    state = betting.start(params)
    for n, e in [(10.0, 0.0), (10.0, 25.0), (0.0, 3.0), (5.0, -4.0), (1e9, 0.0)]:
        state, inc = betting.update(params, state, n, e)
        assert math.isfinite(inc) and inc >= math.log1p(-kelly.Y_MAX) - 1e-12
    assert math.isfinite(state.log_e)


def test_ten_thousand_ticks_of_strong_evidence_stay_finite() -> None:
    n = np.full((1, 10_000), 1_000.0)
    paths = betting.log_e_paths(n, n, 1e-4)
    assert np.all(np.isfinite(paths)) and paths[0, -1] > 1e4


def test_healthy_ticks_bet_nothing_once_the_estimate_is_below_p0() -> None:
    params = betting.BetParams(p0=P0)
    state = betting.start(params)
    incs = []
    for _ in range(30):  # zero-error ticks at 10 req/s: the fixed grid paid (1 − c) on each
        state, inc = betting.update(params, state, 150.0, 0.0)
        incs.append(inc)
    assert incs[0] < 0  # the prior bets on the first tick
    assert all(i == 0.0 for i in incs[5:])  # then nothing is lost on healthy ticks


@pytest.mark.parametrize(("rps", "floor_plus_one"), [(10, 9), (100, 6), (1000, 6)])
def test_a_doubled_error_ratio_aborts_within_the_floor_plus_one_tick(
    rps: int, floor_plus_one: int
) -> None:
    rng = np.random.default_rng(103 + rps)
    n, e = generators.draw(rng, generators.Gen(), runs=1000, base=20, window=60,
                           p_base=P0 / 2, p_window=2 * P0, per_tick=rps * 15.0)
    ticks = simulate.run(n, e, base=20, p0=P0, alpha=ALPHA).abort
    floor = max(power.tick_floor(2.0, ALPHA) or 0,
                power.information_floor(rps * 15.0, P0, 2.0, ALPHA) or 0)
    assert floor + 1 <= floor_plus_one
    assert np.all(ticks > 0) and np.median(ticks) <= floor + 1


@pytest.mark.parametrize("onset", [40, 300])
def test_a_violation_that_starts_late_is_caught_within_twice_the_immediate_delay(
    onset: int
) -> None:
    rng = np.random.default_rng(104 + onset)
    n, e = generators.draw(rng, generators.Gen(), runs=1000, base=20 + onset, window=60,
                           p_base=P0 / 2, p_window=2 * P0, per_tick=1500.0)
    ticks = simulate.run(n, e, base=20, p0=P0, alpha=ALPHA).abort
    assert int(((ticks > 0) & (ticks <= onset)).sum()) <= 10  # no abort before the onset
    late = ticks[ticks > onset] - onset
    assert late.size >= 990 and np.median(late) <= 2 * 5


def test_a_total_outage_after_many_healthy_ticks_is_caught_in_a_few_ticks() -> None:
    # 1 s ticks at 10 req/s: 95 % of the healthy ticks have no error at all. The last 20
    # baseline ticks + the outage window also serve as an immediate-outage run.
    rng = np.random.default_rng(105)
    n, e = generators.draw(rng, generators.Gen(), runs=500, base=20 + 900, window=20,
                           p_base=P0 / 2, p_window=1.0, per_tick=10.0)
    ticks = simulate.run(n, e, base=20, p0=P0, alpha=ALPHA).abort - 900
    immediate = simulate.run(n[:, 900:], e[:, 900:], base=20, p0=P0, alpha=ALPHA).abort
    assert np.all(immediate == 2)  # at once: 2 ticks (the fixed grid: 2)
    assert np.all(ticks > 0) and np.max(ticks) <= 7  # the fixed grid: 128 after 900 ticks
    assert np.median(ticks) <= 2 * 2
