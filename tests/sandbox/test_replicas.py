"""Killing replicas: the supervisor brings them back, and clients barely notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

import gameday_local.actions as actions
import gameday_local.probes as probes
from runner.sandbox import manager, selection, state
from tests.sandbox.support import query, scrape, wait_until


def test_a_killed_replica_is_restarted_with_a_new_pid_and_ready_replicas_dip_and_return(
        sandbox_dir: Path) -> None:
    before = {r["name"]: r for r in probes.list_replicas(str(sandbox_dir))}
    assert all(r["ready"] for r in before.values())
    proxy_metrics = f"{state.url_of(manager.load_state(sandbox_dir), state.PROXY)}/metrics"
    bad_before = scrape(proxy_metrics)['gameday_proxy_requests_total{code="502"}']

    killed = actions.kill_replicas(str(sandbox_dir), replicas=["demo-1"])

    assert killed == ["demo-1"]
    assert probes.ready_replicas(str(sandbox_dir)) < 3
    assert actions.restore_replicas(str(sandbox_dir), timeout=10.0, wait_ready=True) == 3
    after = {r["name"]: r for r in probes.list_replicas(str(sandbox_dir))}
    assert after["demo-1"]["pid"] not in (None, before["demo-1"]["pid"])
    assert after["demo-1"]["restarts"] == before["demo-1"]["restarts"] + 1
    assert after["demo-0"]["pid"] == before["demo-0"]["pid"]
    # The proxy skipped the dead replica: no client saw a 502.
    assert scrape(proxy_metrics)['gameday_proxy_requests_total{code="502"}'] == bad_before


def test_prometheus_sees_the_dip_in_ready_replicas_and_the_restart(sandbox_dir: Path) -> None:
    prometheus_url = state.url_of(manager.load_state(sandbox_dir), state.PROMETHEUS)
    restarts = query(prometheus_url, "gameday_sandbox_restarts_total")[0][1]

    actions.kill_replicas(str(sandbox_dir), count=1, seed=3)
    # no restore here: the supervisor's own restart delay makes a dip a scrape can see

    wait_until(lambda: query(prometheus_url, "gameday_sandbox_restarts_total")[0][1] > restarts,
               timeout=10, what="Prometheus sees the restart")
    dip = query(prometheus_url,
                'min_over_time(gameday_sandbox_ready_replicas{service="demo"}[20s])')
    assert dip[0][1] < 3
    wait_until(lambda: query(prometheus_url, "gameday_sandbox_ready_replicas")[0][1] == 3,
               timeout=10, what="Prometheus sees all replicas ready again")


def test_restoring_starts_a_killed_replica_at_once_and_is_idempotent(sandbox_dir: Path) -> None:
    actions.kill_replicas(str(sandbox_dir), replicas=["demo-2"])
    assert actions.restore_replicas(str(sandbox_dir)) == 3  # running again, no delay
    assert actions.restore_replicas(str(sandbox_dir)) == 3  # already running: nothing to do
    wait_until(lambda: probes.ready_replicas(str(sandbox_dir)) == 3, timeout=10,
               what="all replicas ready")


def test_kill_replicas_without_names_kills_a_seeded_choice(sandbox_dir: Path) -> None:
    expected = selection.choose(["demo-0", "demo-1", "demo-2"], 2, 11)
    try:
        assert actions.kill_replicas(str(sandbox_dir), fraction=0.7, seed=11) == expected
    finally:
        actions.restore_replicas(str(sandbox_dir), timeout=10.0, wait_ready=True)


def test_killing_an_unknown_replica_fails_and_names_the_real_ones(sandbox_dir: Path) -> None:
    with pytest.raises(ActivityFailed, match="demo-0, demo-1, demo-2"):
        actions.kill_replicas(str(sandbox_dir), replicas=["checkout-0"])
    assert probes.ready_replicas(str(sandbox_dir)) == 3


def test_the_same_seed_chooses_the_same_victims_and_seeds_differ() -> None:
    names = ["demo-2", "demo-0", "demo-1", "demo-3"]
    assert selection.choose(names, 2, 5) == selection.choose(list(reversed(names)), 2, 5)
    assert len({tuple(selection.choose(names, 2, seed)) for seed in range(20)}) > 1


def test_a_fraction_rounds_down_but_kills_at_least_one() -> None:
    assert selection.resolve_count(3, fraction=0.5) == 1
    assert selection.resolve_count(3, fraction=0.1) == 1
    assert selection.resolve_count(4, fraction=0.5) == 2
    assert selection.resolve_count(3) == 1
