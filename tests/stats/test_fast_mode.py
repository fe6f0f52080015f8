"""Fast mode: the negative-binomial tilt, the baseline checks that earn it, its error rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import dispersion, negbin, simulate

P0 = 0.01
ALPHA = 0.05


def _assert_mean_at_most_one(factors: np.ndarray) -> None:
    mean = factors.mean(axis=0)
    half_width = 3.29 * factors.std(axis=0) / math.sqrt(factors.shape[0])  # 99.9 %
    assert np.all(mean - half_width <= 1.0), (mean, half_width)


@pytest.mark.parametrize("n_per_tick", [15, 1500])
def test_each_factor_has_expectation_at_most_one_for_binomial_errors(n_per_tick: int) -> None:
    rng = np.random.default_rng(201)
    n = np.full(200_000, float(n_per_tick))
    e = rng.binomial(n_per_tick, P0, size=n.size).astype(float)
    _assert_mean_at_most_one(np.exp(negbin.log_factors(n, e, P0, 1.5)))


@pytest.mark.parametrize("phi", [1.5, 4.0, 30.0])
def test_each_factor_has_expectation_at_most_one_for_negative_binomial_errors(phi: float) -> None:
    # Gamma–Poisson with mean p0·n and variance φ·p0·n: exactly the bound fast mode assumes.
    rng = np.random.default_rng(202)
    n = np.full(400_000, 1500.0)
    mu = P0 * n
    shape = mu / (phi - 1.0)
    e = rng.poisson(rng.gamma(shape, (phi - 1.0))).astype(float)
    _assert_mean_at_most_one(np.exp(negbin.log_factors(n, e, P0, phi)))


def test_tilts_keep_every_log_finite_even_for_huge_dispersion() -> None:
    theta, k = negbin.tilts(np.array([1.0001, 1.5, 1e4]))
    assert np.all(np.isfinite(theta)) and np.all(np.isfinite(k))
    with pytest.raises(ValueError, match="phi"):
        negbin.tilts(1.0)


def test_the_dispersion_bound_is_never_below_the_margin_or_the_estimate() -> None:
    phi = dispersion.phi_bound(np.array([0.5, 1.0, 3.0, 40.0]), np.array([20, 20, 20, 200]))
    assert np.all(phi >= 1.5)
    assert np.all(phi >= 1.5 * np.array([1.0, 1.0, 3.0, 40.0]) - 1e-12)


def _binomial_baseline(rng: np.random.Generator, per_tick: float = 1500.0,
                       ticks: int = 20) -> tuple[np.ndarray, np.ndarray]:
    n = rng.poisson(per_tick, size=ticks).astype(float)
    return n, rng.binomial(n.astype(np.int64), P0).astype(float)


def _reason(n: np.ndarray, e: np.ndarray) -> str | None:
    phi_hat = float(dispersion.pearson_dispersion(n, e))
    acf = float(dispersion.acf1(n, e))
    halves = float(dispersion.halves_p_value(n, e))
    return dispersion.fallback_reason(int((n > 0).sum()), float(e.sum()), phi_hat, acf, halves)


def test_a_steady_binomial_baseline_earns_fast_mode() -> None:
    n, e = _binomial_baseline(np.random.default_rng(203))
    assert _reason(n, e) is None
    phi, ok = dispersion.accepts(n, e)
    assert bool(ok) and float(phi) >= 1.5


def test_too_short_a_baseline_refuses_fast_mode_and_says_so() -> None:
    n, e = _binomial_baseline(np.random.default_rng(204), ticks=6)
    assert "at least 10 baseline ticks" in (_reason(n, e) or "")


def test_too_few_errors_to_measure_dispersion_refuse_fast_mode() -> None:
    n, e = _binomial_baseline(np.random.default_rng(205), per_tick=15.0)
    assert "at least 10 errors" in (_reason(n, e) or "")


def test_errors_that_come_in_runs_across_ticks_refuse_fast_mode() -> None:
    rng = np.random.default_rng(206)
    n = np.full(40, 1500.0)
    e = np.concatenate([np.full(20, 5.0), np.full(20, 30.0)]) + rng.integers(0, 3, 40)
    assert "autocorrelated" in (_reason(n, e) or "")


def test_a_dispersion_that_changes_between_the_halves_refuses_fast_mode() -> None:
    rng = np.random.default_rng(207)
    n = np.full(40, 1500.0)
    calm = rng.binomial(1500, P0, size=20).astype(float)
    wild = rng.poisson(rng.gamma(0.3, 50.0, size=20)).astype(float)
    order = np.empty(20)
    order[::2], order[1::2] = wild[::2], calm[1::2]  # interleaved: no autocorrelation
    e = np.concatenate([calm, order])
    assert dispersion.acf1(n, e) <= dispersion.MAX_ACF1
    assert "changed between the two halves" in (_reason(n, e) or "")


@pytest.mark.parametrize(("gen", "per_tick"), [
    (simulate.Generator(), 150.0),
    (simulate.Generator(), 15_000.0),
    (simulate.Generator("beta", icc=0.01), 1500.0),
    (simulate.Generator("beta", icc=0.05), 1500.0),
])
def test_false_aborts_stay_below_alpha_where_the_checks_accept(
    gen: simulate.Generator, per_tick: float
) -> None:
    rng = np.random.default_rng(208)
    b = simulate.batch(rng, gen, p_base=P0, p_window=P0, per_tick=per_tick, runs=3000,
                       base_ticks=20, window_ticks=120)
    ticks, accepted = simulate.fast_abort(b, P0, ALPHA)
    assert accepted.mean() > 0.3  # the cell really exercises fast mode
    shipped = int((ticks > 0).sum())
    assert simulate.clopper_pearson(shipped, 3000, 0.99)[1] <= ALPHA, (gen.label, shipped)


def test_fast_mode_detects_a_doubled_error_ratio_in_a_tick_or_two_at_high_traffic() -> None:
    rng = np.random.default_rng(209)
    b = simulate.batch(rng, simulate.Generator(), p_base=P0 / 2, p_window=2 * P0,
                       per_tick=15_000.0, runs=1000, base_ticks=20, window_ticks=30)
    ticks, accepted = simulate.fast_abort(b, P0, ALPHA)
    assert accepted.mean() > 0.8
    assert np.all(ticks[accepted] > 0)
    assert np.median(ticks[accepted]) <= 2


def test_fast_mode_is_never_much_slower_than_the_default_test_where_ticks_are_cheap() -> None:
    rng = np.random.default_rng(211)
    b = simulate.batch(rng, simulate.Generator("beta", icc=0.01), p_base=P0 / 2,
                       p_window=2 * P0, per_tick=150.0, runs=1000, base_ticks=20,
                       window_ticks=240)
    fast, accepted = simulate.fast_abort(b, P0, ALPHA)
    default = simulate.default_abort(b, P0, ALPHA)
    assert accepted.mean() > 0.5
    assert np.median(fast) <= np.median(default) + 2


def test_the_one_tick_update_walks_the_same_path_as_the_batch_computation() -> None:
    rng = np.random.default_rng(210)
    n = rng.poisson(500, size=30).astype(float)
    e = rng.binomial(n.astype(np.int64), 0.015).astype(float)
    state = negbin.start()
    for t in range(n.size):
        state, _ = negbin.update(state, float(n[t]), float(e[t]), P0, 2.0, 500.0)
    want = negbin.fast_log_e_paths(n, e, P0, 2.0, 500.0)[-1]
    assert state.log_e == pytest.approx(float(want))
