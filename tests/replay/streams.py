"""A generated week of a service, with its ground truth per tick (for backfill and oracles).

A healthy service with diurnal traffic (±60 % over the day), rare retry storms (a few
ticks at several times the usual error ratio, each storm's ticks correlated: the cross-
tick dependence a 20-tick baseline cannot see), a pod restart (a counter reset), and an
incident at a known time (error ratio and slow requests up for ``incident_ticks``).
Samples sit 2.5 s before each grid step, so step ``i`` of a replay sees exactly tick
``i``'s scrape; ``truth`` holds the per-tick (requests, errors, slow) the counters encode,
which is what a replay must read back.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from tests.replay import backfill

FloatArray = npt.NDArray[np.float64]
DAY = 86_400.0


@dataclasses.dataclass(frozen=True)
class Truth:
    origin: float  # Unix time of grid step 0
    tick: float
    n: FloatArray
    errors: FloatArray
    slow: FloatArray
    incident: tuple[int, int]  # grid steps [start, end)
    storms: tuple[int, ...]  # first step of each storm
    reset_at: int

    @property
    def steps(self) -> int:
        return int(self.n.size)

    def time(self, i: int) -> float:
        return self.origin + i * self.tick


@dataclasses.dataclass(frozen=True)
class Week:
    truth: Truth
    streams: tuple[backfill.Stream, ...]


def generate(*, end: float, days: float = 7.0, tick: float = 15.0, seed: int = 7,
             rps: float = 20.0, p_error: float = 0.002, p_slow: float = 0.002,
             storms_per_day: float = 8.0, storm_ticks: int = 6, storm_ratio: float = 0.05,
             incident_day: float = 5.4, incident_ticks: int = 80,
             incident_ratio: float = 0.05) -> Week:
    rng = np.random.default_rng(seed)
    steps = int(days * DAY / tick)
    origin = (np.floor(end / tick) - steps) * tick
    t = origin + np.arange(steps) * tick
    phase = 2 * np.pi * ((t % DAY) / DAY)
    lam = rps * tick * (1.0 + 0.6 * np.sin(phase))
    n = rng.poisson(lam).astype(np.float64)
    p = np.full(steps, p_error)
    slow_p = np.full(steps, p_slow)
    count = rng.poisson(storms_per_day * days)
    storms = np.sort(rng.integers(0, steps - storm_ticks, size=count))
    for s in storms:
        p[s:s + storm_ticks] = storm_ratio * rng.uniform(0.6, 1.4)
    start = int(incident_day * DAY / tick)
    stop = min(steps, start + incident_ticks)
    p[start:stop] = incident_ratio
    slow_p[start:stop] = incident_ratio
    errors = rng.binomial(n.astype(np.int64), p).astype(np.float64)
    slow = rng.binomial(n.astype(np.int64), slow_p).astype(np.float64)
    reset_at = int(2.3 * DAY / tick)
    stamps = t - 2.5
    ok_total = np.cumsum(n - errors)
    ok_total[reset_at:] -= ok_total[reset_at - 1]  # a restart: the counter begins again
    err_total = np.cumsum(errors)
    fast = np.cumsum(n - slow)
    very_fast = np.cumsum(np.floor((n - slow) * 0.7))
    inf = np.cumsum(n)
    replicas = np.full(steps, 3.0)
    streams = (
        backfill.Stream("http_requests", "counter", {"job": "shop", "code": "200"}, stamps,
                        ok_total),
        backfill.Stream("http_requests", "counter", {"job": "shop", "code": "500"}, stamps,
                        err_total),
        backfill.Stream("http_request_duration_seconds_bucket", "gauge",
                        {"job": "shop", "le": "0.1"}, stamps, very_fast),
        backfill.Stream("http_request_duration_seconds_bucket", "gauge",
                        {"job": "shop", "le": "0.3"}, stamps, fast),
        backfill.Stream("http_request_duration_seconds_bucket", "gauge",
                        {"job": "shop", "le": "+Inf"}, stamps, inf),
        backfill.Stream("shop_ready_replicas", "gauge", {"job": "shop"}, stamps, replicas),
    )
    truth = Truth(float(origin), tick, n, errors, slow, (start, stop),
                  tuple(int(s) for s in storms), reset_at)
    return Week(truth, streams)


EXPERIMENT = """\
version: 1
title: Shop survives a replayed week
target: {{platform: local}}
prometheus: {{url: {url}, tick: 15s}}
steady_state:
  alpha: 0.05
  baseline: {baseline}
  probes:
    - name: error ratio
      ratio: {{errors: 'http_requests_total{{job="shop",code="500"}}',
              total: 'http_requests_total{{job="shop"}}'}}
      max: 0.01
    - name: p99 latency
      latency: {{histogram: http_request_duration_seconds, match: '{{job="shop"}}'}}
      quantile: 0.99
      max: 300ms
    - name: replicas
      gauge: 'shop_ready_replicas{{job="shop"}}'
      min: 2
faults:
  - action: {{provider: {{type: python, module: os, func: getcwd}}}}
duration: {duration}
"""


def experiment(url: str, *, baseline: str = "1m", duration: str = "5m") -> str:
    return EXPERIMENT.format(url=url, baseline=baseline, duration=duration)
