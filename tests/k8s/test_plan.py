"""Planning and running Kubernetes faults: seeded choice, real deletes, NetworkChaos.

The planned activities are run the way the engine runs them, through chaoslib's
``run_activity``, after a JSON round trip (what ``gameday revert`` reads back from a
journal), against the emulated API server over real HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chaoslib.activity import ensure_activity_is_valid, run_activity
from chaoslib.exceptions import ActivityFailed

from runner import errors, ports
from runner.adapters.k8s import platform
from runner.model import experiment as model
from tests.k8s import builders
from tests.k8s.emulator import NETWORKCHAOS, PODS, EmulatedCluster


def plan(experiment: model.Experiment, kubeconfig: str, seed: int = 1,
         run_id: str = "20240611T100000Z-ab12") -> list[ports.PlannedFault]:
    return platform.build_platform(experiment, kubeconfig=kubeconfig).plan(
        experiment, run_id, seed)


def run(activity: Any) -> Any:
    """Run an activity as read back from a journal (JSON), like the engine does."""
    body = json.loads(json.dumps(activity))
    ensure_activity_is_valid(body)
    return run_activity(body, {}, {})


def ready_names(cluster: EmulatedCluster, selector: str) -> set[str]:
    return {p["metadata"]["name"] for p in cluster.pods("shop", selector)
            if p["status"]["phase"] == "Running"}


def test_the_same_seed_chooses_the_same_pods(shop: EmulatedCluster, kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(count=2))
    first = plan(experiment, kubeconfig, seed=42)[0].targets
    again = plan(experiment, kubeconfig, seed=42)[0].targets
    assert first == again
    assert len(first) == 2
    assert set(first) <= ready_names(shop, "app=checkout")
    draws = {plan(experiment, kubeconfig, seed=seed)[0].targets for seed in range(12)}
    assert len(draws) > 1  # the seed matters: 3 possible pairs, 12 seeds


def test_a_fault_seed_overrides_the_run_seed(shop: EmulatedCluster, kubeconfig: str) -> None:
    pinned = builders.experiment(builders.kill(seed=5))
    assert {plan(pinned, kubeconfig, seed=s)[0].targets for s in range(6)} == {
        plan(pinned, kubeconfig, seed=0)[0].targets}


def test_only_running_and_ready_pods_are_chosen(cluster: EmulatedCluster,
                                                kubeconfig: str) -> None:
    cluster.add_statefulset("shop", "db", replicas=4, ready=2, labels={"app": "db"})
    experiment = builders.experiment(builders.kill(selector="app=db", count=1))
    chosen = {plan(experiment, kubeconfig, seed=seed)[0].targets for seed in range(10)}
    assert chosen == {("db-0",), ("db-1",)}


def test_a_fraction_is_taken_of_the_matching_pods_rounded_down(shop: EmulatedCluster,
                                                                kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(count=None, fraction=0.5))
    assert len(plan(experiment, kubeconfig)[0].targets) == 1  # floor(0.5 * 3)


def test_plan_refuses_what_preflight_refuses(shop: EmulatedCluster, kubeconfig: str) -> None:
    with pytest.raises(errors.PreflightRefused) as refused:
        plan(builders.experiment(builders.kill(count=3), max_pods=2), kubeconfig)
    assert "more than `blast_radius.max_pods` (2)" in refused.value.message
    assert refused.value.exit_code == errors.ExitCode.REFUSED


def test_a_pod_kill_deletes_the_planned_pods_and_its_revert_waits_for_new_ones(
    shop: EmulatedCluster, kubeconfig: str
) -> None:
    [fault] = plan(builders.experiment(builders.kill(count=2, grace_period=0.0)), kubeconfig)
    assert fault.kind == "pod-kill"
    provider = fault.action["provider"]
    assert (provider["module"], provider["func"]) == ("gameday_k8s.actions", "delete_pods")
    assert provider["arguments"]["names"] == list(fault.targets)
    assert provider["arguments"]["context"] == "kind-gameday-test"
    assert provider["arguments"]["kubeconfig"] == kubeconfig
    assert fault.revert is not None
    assert fault.revert["provider"]["arguments"]["workloads"] == [
        {"kind": "Deployment", "name": "checkout", "namespace": "shop", "ready": 3}]

    result = run(fault.action)
    assert result == {"deleted": list(fault.targets), "already_gone": []}
    deletes = shop.requests("DELETE", PODS)
    assert [r.data["gracePeriodSeconds"] for r in deletes] == [0, 0]
    assert [r.data["preconditions"]["uid"] for r in deletes] == \
        fault.action["provider"]["arguments"]["uids"]
    assert not set(fault.targets) & {p["metadata"]["name"] for p in shop.pods("shop")}

    assert run(fault.revert) == {"ready": ["checkout"]}
    ready = [p for p in shop.pods("shop", "app=checkout")
             if p["status"]["conditions"][0]["status"] == "True"]
    assert len(ready) == 3
    assert run(fault.action) == {"deleted": [], "already_gone": list(fault.targets)}


def test_a_pod_kill_revert_that_times_out_names_the_missing_pods(
    tmp_path: Any,
) -> None:
    frozen = EmulatedCluster(controller=False).start()  # nothing recreates pods
    try:
        frozen.add_deployment("shop", "checkout", 3, {"app": "checkout"})
        config = str(frozen.kubeconfig(tmp_path / "kc"))
        [fault] = plan(builders.experiment(builders.kill()), config)
        run(fault.action)
        assert fault.revert is not None
        revert = json.loads(json.dumps(fault.revert))
        revert["provider"]["arguments"].update(timeout=0.3, interval=0.1)
        with pytest.raises(ActivityFailed) as failed:
            run(revert)
        assert "Deployment shop/checkout has 2 of 3 ready pods" in str(failed.value)
    finally:
        frozen.stop()


def test_a_latency_fault_creates_a_network_chaos_that_expires_and_its_revert_deletes_it(
    shop: EmulatedCluster, kubeconfig: str
) -> None:
    run_id = "20240611T100000Z-ab12"
    experiment = builders.experiment(builders.latency(selector="app=cart", direction="both"),
                                     duration=300.0, max_pods=2)
    [fault] = plan(experiment, kubeconfig, run_id=run_id)
    assert fault.kind == "latency"
    assert set(fault.targets) == ready_names(shop, "app=cart")
    run(fault.action)
    [chaos] = shop.objects(NETWORKCHAOS, "shop")
    assert chaos["metadata"]["namespace"] == "shop"
    assert "ns" not in chaos["metadata"]
    assert chaos["metadata"]["name"] == f"gameday-{run_id.lower()}-0-latency"
    assert chaos["metadata"]["labels"]["gameday.io/run-id"] == run_id
    assert chaos["metadata"]["annotations"]["gameday.io/run-id"] == run_id
    assert chaos["spec"] == {
        "action": "delay", "mode": "all",
        "selector": {"namespaces": ["shop"], "labelSelectors": {"app": "cart"}},
        "delay": {"latency": "200ms", "jitter": "20ms", "correlation": "25"},
        "direction": "both",
        "duration": f"{int(platform.latency_lifetime(300.0))}s",
    }
    assert platform.latency_lifetime(300.0) == 330.0
    run(fault.action)  # a retry of the same run is success, not a conflict
    assert fault.revert is not None
    assert run(fault.revert) == "deleted"
    assert shop.objects(NETWORKCHAOS, "shop") == []
    assert run(fault.revert) == "already gone"


def test_a_network_chaos_of_another_run_is_never_taken_over(shop: EmulatedCluster,
                                                            kubeconfig: str) -> None:
    experiment = builders.experiment(builders.latency(selector="app=cart"), max_pods=2)
    [first] = plan(experiment, kubeconfig, run_id="run-a")
    run(first.action)
    clash = json.loads(json.dumps(first.action))
    clash["provider"]["arguments"]["run_id"] = "run-b"
    with pytest.raises(ActivityFailed, match="belongs to run 'run-a', not 'run-b'"):
        run(clash)


def test_chaos_toolkit_actions_pass_through_unchanged(shop: EmulatedCluster,
                                                      kubeconfig: str) -> None:
    action = {"type": "action", "name": "scale",
              "provider": {"type": "python", "module": "chaosk8s.deployment.actions",
                           "func": "scale_deployment",
                           "arguments": {"name": "checkout", "replicas": 1, "ns": "shop"}}}
    fault = model.ActionFault(action=action, revert=None, name="scale")
    [planned] = plan(builders.experiment(fault), kubeconfig)
    assert (planned.kind, planned.action, planned.revert, planned.targets) == (
        "action", action, None, ())


def test_ready_replicas_are_read_from_deployments_and_statefulsets(
    shop: EmulatedCluster, kubeconfig: str
) -> None:
    shop.add_statefulset("shop", "db", replicas=3, ready=2, labels={"app": "db"})
    built = platform.build_platform(builders.experiment(), kubeconfig=kubeconfig)
    deployment = model.ReadyReplicasProbe(name="r", workload="checkout")
    statefulset = model.ReadyReplicasProbe(name="r", workload="db", kind="StatefulSet",
                                           namespace="shop")
    missing = model.ReadyReplicasProbe(name="r", workload="nope")
    assert built.ready_replicas(deployment) == 3.0
    assert built.ready_replicas(statefulset) == 2.0
    assert built.ready_replicas(missing) is None


def test_a_forbidden_call_becomes_one_platform_error_paragraph(shop: EmulatedCluster,
                                                              kubeconfig: str) -> None:
    shop.denied = {("list", "", "pods"), ("get", "apps", "deployments")}
    experiment = builders.experiment(builders.kill())
    built = platform.build_platform(experiment, kubeconfig=kubeconfig)
    with pytest.raises(errors.PlatformError) as failed:
        built.plan(experiment, "run", 1)
    assert failed.value.message.startswith(
        "Kubernetes, kube context 'kind-gameday-test' (http://127.0.0.1:")
    assert "listing pods in shop failed: HTTP 403 Forbidden: pods is forbidden" \
        in failed.value.message
    assert "\n" not in failed.value.message
    assert built.ready_replicas(model.ReadyReplicasProbe(name="r", workload="checkout")) is None
