"""The published reference numbers of STATS.md, reproduced by our code (test oracles)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gammaln

from runner.stats import betting, power, sprt


@pytest.mark.parametrize(
    ("alpha", "beta", "log_a", "log_b"),
    [(0.05, 0.10, 2.8904, -2.2513), (0.01, 0.05, 4.5539, -2.9857)],
)
def test_wald_thresholds_match_the_textbook_values(
    alpha: float, beta: float, log_a: float, log_b: float
) -> None:
    upper, lower = sprt.wald_thresholds(alpha, beta)
    assert upper == pytest.approx(log_a, abs=5e-5)
    assert lower == pytest.approx(log_b, abs=5e-5)


def test_binomial_sprt_lines_match_dodge_and_mistat() -> None:
    lines = sprt.binomial_lines(p0=0.01, alpha=0.05, p1=0.05, beta=0.05)
    assert lines.h1 == pytest.approx(1.783772, abs=5e-7)
    assert lines.h2 == pytest.approx(1.783772, abs=5e-7)
    assert lines.s == pytest.approx(0.02498542, abs=5e-9)


def test_kl_and_walds_bounds_for_one_versus_two_percent() -> None:
    kl = sprt.kl_bernoulli(0.02, 0.01)
    assert kl == pytest.approx(0.003914, abs=5e-7)
    assert round(sprt.reject_only_n(0.05, kl)) == 765
    assert round(sprt.wald_expected_n(0.05, 0.2, kl)) == 487


@pytest.mark.parametrize(("psi", "alpha", "ticks"), [(2.0, 0.05, 5), (5.0, 0.05, 2),
                                                  (2.0, 0.01, 7)])
def test_the_tick_floor_matches_stats_md(psi: float, alpha: float, ticks: int) -> None:
    # ⌈log(1/α)/log ψ⌉ with no clustering assumption; our cap Y_MAX = 0.95 keeps it.
    assert power.tick_floor(psi, alpha) == ticks == math.ceil(math.log(1 / alpha) / math.log(psi))


def test_the_floor_is_really_reached_on_a_steady_violation() -> None:
    # r = ψ·p0 exactly every tick at high traffic: the default test crosses log(1/α) at the
    # floor (5 ticks at ψ = 2), and not before (no per-tick e-value exceeds r/p0 = 2).
    p0, psi = 0.01, 2.0
    n = np.full((1, 20), 10_000.0)
    paths = betting.log_e_paths(n, n * psi * p0, p0, psi_prior=psi)[0]
    first = int(np.argmax(paths >= math.log(20.0))) + 1
    assert first == power.tick_floor(psi, 0.05) == 5
    assert np.all(np.diff(paths) <= math.log(psi) + 1e-12)


def test_nothing_to_detect_when_psi_is_not_above_one() -> None:
    assert power.tick_floor(1.0, 0.05) is None


def _log_beta(v: np.ndarray) -> float:
    return float(gammaln(v).sum() - gammaln(v.sum()))


def test_dirichlet_multinomial_bayes_factor_matches_savvi() -> None:
    # savvi's multinomial test: prior Dirichlet(κ·θ0), batches update sequentially.
    prior = 100.0 * np.array([0.5, 0.5])
    seen = np.zeros(2)
    log_bf = 0.0
    for batch in [(30.0, 20.0), (40.0, 10.0), (35.0, 15.0)]:
        b = np.array(batch)
        log_bf += (_log_beta(prior + seen + b) - _log_beta(prior + seen)
                   - float(b @ np.log([0.5, 0.5])))
        seen += b
    assert seen.tolist() == [105.0, 45.0]
    assert math.exp(log_bf) == pytest.approx(935.2953838716, rel=1e-10)
