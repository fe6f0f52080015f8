"""Gates against a real Prometheus holding 29 days of recorded history (backfilled with
promtool): a healthy budget lets the day run, a spent one refuses with its numbers and
injects nothing; alerts and burn rates close the gate; a burn-rate abort condition
refuses a run that would start while the budget burns."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from runner import testing
from runner.adapters import burnrate, prometheus
from runner.cli import compose, day_compose
from runner.day import loader, records
from runner.errors import ExitCode
from runner.journal import reader
from runner.model import experiment as model
from tests.day import histories, support
from tests.day.conftest import gameday
from tests.e2e.conftest import active_latency
from tests.fixtures.backfill import History, Series

pytestmark = [pytest.mark.prometheus]

Backfilled = Callable[[str, Callable[[], Iterable[Series]]], History]


def write_day(tmp_path: Path, gate_url: str, *, experiment: Path, extra_gates: str = "") -> Path:
    """A one-experiment day whose error-budget gate reads the history at ``gate_url``."""
    path = tmp_path / "day.yaml"
    path.write_text(
        "kind: gameday\ntitle: history day\ngates:\n"
        f"  - error-budget: {{slo: 99.9%, window: 28d, bad: '{histories.BAD}', "
        f"total: {histories.TOTAL}, prometheus: {{url: \"{gate_url}\"}}}}\n"
        + "".join(f"{line}\n" for line in extra_gates.strip("\n").splitlines())
        + f"experiments:\n  - {{id: only, file: {experiment.name}}}\n")
    return path


def assess(tmp_path: Path, history: History, extra: str = "") -> list[object]:
    exp = support.write_sandbox_experiment(tmp_path / "exp.yaml",
                                           fault="latency: {selector: app=demo, delay: 20ms}")
    day = loader.load(write_day(tmp_path, history.url, experiment=exp,
                                extra_gates=extra.replace("URL", history.url)))
    assessor = day_compose.Assessor(compose.Options(sandbox_dir=tmp_path / "no-sandbox"))
    (entry,) = day.experiments
    return list(assessor.assess(entry, day.gates_for(entry)))


def test_a_healthy_28_day_budget_opens_the_gate_with_its_numbers(
        backfilled: Backfilled, tmp_path: Path) -> None:
    (result,) = assess(tmp_path, backfilled("healthy", histories.healthy))
    assert result.ok, result.sentence  # type: ignore[attr-defined]
    numbers = result.numbers  # type: ignore[attr-defined]
    assert numbers["remaining"] == pytest.approx(0.8, abs=0.01)
    assert numbers["rate"] == pytest.approx(100.0, rel=0.02)
    assert not numbers["projected"]
    assert numbers["total"] == pytest.approx(100.0 * 28 * 86_400, rel=0.01)
    assert "at 100 req/s" in result.sentence  # type: ignore[attr-defined]
    assert "of the remaining budget" in result.sentence  # type: ignore[attr-defined]


def test_a_spent_budget_closes_the_gate_and_says_by_how_much(
        backfilled: Backfilled, tmp_path: Path) -> None:
    (result,) = assess(tmp_path, backfilled("spent", histories.spent))
    assert not result.ok  # type: ignore[attr-defined]
    assert result.numbers["remaining"] == pytest.approx(-0.2, abs=0.01)  # type: ignore[attr-defined]
    assert "below the floor of 25 %" in result.sentence  # type: ignore[attr-defined]


def test_a_hot_burn_rate_and_a_firing_critical_alert_close_their_gates(
        backfilled: Backfilled, tmp_path: Path) -> None:
    burn = (f"  - burn-rate: {{slo: 99.9%, bad: '{histories.BAD}', total: {histories.TOTAL}, "
            "prometheus: {url: \"URL\"}}\n"
            "  - no-alerts: {query: 'ALERTS{severity=\"critical\",namespace=\"shop\"}', "
            "prometheus: {url: \"URL\"}}")
    budget, hot, alerts = assess(tmp_path, backfilled("burning", histories.burning), burn)
    assert budget.ok  # type: ignore[attr-defined]  # a spike of an hour is not a spent month
    assert not hot.ok and "30x over 5m (> 14.4)" in hot.sentence  # type: ignore[attr-defined]
    assert alerts.ok  # type: ignore[attr-defined]  # nothing fires in this history
    _budget, cold, firing = assess(tmp_path, backfilled("alerting", histories.alerting), burn)
    assert cold.ok  # type: ignore[attr-defined]
    assert not firing.ok  # type: ignore[attr-defined]
    assert firing.numbers["firing"] == ["CheckoutDown{namespace=shop,severity=critical}"]  # type: ignore[attr-defined]


def test_a_burn_rate_abort_condition_refuses_a_run_that_would_start_while_it_burns(
        backfilled: Backfilled, tmp_path: Path) -> None:
    history = backfilled("burning", histories.burning)
    rule = model.BurnRate(slo=0.999, windows=(model.BurnWindow(300, 14.4),
                                              model.BurnWindow(3600, 14.4)),
                          total=histories.TOTAL, bad=histories.BAD)
    source = prometheus.PrometheusSource(model.PrometheusConfig(url=history.url), 5.0)
    activities = testing.RecordingActivities()
    try:
        outcome = support.fake_run(support.experiment(), tmp_path / "j.jsonl",
                                   clock=testing.FakeClock(), script=support.healthy,
                                   sentinels=[burnrate.BurnRateSentinel([rule], source.query)],
                                   activities=activities)
    finally:
        source.close()
    assert outcome.exit_code == ExitCode.REFUSED and activities.ran == []
    assert "the error budget is burning too fast: burn rate 30x over 5m" in outcome.reason
    journal = reader.read(tmp_path / "j.jsonl")
    (event,) = journal.of_type("burn-rate")
    assert event["hot"] is True and event["windows"][0]["burn_rate"] == pytest.approx(30, rel=0.05)


@pytest.mark.slow
def test_a_healthy_history_lets_the_day_run_and_a_spent_one_refuses_injecting_nothing(
        backfilled: Backfilled, sandbox: Path, home: Path, tmp_path: Path) -> None:
    exp = support.write_sandbox_experiment(
        tmp_path / "short.yaml", fault="latency: {selector: app=demo, delay: 10ms}",
        duration="3s", tick="1s", extra="recovery: {within: 3s}")
    exp.write_text(exp.read_text().replace("baseline: 6s", "baseline: 3s"))
    good = write_day(tmp_path, backfilled("healthy", histories.healthy).url, experiment=exp)
    textfile = tmp_path / "gameday.prom"
    ran = gameday("day", "run", good, "--sandbox", sandbox, "--journal-dir", tmp_path / "ok",
                  "--metrics-textfile", textfile)
    assert ran.returncode == ExitCode.HELD, ran.stdout + ran.stderr
    metrics = textfile.read_text()  # gameday's own metrics: the day and its run
    assert 'gameday_day_experiment_state{day="history day",experiment="only",state="held"} 1' \
        in metrics
    assert 'gameday_runs_total{verdict="held"} 1' in metrics
    (journal,) = (tmp_path / "ok").glob(f"*/{records.JOURNAL_NAME}")
    read = reader.read(journal)
    assert reader.verify(read) == []
    assert [e["state"] for e in read.of_type(records.EXPERIMENT)] == [
        "queued", "gated", "running", "held"]
    assert read.of_type(records.GATE)[0]["numbers"]["remaining"] == pytest.approx(0.8, abs=0.01)

    bad = write_day(tmp_path, backfilled("spent", histories.spent).url, experiment=exp)
    refused = gameday("day", "run", bad, "--sandbox", sandbox, "--journal-dir", tmp_path / "no")
    assert refused.returncode == ExitCode.REFUSED, refused.stdout + refused.stderr
    assert "below the floor of 25 %" in refused.stderr
    (journal,) = (tmp_path / "no").glob(f"*/{records.JOURNAL_NAME}")
    read = reader.read(journal)
    (gate,) = read.of_type(records.GATE)
    assert gate["ok"] is False and gate["numbers"]["remaining"] == pytest.approx(-0.2, abs=0.01)
    assert read.last(records.EXPERIMENT)["state"] == "refused"
    assert list(journal.parent.glob("*/journal.jsonl")) == []  # no run, no fault
    assert active_latency(sandbox) == []
    report = (journal.parent / "day-report.md").read_text()
    assert "**refused**" in report and "CLOSED" in report
    plan = gameday("day", "plan", bad, "--sandbox", sandbox, "--json")
    assert plan.returncode == ExitCode.REFUSED
    doc = json.loads(plan.stdout)
    assert doc["schema"] == "gameday.day-plan/v1" and doc["ok"] is False
    assert doc["experiments"][0]["gates"][0]["ok"] is False
