"""The end-of-baseline look: summary numbers, the upper bound U and the baseline p0*."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from runner.stats import baseline, generators, simulate


def test_with_equal_traffic_the_bound_is_stats_md_t_bound_on_per_tick_ratios() -> None:
    rng = np.random.default_rng(301)
    n = np.full(20, 2000.0)
    e = rng.binomial(2000, 0.02, size=20).astype(float)
    r = e / n
    expected = r.mean() + sps.t.ppf(0.95, 19) * r.std(ddof=1) / math.sqrt(20)
    assert float(baseline.upper_bounds(n, e, 0.05)) == pytest.approx(expected, rel=1e-9)


def test_a_baseline_without_errors_still_gets_a_positive_clopper_pearson_bound() -> None:
    n = np.full(10, 100.0)
    upper = baseline.upper_bound(n, np.zeros(10), 0.05)
    assert upper == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-9)


def test_a_baseline_without_traffic_has_no_bound() -> None:
    assert baseline.upper_bound(np.zeros(5), np.zeros(5), 0.05) is None
    assert baseline.upper_bound(np.array([]), np.array([]), 0.05) is None


def test_ticks_without_traffic_are_left_out_of_the_summary() -> None:
    s = baseline.summarise(np.array([100.0, 0.0, 300.0, 200.0]), np.array([1.0, 0.0, 3.0, 2.0]))
    assert s.ticks == 3
    assert s.n_ref == 200.0
    assert s.ratio == pytest.approx(0.01)


def test_the_bound_covers_the_true_rate_of_binomial_errors() -> None:
    rng = np.random.default_rng(302)
    n, e = generators.draw(rng, generators.Gen(), runs=5000, base=20, window=0, p_base=0.01,
                           p_window=0.01, per_tick=150.0)
    misses = int((baseline.upper_bounds(n, e, 0.05) < 0.01).sum())
    assert simulate.clopper_pearson(misses, 5000, 0.99)[1] <= 0.05


def test_with_the_margin_the_baseline_p0_is_rarely_below_an_overdispersed_true_rate() -> None:
    # Skewed per-tick rates (Beta, ICC 0.01) make the t-bound alone undercover (about 10 %
    # misses at a nominal 5 %); the margin m = 0.5 brings the miss rate under α_b.
    rng = np.random.default_rng(303)
    n, e = generators.draw(rng, generators.Gen("beta", icc=0.01), runs=5000, base=20, window=0,
                           p_base=0.01, p_window=0.01, per_tick=1500.0)
    a_b = baseline.ALPHA_SHARE * 0.05
    p0_star = np.minimum(1.0, (1 + baseline.MARGIN) * baseline.upper_bounds(n, e, a_b))
    misses = int((p0_star < 0.01).sum())
    assert simulate.clopper_pearson(misses, 5000, 0.99)[1] <= a_b


def test_the_baseline_p0_takes_the_margin_and_never_exceeds_the_slo_or_one() -> None:
    assert baseline.baseline_p0(0.004) == pytest.approx(0.006)
    assert baseline.baseline_p0(0.004, slo=0.005) == 0.005
    assert baseline.baseline_p0(0.9) == 1.0


def test_a_nonsense_error_level_is_refused() -> None:
    with pytest.raises(ValueError, match="error level"):
        baseline.upper_bound(np.ones(3), np.zeros(3), 0.0)
