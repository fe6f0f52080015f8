"""No phantom errors: both sides of every probe come from the same scrapes, tick after tick.

A real Prometheus scrapes a real exporter every second while a writer thread moves every
counter in lock-step (inside one exporter lock, so each scrape sees whole steps): each
step adds exactly 100 requests with 1 error, and 101 histogram observations with 1 slow
one. Any consistent read of any tick therefore has ``e * 100 == n`` (ratios) and
``e * 101 == n`` (latency), exactly. Ticks land at random moments, so over a few
thousand probe-ticks many of them race a scrape: a read whose two sides came from
different scrapes shows up as a tick off the proportion (the bug this guards against:
122 phantom-slow ticks in 18 550 before reads were made consistent).

Three kinds of probe are raced: a ratio whose errors are a subset of its total (one
query), a ratio over two different metrics (two pinned queries, checked against each
other), and a latency probe (one query for the threshold bucket and +Inf).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from runner import ports
from runner.adapters import prometheus as adapter
from runner.model import experiment as model
from tests.fixtures.prometheus import PrometheusHandle

pytestmark = pytest.mark.prometheus

PER_KIND = 12
TICKS = 60
BUCKETS = (0.1, 0.3, 1.0)


def _probes(sid: str) -> list[model.Probe]:
    probes: list[model.Probe] = []
    for i in range(PER_KIND):
        labels = f'test="{sid}",probe="{i}"'
        probes.append(model.RatioProbe(
            name=f"subset-{i}", errors=f'race_total{{{labels},code="500"}}',
            total=f"race_total{{{labels}}}", max=0.05))
        probes.append(model.RatioProbe(
            name=f"two-metrics-{i}", errors=f"race_errors_total{{{labels}}}",
            total=f"race_requests_total{{{labels}}}", max=0.05))
        probes.append(model.LatencyProbe(
            name=f"latency-{i}", histogram="race_seconds", match=f"{{{labels}}}", max=0.3))
    return probes


def _step(prometheus: PrometheusHandle, sid: str) -> None:
    exp = prometheus.exporter
    with exp.atomically():
        for i in range(PER_KIND):
            labels = {"test": sid, "probe": str(i)}
            exp.inc_counter("race_total", {**labels, "code": "200"}, 99)
            exp.inc_counter("race_total", {**labels, "code": "500"}, 1)
            exp.inc_counter("race_requests_total", labels, 100)
            exp.inc_counter("race_errors_total", labels, 1)
            exp.observe("race_seconds", labels, 0.05, times=100, buckets=BUCKETS)
            exp.observe("race_seconds", labels, 0.5, times=1, buckets=BUCKETS)


@pytest.fixture
def lockstep(prometheus: PrometheusHandle, series_id: str) -> Iterator[None]:
    """The writer thread: a step every 10 ms until the test ends (at most 120 s)."""
    stop = threading.Event()
    _step(prometheus, series_id)

    def write() -> None:
        deadline = time.monotonic() + 120.0
        while not stop.is_set() and time.monotonic() < deadline:
            _step(prometheus, series_id)
            stop.wait(0.01)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    prometheus.wait_for_value(f'count(race_seconds_count{{test="{series_id}"}})', PER_KIND)
    try:
        yield
    finally:
        stop.set()
        writer.join(timeout=5)


def test_ticks_racing_the_scrape_never_read_a_phantom_error(
    prometheus: PrometheusHandle, series_id: str, lockstep: None
) -> None:
    probes = _probes(series_id)
    source = adapter.PrometheusSource(model.PrometheusConfig(url=prometheus.url), 1.0)
    rng = random.Random(20240611)
    readings: list[tuple[str, ports.Counts]] = []
    try:
        assert set(source.sample(probes).values()) == {None}  # the first read primes
        for _ in range(TICKS):
            time.sleep(rng.uniform(0.02, 0.3))  # anywhere in the scrape cycle
            for name, sample in source.sample(probes).items():
                assert sample is None or isinstance(sample, ports.Counts), name
                if sample is not None:
                    readings.append((name, sample))
        assert source.last_errors == {}
    finally:
        source.close()
    off = [(name, s) for name, s in readings
           if s.e * (101 if name.startswith("latency") else 100) != s.n]
    assert off == [], f"{len(off)} of {len(readings)} probe-ticks were inconsistent"
    kinds = {name.rsplit("-", 1)[0] for name, _ in readings}
    assert kinds == {"subset", "two-metrics", "latency"}
    assert len(readings) >= 250  # about one tick in five sees a new scrape of a probe
    assert sum(s.n for _, s in readings) > 0
