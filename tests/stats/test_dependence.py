"""Dependence across ticks: the baseline check, its level, its power, and its remedy."""

from __future__ import annotations

import numpy as np
import pytest

from runner.stats import dependence, generators, simulate
from runner.stats.monitor import Obs, ProbeSpec, calibrate

P0 = 0.01


def _flag_rate(gen: generators.Gen, per_tick: float, base: int = 20, runs: int = 3000,
               seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    n, e = generators.draw(rng, gen, runs=runs, base=base, window=0, p_base=0.8 * P0,
                           p_window=P0, per_tick=per_tick)
    return float(dependence.diagnose_arrays(n, e)[2].mean())


@pytest.mark.parametrize("gen", [generators.Gen(), generators.Gen("beta", icc=0.05),
                                 generators.Gen("bursty", icc=0.01), generators.Gen("pauses")],
                         ids=lambda g: g.name)
def test_independent_ticks_are_flagged_at_about_the_stated_level(gen: generators.Gen) -> None:
    rate = _flag_rate(gen, 1500.0)
    k = round(rate * 3000)
    # one-sided 99 % bound: at most ~2× the stated 1 %, whatever the dispersion
    assert simulate.clopper_pearson(k, 3000)[1] <= 2 * dependence.FLAG_LEVEL + 0.01


def test_storms_and_a_wandering_ratio_are_flagged_far_more_often() -> None:
    storms = _flag_rate(generators.Gen("storms"), 15_000.0, base=40)
    wander = _flag_rate(generators.Gen("ar1", ar=0.9), 15_000.0, base=40)
    assert storms > 0.4 and wander > 0.9


def test_a_flagged_baseline_gets_blocks_whose_length_follows_the_correlation() -> None:
    short = dependence.block_ticks(np.array([0.3, 0.6, 0.8, 0.99]))
    assert list(short) == [2, 5, 11, dependence.MAX_BLOCK]


def _series(e: list[float], n: float = 1500.0) -> list[Obs | None]:
    return [Obs(n, x) for x in e]


def test_the_plan_bets_on_blocks_and_says_why_with_the_numbers() -> None:
    rng = np.random.default_rng(2)
    storm = np.r_[np.full(8, 5.0), np.full(6, 45.0), np.full(8, 5.0), np.full(6, 40.0),
                  np.full(12, 6.0)] + rng.integers(0, 4, 40)
    plan = calibrate([ProbeSpec("errors", 0.05)], 0.05, {"errors": _series(list(storm))},
                     window_ticks=240)
    probe = plan.probes[0]
    assert probe.dependence["flagged"] and probe.block_ticks == probe.dependence["block"] > 1
    assert any("bets once per block" in w and "autocorrelation" in w for w in plan.warnings)
    assert f"block of {probe.block_ticks} ticks" in probe.null
    assert plan.baseline_holds  # a remedy, not a refusal


def test_a_ratio_that_wanders_too_slowly_for_any_block_refuses_the_run() -> None:
    ramp = np.linspace(2.0, 40.0, 30)  # the error ratio drifts the whole baseline
    plan = calibrate([ProbeSpec("errors", 0.05)], 0.05, {"errors": _series(list(ramp))},
                     window_ticks=240)
    assert not plan.baseline_holds and plan.probes[0].dependence["refused"]
    text = " ".join(plan.problems)
    assert "wanders on its own" in text and "Lengthen the baseline" in text


def test_independent_baselines_keep_per_tick_bets_and_say_none_was_seen() -> None:
    rng = np.random.default_rng(3)
    plan = calibrate([ProbeSpec("errors", P0)], 0.05,
                     {"errors": _series(list(rng.binomial(1500, 0.004, 20).astype(float)))},
                     window_ticks=60)
    probe = plan.probes[0]
    assert probe.block_ticks == 1 and not probe.dependence["flagged"]
    assert any("none seen" in c for c in probe.baseline_checked)
