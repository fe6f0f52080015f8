"""Kubernetes fault effects and revert verification, observed on the emulated API with the
harness's controllers: the killed UIDs gone, the workloads back to their ready count,
the NetworkChaos there (injected, where a Chaos Mesh controller reports it) and gone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday_k8s import client as kclient
from runner.adapters import chaos
from runner.adapters.k8s import effects
from runner.adapters.k8s import platform as k8s_platform
from runner.testing import FakeClock
from tests.k8s import builders
from tests.k8s.emulator import DEPLOYMENTS, EmulatedCluster


def _platform(kubeconfig: str, *faults: object) -> k8s_platform.KubernetesPlatform:
    exp = builders.experiment(*faults, max_pods=3)  # type: ignore[arg-type]
    platform = k8s_platform.build_platform(exp, kubeconfig=kubeconfig)
    clock = FakeClock()  # waits cost no time: the look-ups after each sleep are real
    platform.effects = effects.Effects(platform.cluster, clock=clock.monotonic,
                                       sleep=clock.sleep)
    return platform


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[tuple[EmulatedCluster, str]]:
    emulated = EmulatedCluster(ready_after=0.2, chaos_mesh=True).start()
    emulated.add_deployment("shop", "checkout", 3, {"app": "checkout"})
    try:
        yield emulated, str(emulated.kubeconfig(tmp_path / "kubeconfig"))
    finally:
        emulated.stop()
        kclient.forget()


def test_a_pod_kill_is_seen_to_take_effect_and_its_revert_to_heal(
        shop: EmulatedCluster, kubeconfig: str) -> None:
    platform = _platform(kubeconfig, builders.kill(count=2))
    [fault] = platform.plan(platform._experiment, "run-e", seed=1)
    before = platform.check_effect(fault, None)
    assert before.ok is False and "still running" in before.detail
    result = chaos.ChaosToolkitActivities().run(fault.action)
    seen = platform.check_effect(fault, result)
    assert seen.ok is True, seen.detail
    assert sorted(seen.measured["gone"]) == sorted(fault.targets)
    shop.wait_until(lambda: sum(1 for p in shop.pods("shop", "app=checkout")
                                if p["status"]["phase"] == "Running") == 3)
    healed = platform.verify_revert(fault, within=10)
    assert healed.ok is True and "3/3 ready" in healed.detail


def test_a_pod_kill_whose_workload_does_not_heal_fails_its_verification(
        tmp_path: Path) -> None:
    stuck = EmulatedCluster(controller=False).start()
    try:
        stuck.add_deployment("shop", "checkout", 3, {"app": "checkout"})
        kubeconfig = str(stuck.kubeconfig(tmp_path / "kubeconfig"))
        platform = _platform(kubeconfig, builders.kill())
        [fault] = platform.plan(platform._experiment, "run-s", seed=1)
        chaos.ChaosToolkitActivities().run(fault.action)
        assert platform.check_effect(fault, None).ok is True
        stuck.put(DEPLOYMENTS, "shop", _checkout(stuck, ready=2))  # one pod never came back
        verdict = platform.verify_revert(fault, within=1.0)
        assert verdict.ok is False and "2/3 ready" in verdict.detail
    finally:
        stuck.stop()
        kclient.forget()


def _checkout(cluster: EmulatedCluster, *, ready: int) -> dict[str, object]:
    [body] = [d for d in cluster.objects(DEPLOYMENTS, "shop")
              if d["metadata"]["name"] == "checkout"]
    return {**body, "status": {**body["status"], "readyReplicas": ready}}


def test_network_chaos_is_confirmed_injected_where_chaos_mesh_reports_it_and_gone_after(
        mesh: tuple[EmulatedCluster, str]) -> None:
    cluster, kubeconfig = mesh
    platform = _platform(kubeconfig, builders.latency())
    [fault] = platform.plan(platform._experiment, "run-l", seed=1)
    missing = platform.check_effect(fault, None)
    assert missing.ok is False and "does not exist" in missing.detail
    activities = chaos.ChaosToolkitActivities()
    activities.run(fault.action)
    cluster.wait_until(lambda: platform.check_effect(fault, None).ok is True)
    seen = platform.check_effect(fault, None)
    assert "reports it injected (3 record(s))" in seen.detail
    still = platform.verify_revert(fault, within=1.0)
    assert still.ok is False and "still exists" in still.detail
    activities.run(fault.revert or {})
    gone = platform.verify_revert(fault, within=5.0)
    assert gone.ok is True and "is gone" in gone.detail


def test_network_chaos_without_a_chaos_mesh_controller_is_not_claimed_injected(
        shop: EmulatedCluster, kubeconfig: str) -> None:
    platform = _platform(kubeconfig, builders.latency())
    [fault] = platform.plan(platform._experiment, "run-n", seed=1)
    chaos.ChaosToolkitActivities().run(fault.action)
    seen = platform.check_effect(fault, None)
    assert seen.ok is None and "reported no injection" in seen.detail
    assert seen.measured["exists"] is True
