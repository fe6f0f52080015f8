"""The facade the engine uses: calibrate once, step once per tick, journal both."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from runner import stats
from runner.stats import betting, generators, negbin
from runner.stats.monitor import MonitorPlan, Obs, ProbeSpec, calibrate, start, step

P0 = 0.01


def _healthy(rng: np.random.Generator, per_tick: float = 1500.0, p: float = 0.005,
             ticks: int = 20) -> list[Obs | None]:
    n = rng.poisson(per_tick, size=ticks)
    return [Obs(float(k), float(rng.binomial(k, p))) for k in n]


def _run(plan: MonitorPlan, ticks: list[dict[str, Obs | None]]) -> list[stats.MonitorStep]:
    state = start(plan)
    out = []
    for obs in ticks:
        state, decision = step(plan, state, obs)
        out.append(decision)
    return out


def test_a_healthy_baseline_gives_a_plan_that_holds_and_a_journalable_record() -> None:
    rng = np.random.default_rng(501)
    plan = calibrate([ProbeSpec("errors", P0)], 0.05, {"errors": _healthy(rng)},
                     window_ticks=60)
    assert plan.baseline_holds and plan.problems == ()
    probe = plan.probes[0]
    assert probe.holds and probe.upper_bound is not None and probe.upper_bound < P0
    assert probe.weight == 1.0 and probe.mode_used == "default"
    assert plan.alpha_test == 0.05 and plan.threshold_log == pytest.approx(math.log(20))
    assert probe.earliest_abort_ticks is not None and probe.earliest_abort_ticks <= 10
    text = json.dumps(plan.to_dict(), allow_nan=False)
    assert MonitorPlan.from_dict(json.loads(text)) == plan


def test_without_statistical_probes_the_monitor_runs_and_never_rejects() -> None:
    plan = calibrate([], 0.05, {}, window_ticks=10)
    assert plan.baseline_holds and plan.probes == ()
    steps = _run(plan, [{}] * 5)
    assert [s.reject for s in steps] == [False] * 5
    assert steps[-1].log_e == 0.0 and steps[-1].tick == 5


def test_a_baseline_above_the_slo_is_refused_with_a_sentence_naming_the_probe() -> None:
    rng = np.random.default_rng(502)
    plan = calibrate([ProbeSpec("checkout errors", P0)], 0.05,
                     {"checkout errors": _healthy(rng, p=0.02)}, window_ticks=60)
    assert not plan.baseline_holds and not plan.probes[0].holds
    assert plan.problems[0].startswith("checkout errors: the steady state does not hold")
    assert "already at or above the SLO" in plan.problems[0]


def test_a_baseline_too_thin_to_show_the_slo_holds_says_what_would_settle_it() -> None:
    plan = calibrate([ProbeSpec("p99", P0)], 0.05,
                     {"p99": [Obs(20.0, 0.0), Obs(20.0, 0.0), Obs(20.0, 0.0)]}, window_ticks=60)
    assert not plan.baseline_holds
    assert "a longer baseline or more traffic would settle it" in plan.problems[0]


def test_a_baseline_without_traffic_is_a_problem_not_a_crash() -> None:
    plan = calibrate([ProbeSpec("a", P0), ProbeSpec("b", None)], 0.05,
                     {"a": [None, Obs(0.0, 0.0)]}, window_ticks=60)
    assert not plan.baseline_holds
    assert len(plan.problems) == 2 and all("no traffic" in p for p in plan.problems)
    steps = _run(plan, [{"a": Obs(100.0, 100.0), "b": Obs(100.0, 100.0)}] * 3)
    assert steps[-1].probes[1].log_e <= 0.0  # p0* = 1 without a baseline: never rejects


def test_without_an_slo_the_baseline_sets_p0_and_takes_its_share_of_alpha() -> None:
    rng = np.random.default_rng(503)
    plan = calibrate([ProbeSpec("errors", None)], 0.05, {"errors": _healthy(rng)},
                     window_ticks=60)
    probe = plan.probes[0]
    assert plan.alpha_test == pytest.approx(0.04)
    assert probe.upper_bound is not None
    assert probe.p0 == pytest.approx(1.5 * probe.upper_bound)
    assert probe.p0_requested is None and probe.holds


def test_fast_mode_is_granted_on_a_steady_baseline_with_its_dispersion_bound() -> None:
    rng = np.random.default_rng(504)
    plan = calibrate([ProbeSpec("errors", P0, mode="fast")], 0.05,
                     {"errors": _healthy(rng, p=0.008)}, window_ticks=60)
    probe = plan.probes[0]
    assert probe.mode_used == "fast" and probe.fallback_reason is None
    assert probe.phi is not None and probe.phi >= 1.5
    assert plan.warnings == ()


def test_fast_mode_falls_back_to_the_default_test_and_says_why() -> None:
    rng = np.random.default_rng(505)
    plan = calibrate([ProbeSpec("errors", P0, mode="fast")], 0.05,
                     {"errors": _healthy(rng, per_tick=15.0)}, window_ticks=200)
    probe = plan.probes[0]
    assert probe.mode_requested == "fast" and probe.mode_used == "default"
    assert probe.fallback_reason is not None and "at least 10 errors" in probe.fallback_reason
    assert any("using the default test" in w for w in plan.warnings)


def test_the_plan_warns_when_the_test_is_too_weak_for_the_window() -> None:
    rng = np.random.default_rng(506)
    plan = calibrate([ProbeSpec("errors", P0)], 0.05, {"errors": _healthy(rng, per_tick=15.0)},
                     window_ticks=20)
    assert plan.probes[0].power_warning is not None
    assert plan.probes[0].power_warning in plan.warnings


def test_ticks_without_data_change_nothing() -> None:
    rng = np.random.default_rng(507)
    plan = calibrate([ProbeSpec("a", P0)], 0.05, {"a": _healthy(rng)}, window_ticks=60)
    state = start(plan)
    for obs in ({}, {"a": None}, {"a": Obs(0.0, 0.0)}, {"a": Obs(math.nan, 1.0)}):
        new, decision = step(plan, state, obs)
        assert new.probes == state.probes
        assert decision.probes[0].e is None and decision.probes[0].log_factor == 0.0
        json.dumps(decision.to_dict(), allow_nan=False)
        state = new
    assert state.tick == 4


def test_a_tripled_error_ratio_is_rejected_and_attributed_and_the_rejection_sticks() -> None:
    rng = np.random.default_rng(508)
    base = {"bad": _healthy(rng), "good": _healthy(rng)}
    plan = calibrate([ProbeSpec("bad", P0), ProbeSpec("good", P0)], 0.05, base, window_ticks=60)
    ticks: list[dict[str, Obs | None]] = [
        {"bad": Obs(1500.0, 45.0), "good": Obs(1500.0, 6.0)} for _ in range(6)]
    ticks += [{"bad": Obs(1500.0, 0.0), "good": Obs(1500.0, 0.0)} for _ in range(20)]
    steps = _run(plan, ticks)
    first = next(s for s in steps if s.reject)
    assert first.tick <= 5
    assert first.attribution == ("bad",) and first.leading == "bad"
    assert steps[-1].reject and steps[-1].log_e < steps[-1].threshold_log  # sticky
    assert steps[-1].probes[0].p_value <= 0.025 and steps[-1].probes[0].significant


def test_a_probe_without_weight_is_watched_but_never_counts() -> None:
    rng = np.random.default_rng(509)
    base = {"watched": _healthy(rng), "counted": _healthy(rng)}
    plan = calibrate([ProbeSpec("watched", P0, weight=0.0), ProbeSpec("counted", P0)], 0.05,
                     base, window_ticks=60)
    steps = _run(plan, [{"watched": Obs(1500.0, 150.0), "counted": Obs(1500.0, 7.0)}] * 20)
    assert steps[-1].probes[0].log_e > 20 and not steps[-1].probes[0].significant
    assert not steps[-1].reject and steps[-1].leading == "counted"


def test_the_facade_replays_the_vectorised_paths_exactly() -> None:
    rng = np.random.default_rng(510)
    n, e = generators.draw(rng, generators.Gen("beta", icc=0.0002), runs=1, base=20, window=40,
                           p_base=0.006, p_window=0.012, per_tick=3000.0)
    base = [Obs(a, b) for a, b in zip(n[0, :20], e[0, :20], strict=True)]
    plan = calibrate([ProbeSpec("d", P0), ProbeSpec("f", P0, mode="fast")], 0.05,
                     {"d": base, "f": base}, window_ticks=40)
    d, f = plan.probes
    assert f.mode_used == "fast" and f.phi is not None and f.n_mean is not None
    steps = _run(plan, [{"d": Obs(a, b), "f": Obs(a, b)}
                        for a, b in zip(n[0, 20:], e[0, 20:], strict=True)])
    want_d = betting.log_e_paths(n[:, 20:], e[:, 20:], P0, psi_prior=d.psi_prior,
                                 phi=d.phi_size, n_disp=d.n_mean)[0]
    want_f = negbin.log_e_paths(n[:, 20:], e[:, 20:], P0, f.phi, f.n_mean,
                                psi_prior=f.psi_prior, phi=f.phi_size, n_disp=f.n_mean)[0]
    assert [s.probes[0].log_e for s in steps] == pytest.approx(list(want_d), abs=1e-9)
    assert [s.probes[1].log_e for s in steps] == pytest.approx(list(want_f), abs=1e-9)


def test_the_calibration_event_states_the_null_its_assumptions_and_what_was_checked() -> None:
    rng = np.random.default_rng(513)
    plan = calibrate([ProbeSpec("slo", P0), ProbeSpec("normal", None)], 0.05,
                     {"slo": _healthy(rng), "normal": _healthy(rng)}, window_ticks=60)
    slo, normal = plan.to_dict()["probes"]
    assert slo["question"] == "safety" and normal["question"] == "attribution"
    assert slo["null"].startswith("H0: in every tick") and "p0 = 0.01" in slo["null"]
    assert any("cluster inside a tick" in a for a in slo["assumptions"])
    assert any("upper bound" in c and "0.01" in c for c in slo["baseline_checked"])
    assert slo["dependence"]["ticks"] == 20 and len(slo["dependence"]["acf"]) == 3
    assert "baseline's upper bound" in normal["null"]


def test_a_fresh_start_forgets_the_evidence_for_the_recovery_watch() -> None:
    rng = np.random.default_rng(511)
    plan = calibrate([ProbeSpec("a", P0)], 0.05, {"a": _healthy(rng)}, window_ticks=60)
    assert _run(plan, [{"a": Obs(1500.0, 60.0)}] * 10)[-1].reject
    assert start(plan) == stats.start(plan) and start(plan).probes[0].max_log_e == 0.0


def test_a_state_from_another_plan_is_refused() -> None:
    rng = np.random.default_rng(512)
    one = calibrate([ProbeSpec("a", P0)], 0.05, {"a": _healthy(rng)}, window_ticks=60)
    two = calibrate([], 0.05, {}, window_ticks=60)
    with pytest.raises(ValueError, match="does not belong"):
        step(two, start(one), {})


@pytest.mark.parametrize(("specs", "alpha", "message"), [
    ([ProbeSpec("a", P0)], 1.5, "alpha"),
    ([ProbeSpec("a", 0.0)], 0.05, "p0"),
    ([ProbeSpec("a", P0), ProbeSpec("a", P0)], 0.05, "unique"),
    ([ProbeSpec("a", P0, weight=-1.0)], 0.05, "weights"),
])
def test_impossible_settings_are_refused(specs: list[ProbeSpec], alpha: float,
                                         message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calibrate(specs, alpha, {}, window_ticks=60)


def test_the_records_are_frozen_values() -> None:
    plan = calibrate([], 0.05, {}, window_ticks=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.alpha = 0.1  # type: ignore[misc]
