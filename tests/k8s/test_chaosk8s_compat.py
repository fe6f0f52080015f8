"""chaostoolkit-kubernetes works against the emulated API server through the harness.

Users write plain Chaos Toolkit actions as faults (``action: {provider: chaosk8s...}``).
These tests run chaosk8s's own functions through chaoslib over real HTTP, which also
proves the harness filters lists by label selector (kmock alone does not).
"""

from __future__ import annotations

import pytest
from chaoslib.activity import run_activity

from tests.k8s.emulator import DEPLOYMENTS, EmulatedCluster


@pytest.fixture
def kube_env(kubeconfig: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KUBECONFIG", kubeconfig)  # chaosk8s reads its cluster from the env
    # ... but the kubernetes package froze $KUBECONFIG into a constant at import time.
    monkeypatch.setattr("kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION",
                        kubeconfig)
    return kubeconfig


def test_chaosk8s_terminate_pods_only_touches_pods_matching_its_selector(
    shop: EmulatedCluster, kube_env: str
) -> None:
    before = {p["metadata"]["name"] for p in shop.pods("shop", "app=cart")}
    activity = {"type": "action", "name": "kill all checkout",
                "provider": {"type": "python", "module": "chaosk8s.pod.actions",
                             "func": "terminate_pods",
                             "arguments": {"label_selector": "app=checkout", "all": True,
                                           "ns": "shop", "grace_period": 0}}}
    killed = run_activity(activity, {}, {})
    assert len(killed) == 3
    assert all(name.startswith("checkout-") for name in killed)
    assert {p["metadata"]["name"] for p in shop.pods("shop", "app=cart")} == before


def test_chaosk8s_scale_deployment_patches_the_deployment(shop: EmulatedCluster,
                                                          kube_env: str) -> None:
    activity = {"type": "action", "name": "scale",
                "provider": {"type": "python", "module": "chaosk8s.deployment.actions",
                             "func": "scale_deployment",
                             "arguments": {"name": "checkout", "replicas": 5, "ns": "shop"}}}
    run_activity(activity, {}, {})
    [checkout] = [d for d in shop.objects(DEPLOYMENTS, "shop")
                  if d["metadata"]["name"] == "checkout"]
    assert checkout["spec"]["replicas"] == 5
    shop.wait_until(lambda: len(shop.pods("shop", "app=checkout")) == 5)
