"""Fast mode: the count tilt under a traffic-valid bound, its admission, its speed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import betting, dependence, dispersion, generators, negbin, simulate

P0 = 0.01
ALPHA = 0.05


def _mean_at_most_one(x: np.ndarray) -> tuple[bool, float, float]:
    mean, half = float(x.mean()), 3.29 * float(x.std()) / math.sqrt(x.size)  # 99.9 %
    return mean - half <= 1.0, mean, half


@pytest.mark.parametrize("phi", [1.5, 4.0, 30.0])
@pytest.mark.parametrize("psi_hat", [1.25, 2.0, 5.0])
def test_the_tilt_has_mean_at_most_one_for_counts_exactly_at_the_bound(phi: float,
                                                                       psi_hat: float) -> None:
    # Gamma–Poisson with mean p0·n and variance φ·p0·n: exactly what fast mode assumes.
    rng = np.random.default_rng(201)
    n = 1500.0
    mu = P0 * n
    e = rng.poisson(rng.gamma(mu / (phi - 1.0), phi - 1.0, size=400_000)).astype(float)
    factors = np.exp([negbin.log_tilt(n, float(x), P0, phi, psi_hat) for x in e[:400_000]])
    ok, mean, half = _mean_at_most_one(factors)
    assert ok, (mean, half)


def test_a_bound_measured_at_baseline_traffic_must_grow_with_the_ticks_traffic() -> None:
    # ICC 0.002: dispersion 1 + (n − 1)·ICC is 4 at 1 500 requests, 31 at 15 000.
    rng = np.random.default_rng(202)
    icc, n_base, jump = 0.002, 1500.0, 10.0
    phi_b = 1.0 + (n_base - 1.0) * icc
    n = n_base * jump
    a, b = P0 * (1 - icc) / icc, (1 - P0) * (1 - icc) / icc
    e = rng.binomial(int(n), rng.beta(a, b, size=300_000)).astype(float)
    params = negbin.FastParams(bet=betting.BetParams(p0=P0), phi_bound=phi_b, n_bound=n_base)
    assert params.phi_at(n) == pytest.approx(1.0 + (phi_b - 1.0) * jump)
    assert params.phi_at(n_base / 10) == phi_b  # never below the baseline's bound
    valid = np.exp(negbin.log_tilt(n, e, P0, params.phi_at(n), 2.0))
    stale = np.exp(negbin.log_tilt(n, e, P0, phi_b, 2.0))
    assert _mean_at_most_one(valid)[0]
    assert stale.mean() > 10.0  # the bound at baseline traffic is badly broken (v1's bug)


def test_the_engine_update_walks_the_same_path_as_the_batch_computation() -> None:
    rng = np.random.default_rng(203)
    n = rng.poisson(1500, size=50).astype(float)
    n[[4, 30]] = 0.0
    e = rng.binomial(n.astype(np.int64), np.r_[np.full(25, 0.008), np.full(25, 0.02)]) * 1.0
    params = negbin.FastParams(bet=betting.BetParams(p0=P0, phi=1.2, n_disp=1500.0),
                               phi_bound=1.8, n_bound=1400.0)
    state = negbin.start(params)
    got = []
    for nt, et in zip(n, e, strict=True):
        state, _ = negbin.update(params, state, float(nt), float(et))
        got.append(state.log_e)
    want = negbin.log_e_paths(n, e, P0, 1.8, 1400.0, phi=1.2, n_disp=1500.0)[0]
    assert got == pytest.approx(list(want), abs=1e-9)


def test_the_dispersion_bound_is_never_below_the_margin_or_the_estimate() -> None:
    phi = dispersion.phi_bound(np.array([0.5, 1.0, 3.0, 40.0]), np.array([20, 20, 20, 200]))
    assert np.all(phi >= 1.5)
    assert np.all(phi >= 1.5 * np.array([1.0, 1.0, 3.0, 40.0]) - 1e-12)


def _reason(n: np.ndarray, e: np.ndarray) -> str | None:
    phi_hat = float(dispersion.pearson_dispersion(n, e))
    diag = dependence.diagnose(n, e)
    bound = float(dispersion.phi_bound(phi_hat, int((n > 0).sum())))
    return dispersion.fallback_reason(
        int((n > 0).sum()), float(e.sum()), phi_hat, float(dispersion.acf1(n, e)),
        float(dispersion.halves_p_value(n, e)), float(dispersion.largest_share(n, e)), bound,
        diag.flagged)


def _binomial(rng: np.random.Generator, per_tick: float = 1500.0,
              ticks: int = 20) -> tuple[np.ndarray, np.ndarray]:
    n = rng.poisson(per_tick, size=ticks).astype(float)
    return n, rng.binomial(n.astype(np.int64), P0).astype(float)


def test_steady_binomial_baselines_mostly_earn_fast_mode() -> None:
    rng = np.random.default_rng(204)
    n = rng.poisson(1500.0, size=(2000, 20)).astype(float)
    e = rng.binomial(n.astype(np.int64), P0).astype(float)
    phi, ok = dispersion.accepts(n, e)
    assert ok.mean() > 0.6 and np.all(phi >= 1.5)  # halves and burst checks refuse a few
    first = int(np.argmax(ok))
    assert _reason(n[first], e[first]) is None


@pytest.mark.parametrize(("make", "words"), [
    (lambda rng: _binomial(rng, ticks=6), "at least 10 baseline ticks"),
    (lambda rng: _binomial(rng, per_tick=15.0), "at least 10 errors"),
    (lambda rng: (np.full(20, 1500.0), rng.binomial(1500, P0, 20) + np.r_[np.zeros(7), 150.0,
                                                                           np.zeros(12)]),
     "bursts inside ticks"),
    (lambda rng: (np.full(20, 1500.0), rng.poisson(rng.gamma(3.0, 5.0, 20)).astype(float)),
     "too dispersed"),
])
def test_fast_mode_is_refused_with_the_reason(make: object, words: str) -> None:
    n, e = make(np.random.default_rng(205))  # type: ignore[operator]
    assert words in (_reason(n, e) or "")
    assert not bool(dispersion.accepts(n, e)[1])


def test_errors_that_come_in_runs_across_ticks_refuse_fast_mode() -> None:
    rng = np.random.default_rng(206)
    n = np.full(40, 1500.0)
    e = np.concatenate([np.full(20, 5.0), np.full(20, 30.0)]) + rng.integers(0, 3, 40)
    assert "cluster across ticks" in (_reason(n, e) or "")


@pytest.mark.parametrize(("rps", "ticks"), [(100, 2), (1000, 1)])
def test_fast_mode_detects_a_doubled_error_ratio_in_a_tick_or_two(rps: int, ticks: int) -> None:
    rng = np.random.default_rng(207 + rps)
    n, e = generators.draw(rng, generators.Gen(), runs=1000, base=20, window=30,
                           p_base=P0 / 2, p_window=2 * P0, per_tick=rps * 15.0)
    out = simulate.run(n, e, base=20, p0=P0, alpha=ALPHA, method="fast")
    assert out.fast.mean() > 0.5  # the cell exercises fast mode
    granted = out.abort[out.fast]
    assert np.all(granted > 0) and np.median(granted) <= ticks
