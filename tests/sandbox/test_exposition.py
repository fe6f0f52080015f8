"""The hand-written Prometheus exposition: what queries rely on is there from the start."""

from __future__ import annotations

from runner.sandbox import exposition


def test_a_histogram_is_cumulative_with_a_bucket_at_the_slo_threshold() -> None:
    hist = exposition.Histogram("x_seconds", "help")
    for value in (0.001, 0.3, 0.31, 7.0):
        hist.observe(value)
    text = exposition.render([hist]).decode()
    assert 'x_seconds_bucket{le="0.005"} 1' in text
    assert 'x_seconds_bucket{le="0.3"} 2' in text  # le is inclusive
    assert 'x_seconds_bucket{le="0.5"} 3' in text
    assert 'x_seconds_bucket{le="5.0"} 3' in text
    assert 'x_seconds_bucket{le="+Inf"} 4' in text
    assert "x_seconds_count 4" in text
    assert hist.count_above(0.3) == 2


def test_error_codes_exist_at_zero_before_the_first_error() -> None:
    counter = exposition.Counter("r_total", "help", label="code", initial=("200", "500"))
    counter.inc("200")
    text = exposition.render([counter]).decode()
    assert 'r_total{code="500"} 0' in text
    assert 'r_total{code="200"} 1' in text
    assert "# TYPE r_total counter" in text


def test_a_gauge_carries_its_labels() -> None:
    gauge = exposition.Gauge("ready", "help", labels=[("service", "demo")])
    gauge.set(2)
    assert 'ready{service="demo"} 2' in exposition.render([gauge]).decode()
