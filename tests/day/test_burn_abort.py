"""A burn-rate abort condition during a run: `abort: [{burn-rate: ...}]` in the native
model, evaluated each tick by a sentinel against a real Prometheus scraping a real
exporter: the fast and the slow window both above their factor end the fault window as
a broken steady state (exit 1), and every evaluation is journaled with its numbers."""

from __future__ import annotations

from pathlib import Path

from runner import testing
from runner.adapters import burnrate, prometheus
from runner.errors import ExitCode
from runner.journal import reader, recovery
from runner.model import experiment as model
from runner.model import loader
from tests.day import support
from tests.fixtures.prometheus import PrometheusHandle

TOTAL = "day_burn_requests_total"


def test_the_native_model_reads_a_burn_rate_abort_and_lends_it_the_ratio_probe() -> None:
    exp = loader.load_text("""
title: burn
prometheus: {url: "http://127.0.0.1:9", tick: 5s}
steady_state:
  probes:
    - name: errors
      ratio: {errors: 'req_total{code="500"}', total: req_total}
      max: 1%
faults: [{latency: {delay: 100ms}}]
duration: 1m
abort: [steady-state, {burn-rate: {slo: 99.9%, windows: [[5m, 14.4], [1h, 6]]}}]
""", "burn.yaml")
    (rule,) = exp.abort.burn_rates
    assert rule.bad == 'req_total{code="500"}' and rule.total == "req_total"
    assert [(w.seconds, w.factor) for w in rule.windows] == [(300, 14.4), (3600, 6)]


def test_a_hot_burn_rate_in_the_fault_window_aborts_as_broken_within_a_tick(
        prometheus: PrometheusHandle, series_id: str, tmp_path: Path) -> None:
    labels = {"test": series_id}
    exporter = prometheus.exporter
    exporter.inc_counter(TOTAL, {**labels, "code": "200"}, 1000)
    exporter.inc_counter(TOTAL, {**labels, "code": "500"}, 0)
    selector = f'{TOTAL}{{test="{series_id}"}}'
    prometheus.wait_for_value(f"sum({selector})", 1000)
    rule = model.BurnRate(slo=0.9, windows=(model.BurnWindow(4, 5.0), model.BurnWindow(8, 2.0)),
                          total=selector, bad=f'{TOTAL}{{test="{series_id}",code="500"}}')
    clock = testing.FakeClock()
    journal = tmp_path / "run" / "journal.jsonl"
    burned: list[int] = []

    def burn(_now: float) -> None:
        watch = [e for e in support.events(journal)
                 if e["type"] == "tick" and e.get("phase") == "watch"]
        if len(watch) == 2 and not burned:
            burned.append(len(watch))
            exporter.inc_counter(TOTAL, {**labels, "code": "500"}, 900)
            exporter.inc_counter(TOTAL, {**labels, "code": "200"}, 100)
            prometheus.wait_for_value(f"sum({selector})", 2000)

    clock.on_sleep.append(burn)
    source = prometheus_source(prometheus.url)
    try:
        outcome = support.fake_run(support.experiment(), journal, clock=clock,
                                   script=support.healthy,
                                   sentinels=[burnrate.BurnRateSentinel([rule], source.query)])
    finally:
        source.close()
    assert outcome.exit_code == ExitCode.BROKEN and outcome.verdict == "broken"
    assert "the error budget is burning too fast" in outcome.reason
    read = reader.read(journal)
    watch = [e for e in read.of_type("tick") if e.get("phase") == "watch"]
    assert len(watch) <= burned[0] + 1
    abort = read.last("abort")
    assert abort is not None and abort["kind"] == "burn-rate"
    assert abort["evidence"]["hot"] is True
    evaluations = read.of_type("burn-rate")
    assert evaluations and not evaluations[0]["hot"] and evaluations[-1]["hot"]
    assert evaluations[-1]["windows"][0]["burn_rate"] > 5
    assert recovery.pending_reverts(read) == []


def prometheus_source(url: str) -> prometheus.PrometheusSource:
    return prometheus.PrometheusSource(model.PrometheusConfig(url=url, timeout=2.0), 5.0)
