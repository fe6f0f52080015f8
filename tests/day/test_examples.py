"""The shipped game days load, in the order and with the gates their comments promise."""

from __future__ import annotations

from runner.day import loader
from runner.day import model as day_model
from tests.day.conftest import ROOT

EXPERIMENTS = ROOT / "experiments"


def test_the_local_day_runs_the_kill_first_and_the_latency_only_if_it_held() -> None:
    day = loader.load(EXPERIMENTS / "day-local.yaml")
    assert [e.id for e in day.experiments] == ["replica-kill", "latency-p99"]
    assert day.experiments[1].needs == ("replica-kill",)
    (gate,) = day.gates
    assert isinstance(gate, day_model.ErrorBudgetGate)
    assert gate.slo == 0.99 and gate.min_remaining == 0.25 and gate.max_spend == 0.1
    assert "gameday_proxy_requests_total" in gate.total and gate.rate is not None
    for entry in day.experiments:
        assert entry.experiment.prometheus.url == "sandbox"
        assert entry.experiment.sha256 == entry.file_sha256  # the file, as written


def test_the_kubernetes_day_has_a_berlin_window_three_gates_and_a_burn_rate_abort() -> None:
    day = loader.load(EXPERIMENTS / "day-k8s.yaml")
    assert day.window is not None and day.window.timezone == "Europe/Berlin"
    assert day.window.days == frozenset({1, 2}) and len(day.window.freeze) == 2
    assert [g.kind for g in day.gates] == ["error-budget", "no-alerts", "burn-rate"]
    alerts = day.gates[1]
    assert isinstance(alerts, day_model.NoAlertsGate)
    assert 'alertstate="firing"' in alerts.query
    latency = day.entry("latency")
    (rule,) = latency.experiment.abort.burn_rates
    assert [(w.seconds, w.factor) for w in rule.windows] == [(300, 14.4), (3600, 6)]
    assert latency.experiment.target.platform == "kubernetes"
