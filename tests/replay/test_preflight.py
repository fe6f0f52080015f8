"""History in preflight: ``steady_state.history`` replays the past before any fault and
refuses (or warns) above α; ``against: history`` raises the run's abort threshold, and the
run journals what it rests on."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import errors, testing
from runner import ports as ports_mod
from runner.cli import compose
from runner.cli import replay as replay_cli
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import reader, writer
from runner.model import experiment as model
from runner.model import loader
from runner.stats import history as stats_history
from tests.replay.conftest import Served


def _exp(week: Served, tmp_path: Path, extra: str) -> model.Experiment:
    text = week.experiment.read_text(encoding="utf-8").replace(
        "  baseline: 1m\n", f"  baseline: 1m\n{extra}")
    path = tmp_path / "experiment.yaml"
    path.write_text(text, encoding="utf-8")
    return loader.load(path)


def _at_end(week: Served) -> float:
    return week.truth.time(week.truth.steps - 1)


def test_history_above_alpha_refuses_with_the_numbers_and_the_remedy(
        week: Served, tmp_path: Path) -> None:
    exp = _exp(week, tmp_path, "  history: {last: 2d, above_alpha: refuse}\n")
    with pytest.raises(errors.RefusedError) as caught:
        replay_cli.preflight(exp, compose.Options(), now=lambda: _at_end(week))
    message = caught.value.message
    assert "healthy windows would have aborted" in message and "α = 0.05" in message
    assert "against: history" in message and "Nothing was injected" in message
    assert caught.value.exit_code == errors.ExitCode.REFUSED


def test_against_history_raises_the_threshold_and_the_run_journals_it(
        week: Served, tmp_path: Path) -> None:
    exp = _exp(week, tmp_path, "  history: 2d\n  against: history\n")
    found = replay_cli.preflight(exp, compose.Options(), now=lambda: _at_end(week))
    cal = found.calibration
    assert cal is not None and cal.applied and cal.estimate is not None
    assert cal.threshold_log > cal.model_threshold_log and cal.windows >= 300

    stat = exp.steady_state.stat_probes
    metrics = testing.ScriptedMetrics(lambda call, probe: ports_mod.Counts(300, 0)
                                      if probe in stat else ports_mod.Value(3))
    path = tmp_path / "journal.jsonl"
    clock = testing.FakeClock()
    with writer.JournalWriter(path, now=clock.time) as jw:
        ports = run_mod.RunPorts(metrics=metrics, platform=testing.FakePlatform(),
                                 activities=testing.RecordingActivities(), clock=clock,
                                 journal=jw, cancel=clock_mod.Cancel())
        run_mod.Run(exp, ports, run_id="r", seed=1, dry=True, history=cal).execute()
    events = reader.read(path).events
    plan = next(e for e in events if e["type"] == "calibration")
    assert plan["threshold_log"] == pytest.approx(cal.threshold_log)
    journaled = next(e for e in events if e["type"] == "history-calibration")
    assert journaled["against"] == "history" and journaled["windows"] == cal.windows
    assert "exchangeable" in journaled["assumption"]
    assert journaled["estimate"]["windows"] == cal.estimate.windows


def test_a_history_without_against_journals_the_estimate_and_keeps_the_threshold() -> None:
    monitor = pytest.importorskip("runner.stats.monitor")
    plan = monitor.calibrate([monitor.ProbeSpec("p", 0.01)], 0.05,
                             {"p": [monitor.Obs(100, 0)] * 10}, window_ticks=10)
    est = stats_history.estimate(1, 100, 0.05)
    cal = stats_history.Calibration(9.0, plan.threshold_log, 100, applied=False, estimate=est)
    assert stats_history.apply(plan, cal).threshold_log == plan.threshold_log
    assert cal.to_dict()["against"] == "slo" and cal.to_dict()["estimate"]["aborts"] == 1
