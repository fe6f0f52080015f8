"""Starting and stopping the sandbox: everything runs, is scraped, and is gone after down."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from runner import errors
from runner.sandbox import manager, procs, state
from tests.sandbox.support import pid_alive, query, scrape, wait_until


def _wait_gone(pid: int) -> None:
    wait_until(lambda: not pid_alive(pid), timeout=5, what=f"pid {pid} is gone")


def test_a_running_sandbox_is_scraped_by_prometheus_for_every_job(sandbox_dir: Path) -> None:
    st = manager.load_state(sandbox_dir)
    prometheus_url = state.url_of(st, state.PROMETHEUS)

    def up() -> dict[tuple[str, str], float]:
        return {(labels["job"], labels["instance"]): value
                for labels, value in query(prometheus_url, "up")}

    replica_targets = {f"127.0.0.1:{r['port']}" for r in st["replicas"]}
    assert {inst for job, inst in up() if job == "demo"} == replica_targets
    assert {job for job, _ in up()} == {"supervisor", "proxy", "demo"}
    # The sandbox is shared: a replica an earlier test killed may be between its restart
    # and its next scrape, so every target must be up within a few scrapes, not at once.
    wait_until(lambda: all(value == 1.0 for value in up().values()), timeout=30,
               what="every target up")


def test_traffic_flows_through_the_proxy_to_the_replicas(sandbox_dir: Path) -> None:
    st = manager.load_state(sandbox_dir)
    proxy_metrics = f"{state.url_of(st, state.PROXY)}/metrics"
    before = scrape(proxy_metrics)['gameday_proxy_requests_total{code="200"}']
    wait_until(lambda: scrape(proxy_metrics)['gameday_proxy_requests_total{code="200"}']
               >= before + 20, timeout=10, what="the proxy answers 20 more requests")
    prometheus_url = state.url_of(st, state.PROMETHEUS)
    served = wait_until(
        lambda: query(prometheus_url,
                      'sum by (instance) (demo_http_requests_total{code="200"}) > 0'),
        timeout=10, what="every replica has served requests")
    assert len(served) == 3


def test_status_reports_every_process_alive_and_all_replicas_ready(sandbox_dir: Path) -> None:
    status = manager.status(sandbox_dir)
    assert status.processes == {"supervisor": True, "proxy": True, "traffic": True,
                                "prometheus": True}
    assert status.ready_replicas == 3
    assert status.healthy


def test_a_second_sandbox_in_the_same_dir_is_refused_and_the_first_keeps_running(
        sandbox_dir: Path) -> None:
    with pytest.raises(errors.PlatformError, match="already runs"):
        manager.up(sandbox_dir)
    assert manager.status(sandbox_dir).healthy


def test_without_a_sandbox_the_state_error_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(errors.PlatformError, match="gameday sandbox up"):
        manager.load_state(tmp_path)
    with pytest.raises(errors.PlatformError, match="gameday sandbox up"):
        manager.status(tmp_path)


def test_down_stops_every_process_even_replicas_of_a_sigkilled_supervisor(
        own_sandbox_dir: Path) -> None:
    st = manager.up(own_sandbox_dir, replicas=2, rps=10.0)
    pids = [record["pid"] for record in st["processes"].values()]
    supervisor_pid = st["processes"][state.SUPERVISOR]["pid"]
    replica_pids = procs.group_members(supervisor_pid, "runner.sandbox.service")
    assert len(replica_pids) == 2
    os.kill(supervisor_pid, signal.SIGKILL)

    stopped = manager.down(own_sandbox_dir)

    assert set(stopped) >= {"traffic", "proxy", "prometheus"}
    for pid in [*pids, *replica_pids]:
        _wait_gone(pid)
    assert not state.state_path(own_sandbox_dir).exists()
    assert manager.down(own_sandbox_dir) == []  # idempotent


def test_a_failed_start_stops_what_it_had_started(
        own_sandbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    spawn = procs.spawn_module

    def recording_spawn(*args: object, **kwargs: object) -> int:
        pid = spawn(*args, **kwargs)  # type: ignore[arg-type]
        started.append(pid)
        return pid

    monkeypatch.setattr(procs, "spawn_module", recording_spawn)
    monkeypatch.setenv("PATH", str(own_sandbox_dir / "no-binaries-here"))  # no prometheus

    with pytest.raises(errors.PlatformError, match=r"did not start.*prometheus"):
        manager.up(own_sandbox_dir, replicas=2, rps=10.0)

    assert len(started) == 3  # supervisor, proxy, traffic; then Prometheus was missing
    for pid in started:
        _wait_gone(pid)
        assert procs.group_members(pid, "runner.sandbox.") == []
    assert not state.state_path(own_sandbox_dir).exists()
