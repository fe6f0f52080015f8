"""Whole Kubernetes game days: `gameday run` as a real process against the emulated API.

The parts are real: the runner subprocess talks HTTP to the emulated API server (a
kubeconfig points at it), reads its steady state from a real Prometheus, and the
Prometheus scrapes a loopback exporter whose numbers come from a small "service" thread
that reacts to the cluster: while a NetworkChaos exists, every request takes its delay
longer (so the p99 follows ``spec.delay.latency``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.adapters.k8s import leases as wire
from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.fixtures.exporter import Exporter
from tests.fixtures.prometheus import PrometheusHandle
from tests.k8s.emulator import LEASES, NETWORKCHAOS, EmulatedCluster

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = "k8s_e2e_requests_total"
LATENCY = "k8s_e2e_request_duration_seconds"
BASE_LATENCY = 0.02


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s)", text)
    assert match, text
    return float(match[1]) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[match[2]]


class Service(threading.Thread):
    """200 requests/s of a checkout service; slower by any NetworkChaos's delay."""

    def __init__(self, cluster: EmulatedCluster, exporter: Exporter, series: str) -> None:
        super().__init__(name="k8s-e2e-service", daemon=True)
        self.cluster, self.exporter = cluster, exporter
        self.labels = {"test": series}
        self.halt = threading.Event()
        exporter.inc_counter(REQUESTS, {**self.labels, "code": "500"}, 0.0)

    def run(self) -> None:
        while not self.halt.wait(0.1):
            delay = sum(_seconds(c["spec"]["delay"]["latency"])
                        for c in self.cluster.objects(NETWORKCHAOS, "shop"))
            self.exporter.inc_counter(REQUESTS, {**self.labels, "code": "200"}, 20)
            self.exporter.observe(LATENCY, self.labels, BASE_LATENCY + delay, times=20)

    def stop(self) -> None:
        self.halt.set()
        self.join(5.0)


@pytest.fixture
def service(shop: EmulatedCluster, prometheus: PrometheusHandle,
            series_id: str) -> Iterator[str]:
    running = Service(shop, prometheus.exporter, series_id)
    running.start()
    try:
        prometheus.wait_for_value(f'count({REQUESTS}{{test="{series_id}"}})', 2.0, timeout=20)
        yield series_id
    finally:
        running.stop()


def experiment(path: Path, prometheus: PrometheusHandle, series: str, fault: str, *,
               duration: str, max_pods: int) -> Path:
    path.write_text(f"""
version: 1
title: k8s e2e {path.stem}
target: {{platform: kubernetes, namespace: shop, selector: app=checkout}}
blast_radius: {{max_pods: {max_pods}, namespaces: [shop]}}
prometheus: {{url: "{prometheus.url}", tick: 2s, timeout: 2s}}
steady_state:
  alpha: 0.05
  baseline: 6s
  probes:
    - name: error ratio
      ratio:
        errors: '{REQUESTS}{{test="{series}",code="500"}}'
        total: '{REQUESTS}{{test="{series}"}}'
      max: 5%
    - name: p99 latency
      latency: {{histogram: {LATENCY}, match: '{{test="{series}"}}'}}
      quantile: 0.99
      max: 300ms
    - name: checkout ready
      ready_replicas: {{workload: checkout}}
      min: 2
faults:
  - {fault}
duration: {duration}
abort: [steady-state, guardrail, {{no-data: 3}}]
recovery: {{within: 20s}}
seed: 3
""")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "CI": "true",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")])}


def gameday(*args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner.cli.main", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=_env(),
                          timeout=timeout, check=False)


def _journal(journal_dir: Path) -> reader.Journal:
    (path,) = list(journal_dir.glob("*/journal.jsonl"))
    return reader.read(path)


def test_a_pod_kill_the_deployment_heals_from_holds(
    shop: EmulatedCluster, kubeconfig: str, prometheus: PrometheusHandle, service: str,
    tmp_path: Path,
) -> None:
    before = {p["metadata"]["name"] for p in shop.pods("shop", "app=checkout")}
    exp = experiment(tmp_path / "kill.yaml", prometheus, service,
                     "pod-kill: {selector: app=checkout, count: 1, grace_period: 0s}",
                     duration="6s", max_pods=1)
    done = gameday("run", exp, "--journal-dir", tmp_path / "j", "--kubeconfig", kubeconfig)
    assert done.returncode == ExitCode.HELD, done.stdout + done.stderr
    journal = _journal(tmp_path / "j")
    assert reader.verify(journal) == []
    assert recovery.pending_reverts(journal) == []
    intent = journal.first("fault-intent")
    assert intent is not None
    [victim] = intent["targets"]
    assert victim in before
    after = {p["metadata"]["name"] for p in shop.pods("shop", "app=checkout")}
    assert victim not in after
    assert len(after) == 3


def test_latency_that_breaks_the_p99_aborts_and_the_network_chaos_is_deleted(
    shop: EmulatedCluster, kubeconfig: str, prometheus: PrometheusHandle, service: str,
    tmp_path: Path,
) -> None:
    exp = experiment(tmp_path / "slow.yaml", prometheus, service,
                     "latency: {selector: app=checkout, delay: 500ms}",
                     duration="60s", max_pods=3)
    done = gameday("run", exp, "--journal-dir", tmp_path / "j", "--kubeconfig", kubeconfig)
    assert done.returncode == ExitCode.BROKEN, done.stdout + done.stderr
    journal = _journal(tmp_path / "j")
    abort = journal.last("abort")
    assert abort is not None and abort["kind"] == "steady-state"
    assert "p99 latency" in abort["reason"]
    assert shop.objects(NETWORKCHAOS, "shop") == []
    assert len(shop.requests("DELETE", NETWORKCHAOS)) == 1
    assert [e["ok"] for e in journal.of_type("revert-result")] == [True]


def test_after_sigkill_the_network_chaos_expires_by_itself_and_revert_deletes_it(
    shop: EmulatedCluster, kubeconfig: str, prometheus: PrometheusHandle, service: str,
    tmp_path: Path,
) -> None:
    exp = experiment(tmp_path / "mild.yaml", prometheus, service,
                     "latency: {selector: app=checkout, delay: 10ms}",
                     duration="120s", max_pods=3)
    journal_dir = tmp_path / "j"
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner.cli.main", "run", str(exp), "--journal-dir",
         str(journal_dir), "--kubeconfig", kubeconfig],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env())
    try:
        shop.wait_until(lambda: bool(shop.objects(NETWORKCHAOS, "shop"))
                        or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    [chaos] = shop.objects(NETWORKCHAOS, "shop")
    assert chaos["spec"]["duration"] == "150s"  # 120 s window + 30 s margin, then gone
    journal = _journal(journal_dir)
    assert [p["fault"] for p in recovery.pending_reverts(journal)] == [0]
    done = gameday("revert", journal.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert shop.objects(NETWORKCHAOS, "shop") == []
    assert recovery.pending_reverts(reader.read(journal.path)) == []
    # The run Lease (what the next run and the guard decide from) says so too: before,
    # it kept the revert "pending" and the next run on these pods was refused.
    [run_lease] = [lease for lease in shop.objects(LEASES, "shop")
                   if lease["metadata"]["labels"][wire.KIND_LABEL] == "run"]
    notes = wire.notes_of(run_lease)
    assert notes["state"] == "reverted", notes
    assert wire.json_note(run_lease, "pending", None) == []
    assert "gameday revert" in notes["note"] and str(journal.path) in notes["note"]
    assert "closed as reverted" in done.stdout
