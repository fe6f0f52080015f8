"""The calibration math: exact binomial intervals, and a conformal threshold whose false-abort
rate on a new exchangeable window is at most α (checked by simulation, with its error bound)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.stats import history


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (0, 10, 0.0, 1 - 0.025 ** (1 / 10)),          # closed forms at the ends
    (10, 10, 0.025 ** (1 / 10), 1.0),
    (5, 10, 0.1870860, 0.8129140),                # R: binom.test(5, 10)$conf.int
    (3, 1000, 0.0006187, 0.0087435),              # R: binom.test(3, 1000)$conf.int
])
def test_clopper_pearson_matches_the_exact_interval(k: int, n: int, lo: float, hi: float) -> None:
    got = history.clopper_pearson(k, n)
    assert got == pytest.approx((lo, hi), abs=2e-6)


def test_an_estimate_is_above_alpha_only_when_its_lower_bound_is() -> None:
    assert history.estimate(30, 200, 0.05).verdict == "above"
    assert history.estimate(12, 200, 0.05).verdict == "unclear"
    assert history.estimate(2, 400, 0.05).verdict == "within"
    assert history.estimate(0, 0, 0.05).verdict == "unclear"


def test_the_conformal_threshold_keeps_a_new_windows_false_aborts_within_alpha() -> None:
    rng = np.random.default_rng(11)
    alpha, m, runs = 0.05, 99, 4000
    floor = math.log(1 / alpha)
    hits = 0
    for _ in range(runs):
        sups = rng.gamma(2.0, 2.0, size=m + 1)  # heavy enough to sit above log(1/α) often
        level = history.threshold(list(sups[:m]), alpha, floor)
        assert level is not None and level >= floor
        hits += sups[m] >= level
    rate = hits / runs
    assert rate <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)


def test_too_few_windows_give_no_threshold_and_the_floor_always_holds() -> None:
    assert history.min_windows(0.05) == 19
    assert history.threshold([1.0] * 18, 0.05, 3.0) is None
    assert history.threshold([0.1] * 19, 0.05, 3.0) == 3.0  # never below the model's own
    assert history.threshold([5.0] * 19, 0.05, 3.0) > 5.0  # abort only strictly above
