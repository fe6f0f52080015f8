"""Replaying a backfilled week: the incident found at the right tick, the false-abort rate
matching an offline simulation of the same stream, and the history-calibrated threshold
keeping false aborts within α where the per-tick test does not.

One replay of the week (with calibration) serves every test of this module: it is the
expensive part (the engine runs once per window, ~2 000 windows).
"""

from __future__ import annotations

import math

import pytest

from runner.cli import compose
from runner.cli import replay as replay_cli
from runner.model import loader
from runner.replay import replaying, session, windows
from tests.replay import oracle
from tests.replay.conftest import Served


@pytest.fixture(scope="module")
def replayed(week: Served) -> session.Result:
    exp = loader.load(week.experiment)
    truth = week.truth
    span = windows.Span(truth.time(0), truth.time(truth.steps - 1))
    start, stop = truth.incident
    incident = windows.Span(truth.time(start) - truth.tick, truth.time(stop))
    got = replay_cli.fetch(exp, span, compose.Options())
    request = replaying.Request(exp, span, incidents=(incident,), calibrate=True)
    return replaying.replay(request, got.fetched, got.source_for)


def test_the_whole_week_is_fetched_in_chunks_under_the_points_limit(
        replayed: session.Result, week: Served) -> None:
    f = replayed.fetched
    assert not replayed.partial and f.failure is None
    assert f.complete == f.steps == week.truth.steps
    # 3 expressions (total, the latency buckets, the gauge) x ceil(steps / 10 000) chunks,
    # plus the one coarse query that lists the histogram's buckets
    assert f.queries == 3 * math.ceil(f.steps / 10_000) + 1


def test_replay_finds_the_incident_at_the_tick_the_offline_simulation_does(
        replayed: session.Result, week: Served) -> None:
    (incident,) = replayed.incidents
    aligned = incident.aligned
    assert aligned is not None and aligned.aborted and aligned.abort_kind == "steady-state"
    expected = oracle.window(week.truth, replayed.exp, replayed.layout, aligned.prime)
    assert aligned.abort_tick == expected.abort_tick
    start = week.truth.incident[0]
    assert aligned.abort_time == week.truth.time(start + (expected.abort_tick or 0) - 1)
    assert incident.overlapping, "grid windows over the incident are reported too"


def test_every_window_decides_as_the_offline_simulation_of_the_same_stream(
        replayed: session.Result, week: Served) -> None:
    grid = [w for w in replayed.windows if w.kind == "grid"]
    expected = [oracle.window(week.truth, replayed.exp, replayed.layout, w.prime) for w in grid]
    assert [w.status != "refused" for w in grid] == [e.started for e in expected]
    assert [w.abort_tick for w in grid] == [e.abort_tick for e in expected]
    healthy = [(w, e) for w, e in zip(grid, expected, strict=True) if w.healthy and e.started]
    offline = sum(1 for _, e in healthy if e.abort_tick is not None) / len(healthy)
    est = replayed.estimate
    assert est.windows == len(healthy)
    assert est.lower <= offline <= est.upper


def test_the_calibrated_threshold_keeps_false_aborts_within_alpha_where_the_per_tick_test_does_not(
        replayed: session.Result) -> None:
    alpha = replayed.exp.steady_state.alpha
    per_tick = replayed.test_estimate
    assert per_tick.lower > alpha, per_tick.sentence()  # storms: the per-tick null is violated
    cal = replayed.calibrated
    assert cal is not None and cal.calibration is not None, cal
    assert cal.calibration.threshold_log > cal.calibration.model_threshold_log
    held = cal.held_out
    assert held is not None and held.windows > 300
    # Held out (threshold from the first half, counted on the second). A conformal
    # threshold's realised rate has mean <= α and variance ~ α(1-α)(1/n_test + 1/n_cal)
    # (the test windows' noise and the quantile's): within 3 of those σ above α.
    n_cal = cal.calibration.windows - held.windows
    sigma = math.sqrt(alpha * (1 - alpha) * (1 / held.windows + 1 / max(1, n_cal)))
    assert held.aborts / held.windows <= alpha + 3 * sigma, held.sentence()
    assert held.aborts / held.windows < per_tick.lower, "calibration must help, clearly"
    aligned = next(w for w in cal.windows if w.kind == "incident")
    assert aligned.aborted, "the calibrated test still catches the incident"


def test_the_calibrated_decisions_are_the_engines_at_that_threshold(
        replayed: session.Result, week: Served) -> None:
    cal = replayed.calibrated
    assert cal is not None and cal.calibration is not None
    level = cal.calibration.threshold_log
    changed = [w for w, before in zip(cal.windows, replayed.windows, strict=True)
               if w.abort_tick != before.abort_tick][:25]
    assert changed, "the calibrated threshold changes some decisions"
    for w in changed:
        expected = oracle.window(week.truth, replayed.exp, replayed.layout, w.prime,
                                 threshold_log=level)
        assert w.abort_tick == expected.abort_tick
