"""Fixtures for CLI tests: the engine's fake-port harness, the emulated cluster, and one
real local sandbox for the tests that run ``gameday run`` as a real process."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.sandbox import prometheus as launcher
from tests.engine.conftest import harness  # noqa: F401 - fixtures, used by name
from tests.k8s.conftest import cluster, kubeconfig, shop  # noqa: F401


@pytest.fixture(scope="session")
def cli_sandbox(sandbox: Path) -> Path:
    """A real sandbox (3 replicas, 40 req/s, its own Prometheus) for real runs: the
    session's shared one (tests/fixtures/sandbox.py)."""
    try:
        launcher.find_binary()
    except launcher.PrometheusMissing as exc:
        pytest.skip(str(exc))
    return sandbox


def latency_experiment(path: Path, *, duration: str = "20s") -> Path:
    """400 ms of latency against a 300 ms median SLO: aborts in a few ticks, then recovers.

    A median, not a p99: on a loaded 2-core machine a few slow requests in a short
    baseline must not refuse the run."""
    path.write_text(f"""
version: 1
title: cli latency {path.stem}
target: {{platform: local, selector: app=demo}}
prometheus: {{url: sandbox, tick: 2s, timeout: 2s}}
steady_state:
  alpha: 0.05
  baseline: 10s
  probes:
    - name: error ratio
      ratio:
        errors: 'gameday_proxy_requests_total{{code=~"5.."}}'
        total: 'gameday_proxy_requests_total'
      max: 20%
    - name: median latency
      latency: {{histogram: gameday_proxy_request_duration_seconds}}
      quantile: 0.5
      max: 300ms
    - name: ready replicas
      gauge: 'sum(gameday_sandbox_ready_replicas{{service="demo"}})'
      min: 1
faults:
  - latency: {{selector: app=demo, delay: 400ms, jitter: 20ms}}
duration: {duration}
abort: [steady-state, guardrail, {{no-data: 3}}]
recovery: {{within: 20s}}
seed: 1
""")
    return path
