"""Delta extraction over a recorded stream: promtool backfills a real TSDB, we replay it.

The stream is generated with known per-second increments and the awkward parts of real
life: a counter reset, a 5xx series that appears mid-run, and a scrape outage. Replayed
tick by tick (queries evaluated at a fake clock's time), the per-tick counts must add
up exactly to the generated increments, and the outage must read as no data.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import ports
from runner.adapters import prometheus as adapter
from runner.model import experiment as model
from runner.sandbox import prometheus as launcher

pytestmark = pytest.mark.prometheus

SECONDS = 120
RESET_AT = 50
ERRORS_FROM = 70
OUTAGE = range(80, 90)
PRIME_AT = 10
TICK = 5.0


class ReplayClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def generate(t0: int) -> tuple[str, dict[int, float], dict[int, float]]:
    """An OpenMetrics stream and the true increments per second (total, errors)."""
    rng = random.Random(7)
    ok_value = err_value = 0.0
    ok_lines, err_lines = [], []
    total_inc: dict[int, float] = {}
    err_inc: dict[int, float] = {}
    for t in range(SECONDS):
        if t == RESET_AT:
            ok_value = ok_step = 4.0  # restarted: counts again from 0, 4 requests since
        else:
            ok_step = float(rng.randint(0, 20))
            ok_value += ok_step
        err_step = float(rng.randint(1, 3)) if t >= ERRORS_FROM else 0.0
        err_value += err_step
        total_inc[t], err_inc[t] = ok_step + err_step, err_step
        if t in OUTAGE:
            continue
        ok_lines.append(f'req_total{{code="200"}} {ok_value} {t0 + t}')
        if t >= ERRORS_FROM:
            err_lines.append(f'req_total{{code="500"}} {err_value} {t0 + t}')
    stream = "\n".join(["# TYPE req counter", *ok_lines, *err_lines, "# EOF"]) + "\n"
    return stream, total_inc, err_inc


@pytest.fixture(scope="module")
def recorded(
    prometheus_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int, dict[int, float], dict[int, float]]]:
    run_dir: Path = tmp_path_factory.mktemp("replay")
    t0 = int(time.time()) - 3600
    stream, total_inc, err_inc = generate(t0)
    (run_dir / "stream.om").write_text(stream)
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "stream.om", "data"],
        cwd=run_dir, check=True, capture_output=True, timeout=60,
    )
    server = launcher.start(run_dir, {}, data_dir=run_dir / "data")
    try:
        yield server.url, t0, total_inc, err_inc
    finally:
        launcher.stop(server.pid)


def test_replayed_ticks_add_up_to_the_recorded_increments_through_reset_outage_and_new_series(
    recorded: tuple[str, int, dict[int, float], dict[int, float]],
) -> None:
    url, t0, total_inc, err_inc = recorded
    clock = ReplayClock(float(t0 + PRIME_AT))
    source = adapter.PrometheusSource(
        model.PrometheusConfig(url=url), TICK, monotonic=clock, query_time=clock
    )
    probe = model.RatioProbe(name="r", errors='req_total{code="500"}', total="req_total")
    assert source.sample([probe]) == {"r": None}  # primes at t = 10
    readings: dict[int, ports.Sample] = {}
    for t in range(PRIME_AT + int(TICK), SECONDS, int(TICK)):
        clock.now = float(t0 + t)
        readings[t] = source.sample([probe])["r"]
    source.close()

    assert readings[85] is None  # nothing newer than t = 79: the outage is no data
    counted = [r for r in readings.values() if isinstance(r, ports.Counts)]
    assert len(counted) == len(readings) - 1
    last = max(readings)
    assert sum(c.n for c in counted) == sum(total_inc[t] for t in range(PRIME_AT + 1, last + 1))
    assert sum(c.e for c in counted) == sum(err_inc[t] for t in range(PRIME_AT + 1, last + 1))
    assert readings[90] == ports.Counts(
        sum(total_inc[t] for t in range(80, 91)), sum(err_inc[t] for t in range(80, 91))
    )
