"""Recovery with positive evidence: the upper confidence sequence and "back"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import generators, recovery, simulate
from runner.stats.monitor import Obs, ProbeSpec, calibrate

P0 = 0.01
ALPHA = 0.05


def _plan(n: np.ndarray, e: np.ndarray) -> recovery.RecoveryPlan:
    base = [Obs(a, b) for a, b in zip(n, e, strict=True)]
    return recovery.plan(calibrate([ProbeSpec("x", P0)], ALPHA, {"x": base}, window_ticks=40))


def _draw(seed: int, q: float, rps: float, runs: int,
          window: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return generators.draw(rng, generators.Gen("beta", icc=0.001), runs=runs, base=20,
                           window=window, p_base=0.4 * P0, p_window=q * P0, per_tick=rps * 15.0)


def test_each_factor_has_mean_at_most_one_under_the_null_and_beyond_it() -> None:
    # Counts exactly at the bound (negative binomial, mean m·n, variance φ·m·n) and with a
    # larger mean (the null is composite: "at least m").
    rng = np.random.default_rng(1)
    n, m, phi = 1500.0, P0, 1.8
    for mean_mult in (1.0, 1.5, 4.0):
        mu = mean_mult * m * n
        e = rng.poisson(rng.gamma(mu / (phi - 1.0), phi - 1.0, size=100_000)).astype(float)
        values, counts = np.unique(e, return_counts=True)  # few distinct counts: exact mean
        for q in (0.1, 0.5, 0.9):
            per_value = np.exp([recovery.log_factor(n, float(x), m, phi, q) for x in values])
            factors = np.repeat(per_value, counts)
            half = 3.29 * factors.std() / math.sqrt(factors.size)
            assert factors.mean() - half <= 1.0, (mean_mult, q, factors.mean())


@pytest.mark.parametrize("rps", [10, 1000])
def test_a_service_left_at_twice_or_at_p0_is_almost_never_shown_back(rps: int) -> None:
    for q, limit in ((2.0, 0.0), (1.0, ALPHA)):
        n, e = _draw(2 + rps, q, rps, runs=2000)
        back = simulate.recovery_back(n, e, base=20, p0=P0, alpha=ALPHA) > 0
        assert simulate.clopper_pearson(int(back.sum()), 2000)[1] <= max(limit, 0.005), q


def test_a_service_truly_back_is_shown_back_with_an_upper_bound_below_p0() -> None:
    n, e = _draw(3, 0.3, 10, runs=2000)
    ticks = simulate.recovery_back(n, e, base=20, p0=P0, alpha=ALPHA)
    assert simulate.clopper_pearson(int((ticks > 0).sum()), 2000)[0] >= 0.9


def test_the_engine_step_and_the_vectorised_watch_agree_and_journal_the_bound() -> None:
    n, e = _draw(4, 0.4, 100, runs=8)
    want = simulate.recovery_back(n, e, base=20, p0=P0, alpha=ALPHA)
    for r in range(8):
        rp = _plan(n[r, :20], e[r, :20])
        got = recovery.back_ticks(rp, [{"x": Obs(a, b)} for a, b in
                                       zip(n[r, 20:], e[r, 20:], strict=True)])
        assert got == want[r]
    rp = _plan(n[0, :20], e[0, :20])
    state = recovery.start(rp)
    for a, b in zip(n[0, 20:20 + int(want[0])], e[0, 20:20 + int(want[0])], strict=True):
        state, decision = recovery.step(rp, state, {"x": Obs(a, b), "other": None})
    record = decision.to_dict()
    assert record["back"] and record["probes"][0]["upper_bound"] is not None
    assert record["probes"][0]["upper_bound"] <= P0 and "upper bound" in decision.sentence()


def test_no_data_proves_nothing() -> None:
    n, e = _draw(5, 0.3, 100, runs=1)
    rp = _plan(n[0, :20], e[0, :20])
    state = recovery.start(rp)
    for _ in range(50):
        state, decision = recovery.step(rp, state, {"x": None})
    assert not decision.back and decision.upper == (None,) and decision.ticks == (0,)
