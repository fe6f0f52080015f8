"""The Prometheus metrics source against a real Prometheus scraping a real loopback exporter.

Every test uses its own ``test`` label value, so all share the session's one Prometheus.
After changing the exporter a test polls Prometheus until the new value is visible
(``wait_for_value``) and only then samples: no fixed sleeps.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from runner import errors, ports
from runner.adapters import prometheus as adapter
from runner.model import experiment as model
from runner.sandbox import net
from tests.fixtures.prometheus import PrometheusHandle

pytestmark = pytest.mark.prometheus

BUCKETS = (0.1, 0.3, 0.5, 1.0)


@pytest.fixture
def source(prometheus: PrometheusHandle) -> Iterator[adapter.PrometheusSource]:
    src = adapter.PrometheusSource(model.PrometheusConfig(url=prometheus.url, timeout=5.0), 1.0)
    yield src
    src.close()


def ratio(sid: str) -> model.RatioProbe:
    return model.RatioProbe(
        name="errors", errors=f'req_total{{test="{sid}",code=~"5.."}}',
        total=f'req_total{{test="{sid}"}}', max=0.01,
    )


def ok(sid: str) -> dict[str, str]:
    return {"test": sid, "code": "200"}


def test_counter_deltas_match_the_exporter_increments_across_ticks(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    probe, total = ratio(series_id), f'sum(req_total{{test="{series_id}"}})'
    prometheus.exporter.set_counter("req_total", ok(series_id), 10)
    prometheus.wait_for_value(total, 10)
    assert source.sample([probe]) == {"errors": None}  # the first call only primes
    prometheus.exporter.inc_counter("req_total", ok(series_id), 7)
    prometheus.wait_for_value(total, 17)
    assert source.sample([probe]) == {"errors": ports.Counts(7, 0)}
    prometheus.exporter.inc_counter("req_total", ok(series_id), 5)
    prometheus.wait_for_value(total, 22)
    prometheus.exporter.inc_counter("req_total", ok(series_id), 4)
    prometheus.wait_for_value(total, 26)
    assert source.sample([probe]) == {"errors": ports.Counts(9, 0)}  # a late tick loses nothing


def test_a_counter_reset_counts_the_new_value(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    probe, total = ratio(series_id), f'sum(req_total{{test="{series_id}"}})'
    prometheus.exporter.set_counter("req_total", ok(series_id), 50)
    prometheus.wait_for_value(total, 50)
    source.sample([probe])
    prometheus.exporter.set_counter("req_total", ok(series_id), 5)
    prometheus.wait_for_value(total, 5)
    assert source.sample([probe]) == {"errors": ports.Counts(5, 0)}


def test_the_first_5xx_series_appearing_mid_run_counts_from_zero(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    probe, total = ratio(series_id), f'sum(req_total{{test="{series_id}"}})'
    prometheus.exporter.set_counter("req_total", ok(series_id), 100)
    prometheus.wait_for_value(total, 100)
    source.sample([probe])
    assert source.sample([probe]) in ({"errors": None}, {"errors": ports.Counts(0, 0)})
    prometheus.exporter.set_counter("req_total", {"test": series_id, "code": "503"}, 3)
    prometheus.exporter.inc_counter("req_total", ok(series_id), 10)
    prometheus.wait_for_value(total, 113)
    assert source.sample([probe]) == {"errors": ports.Counts(13, 3)}


def test_no_new_samples_of_the_total_read_as_no_data(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    probe, total = ratio(series_id), f'sum(req_total{{test="{series_id}"}})'
    prometheus.exporter.set_counter("req_total", ok(series_id), 4)
    prometheus.wait_for_value(total, 4)
    source.sample([probe])
    prometheus.exporter.remove("req_total", ok(series_id))
    prometheus.wait_for_value(total, None)
    flushed = source.sample([probe])["errors"]  # scrapes between the last tick and removal
    assert flushed is None or flushed == ports.Counts(0, 0)
    assert source.sample([probe]) == {"errors": None}


def test_reset_makes_the_next_sample_prime_again(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    probe, total = ratio(series_id), f'sum(req_total{{test="{series_id}"}})'
    prometheus.exporter.set_counter("req_total", ok(series_id), 1)
    prometheus.wait_for_value(total, 1)
    source.sample([probe])
    prometheus.exporter.inc_counter("req_total", ok(series_id), 2)
    prometheus.wait_for_value(total, 3)
    source.reset()
    assert source.sample([probe]) == {"errors": None}


def test_latency_counts_requests_above_the_threshold_bucket_as_bad(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    labels = {"test": series_id}
    probe = model.LatencyProbe(name="p99", histogram="lat_seconds", max=0.3,
                               match=f'{{test="{series_id}"}}')
    count = f'lat_seconds_count{{test="{series_id}"}}'
    prometheus.exporter.observe("lat_seconds", labels, 0.05, times=20, buckets=BUCKETS)
    prometheus.wait_for_value(count, 20)
    assert source.preflight([probe]) == []
    assert source.warnings([probe]) == []
    assert source.sample([probe]) == {"p99": None}
    prometheus.exporter.observe("lat_seconds", labels, 0.05, times=10, buckets=BUCKETS)
    prometheus.exporter.observe("lat_seconds", labels, 0.4, times=4, buckets=BUCKETS)
    prometheus.wait_for_value(count, 34)
    assert source.sample([probe]) == {"p99": ports.Counts(14, 4)}


def test_a_threshold_between_buckets_uses_the_next_bucket_up_and_warns(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    labels = {"test": series_id}
    probe = model.LatencyProbe(name="p99", histogram="lat_seconds", max=0.25,
                               match=f'{{test="{series_id}"}}')
    count = f'lat_seconds_count{{test="{series_id}"}}'
    prometheus.exporter.observe("lat_seconds", labels, 0.05, times=1, buckets=BUCKETS)
    prometheus.wait_for_value(count, 1)
    (warning,) = source.warnings([probe])
    assert "no bucket at 0.25 s" in warning
    assert "le=0.3" in warning
    assert "conservative" in warning
    source.sample([probe])
    prometheus.exporter.observe("lat_seconds", labels, 0.28, times=5, buckets=BUCKETS)
    prometheus.exporter.observe("lat_seconds", labels, 0.6, times=2, buckets=BUCKETS)
    prometheus.wait_for_value(count, 8)
    assert source.sample([probe]) == {"p99": ports.Counts(7, 2)}


def test_a_histogram_without_series_is_a_preflight_problem(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource
) -> None:
    probe = model.LatencyProbe(name="p99", histogram="no_such_seconds", max=0.3)
    (problem,) = source.preflight([probe])
    assert "no_such_seconds_count" in problem
    assert prometheus.url in problem


def test_a_gauge_must_return_exactly_one_series(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    for replica in ("a", "b"):
        prometheus.exporter.set_gauge("ready", {"test": series_id, "replica": replica}, 1)
    prometheus.wait_for_value(f'count(ready{{test="{series_id}"}})', 2)
    two = model.GaugeProbe(name="ready", query=f'ready{{test="{series_id}"}}', min=1)
    none = model.GaugeProbe(name="gone", query=f'ready{{test="{series_id}x"}}', min=1)
    one = model.GaugeProbe(name="sum", query=f'sum(ready{{test="{series_id}"}})', min=1)
    problems = source.preflight([two, none, one])
    assert len(problems) == 2
    assert "returns 2 series" in problems[0]
    assert "returns 0 series" in problems[1]
    assert source.sample([two, none, one]) == {
        "ready": None, "gone": None, "sum": ports.Value(2.0),
    }


def test_invalid_promql_is_a_problem_with_prometheus_own_words(
    source: adapter.PrometheusSource,
) -> None:
    gauge = model.GaugeProbe(name="bad", query="sum(rate(x[1m])", min=1)
    expression = model.RatioProbe(name="expr", errors="sum(x)", total="sum(increase(y[1m]))")
    problems = source.preflight([gauge, expression])
    assert len(problems) == 2
    assert "parse error" in problems[0]
    assert "ranges only allowed for vector selectors" in problems[1]
    assert "counter series selectors" in problems[1]
    assert source.sample([gauge]) == {"bad": None}
    assert "parse error" in source.last_errors["bad"]


def test_a_total_selector_without_series_is_a_problem_but_missing_errors_only_a_warning(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    prometheus.exporter.set_counter("req_total", ok(series_id), 1)
    prometheus.wait_for_value(f'sum(req_total{{test="{series_id}"}})', 1)
    assert source.preflight([ratio(series_id)]) == []
    (warning,) = source.warnings([ratio(series_id)])
    assert "0 errors" in warning
    (problem,) = source.preflight([ratio(series_id + "-absent")])
    assert "matches no series" in problem


def test_alerts_are_the_queries_that_return_something(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    prometheus.exporter.set_gauge("alarm", {"test": series_id}, 1)
    prometheus.wait_for_value(f'alarm{{test="{series_id}"}}', 1)
    firing = f'alarm{{test="{series_id}"}} == 1'
    quiet = f'alarm{{test="{series_id}"}} == 2'
    assert source.alerts([firing, quiet]) == [firing]
    (problem,) = source.preflight_alerts([firing, "alarm{"])
    assert problem.startswith("alert 'alarm{'")
    assert "parse error" in problem


def test_an_unreachable_prometheus_is_a_clear_and_bounded_failure() -> None:
    url = f"http://127.0.0.1:{net.free_port()}"
    naps: list[float] = []
    src = adapter.PrometheusSource(model.PrometheusConfig(url=url, timeout=2.0), 1.0,
                                   sleep=naps.append)
    with pytest.raises(errors.PlatformError) as caught:
        src.query("vector(1)")
    assert url in caught.value.message
    assert "connection refused" in caught.value.message
    assert len(naps) == 2  # three attempts, then give up
    (problem,) = src.preflight([ratio("x")])
    assert url in problem
    assert src.sample([ratio("x")]) == {"errors": None}
    assert url in src.last_errors["errors"]
    src.close()


def test_a_total_that_appears_after_the_first_call_primes_then_without_counting_history(
    prometheus: PrometheusHandle, source: adapter.PrometheusSource, series_id: str
) -> None:
    probe, total = ratio(series_id), f'sum(req_total{{test="{series_id}"}})'
    assert source.sample([probe]) == {"errors": None}
    prometheus.exporter.set_counter("req_total", ok(series_id), 500)
    prometheus.wait_for_value(total, 500)
    assert source.sample([probe]) == {"errors": None}  # primes now: 500 is history
    prometheus.exporter.inc_counter("req_total", ok(series_id), 2)
    prometheus.wait_for_value(total, 502)
    assert source.sample([probe]) == {"errors": ports.Counts(2, 0)}


class FlakyPrometheus(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first two queries, then an instant vector; counts requests."""

    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.calls.append(self.path)
        if len(self.calls) <= 2:
            body, status = b"overloaded", 503
        else:
            body, status = json.dumps({"status": "success", "data": {
                "resultType": "vector", "result": [{"metric": {}, "value": [1.0, "42"]}],
            }}).encode(), 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_transient_5xx_answers_are_retried_a_bounded_number_of_times() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyPrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    naps: list[float] = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        src = adapter.PrometheusSource(model.PrometheusConfig(url=url), 1.0, sleep=naps.append)
        gauge = model.GaugeProbe(name="g", query="answer")
        assert src.sample([gauge]) == {"g": ports.Value(42.0)}
        assert len(FlakyPrometheus.calls) == 3
        assert len(naps) == 2
        src.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
