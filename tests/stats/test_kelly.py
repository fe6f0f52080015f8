"""The Kelly table that sizes the default bet: exactness, shape, and the two lookups."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import kelly


@pytest.mark.parametrize(("lam", "psi"), [(0.15, 2.0), (1.5, 1.5), (1.5, 2.0), (0.5, 5.0),
                                          (0.01, 100.0), (150.0, 1.1)])
def test_the_table_is_close_to_the_direct_optimum_and_to_its_growth(lam: float,
                                                                     psi: float) -> None:
    direct = kelly.optimal(lam, psi)
    looked = kelly.bet(lam, psi)
    # Interpolation costs at most 5 % of the best growth, except just above ψ = 1 at high
    # traffic, where the optimum jumps from 0 to Y_MAX within one grid step and the
    # table under-bets (conservative: it loses growth, never validity).
    share = 0.95 if psi >= 1.2 or lam < 10 else 0.75
    assert looked <= direct + 1e-9 or psi >= 1.2
    assert kelly.growth(lam, psi, looked) >= share * kelly.growth(lam, psi, direct)


def test_the_direct_optimum_maximises_the_expected_log_growth() -> None:
    lam, psi = 1.5, 2.0
    best = kelly.optimal(lam, psi)
    assert 0.0 < best < kelly.Y_MAX
    for y in (best - 0.05, best + 0.05):
        assert kelly.growth(lam, psi, y) < kelly.growth(lam, psi, best)


def test_bets_grow_with_the_effect_and_the_traffic_and_vanish_without_an_effect() -> None:
    assert kelly.bet(1.5, 1.0) == 0.0 and kelly.bet(1.5, 0.5) == 0.0 and kelly.bet(0.0, 2.0) == 0.0
    psis = [1.1, 1.5, 2.0, 5.0, 50.0]
    assert all(a <= b for a, b in zip(map(lambda p: kelly.bet(1.5, p), psis),
                                      map(lambda p: kelly.bet(1.5, p), psis[1:]), strict=False))
    lams = [0.01, 0.1, 1.0, 10.0, 1e4]
    row = [kelly.bet(lam, 2.0) for lam in lams]
    assert row == sorted(row) and row[-1] == kelly.Y_MAX


def test_the_scalar_and_vector_lookups_agree_everywhere_including_off_the_grid() -> None:
    rng = np.random.default_rng(1)
    lam = np.exp(rng.uniform(math.log(1e-6), math.log(1e7), 500))
    psi = np.exp(rng.uniform(-0.5, math.log(5000.0), 500))
    vec = kelly.bets(lam, psi)
    assert list(vec) == pytest.approx([kelly.bet(a, b) for a, b in zip(lam, psi, strict=True)],
                                      abs=1e-12)
    assert np.all((vec >= 0) & (vec <= kelly.Y_MAX))


def test_at_high_traffic_the_bet_reaches_the_tick_floor() -> None:
    # 5 ticks at r = 2·p0 and α = 5 %: ⌈log 20 / log(1 + Y_MAX)⌉ = 5
    y = kelly.bet(150.0, 2.0)
    assert y == kelly.Y_MAX and math.ceil(math.log(20) / math.log1p(y)) == 5
