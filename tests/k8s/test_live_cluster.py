"""Against a live cluster, only when ``KUBECONFIG`` names one (skipped otherwise).

Run them with, for example, a kind cluster::

    kind create cluster --name gameday
    kubectl create deployment checkout --image=nginx --replicas=3 -n default
    KUBECONFIG=~/.kube/config GAMEDAY_LIVE_NAMESPACE=default \\
    GAMEDAY_LIVE_SELECTOR=app=checkout python -m pytest tests/k8s/test_live_cluster.py

Read-only by default (preflight and plan). ``GAMEDAY_LIVE_DESTRUCTIVE=1`` also kills
one pod matching the selector and waits for its Deployment to heal.
"""

from __future__ import annotations

import os

import pytest
from chaoslib.activity import run_activity

from runner.adapters.k8s import platform
from tests.k8s import builders

HOW = ("set KUBECONFIG to a test cluster to run the live-cluster tests (optionally "
       "GAMEDAY_LIVE_NAMESPACE, GAMEDAY_LIVE_SELECTOR, GAMEDAY_LIVE_CONTEXT, and "
       "GAMEDAY_LIVE_DESTRUCTIVE=1 to kill one pod); see this file's docstring")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason=HOW),
]

NAMESPACE = os.environ.get("GAMEDAY_LIVE_NAMESPACE", "default")
SELECTOR = os.environ.get("GAMEDAY_LIVE_SELECTOR", "app=checkout")
CONTEXT = os.environ.get("GAMEDAY_LIVE_CONTEXT") or None


def _experiment() -> object:
    return builders.experiment(
        builders.kill(selector=SELECTOR, namespace=NAMESPACE),
        namespaces=(NAMESPACE,), namespace=NAMESPACE, selector=SELECTOR, recovery=180.0)


def test_preflight_answers_with_sentences_not_exceptions() -> None:
    experiment = _experiment()
    built = platform.build_platform(experiment, context=CONTEXT)  # type: ignore[arg-type]
    problems = built.preflight(experiment)  # type: ignore[arg-type]
    assert all(isinstance(p, str) and p for p in problems)
    assert built.cluster().version()


@pytest.mark.skipif(os.environ.get("GAMEDAY_LIVE_DESTRUCTIVE") != "1",
                    reason="set GAMEDAY_LIVE_DESTRUCTIVE=1 to kill one pod on the live cluster")
def test_a_live_pod_kill_heals() -> None:
    experiment = _experiment()
    built = platform.build_platform(experiment, context=CONTEXT)  # type: ignore[arg-type]
    problems = built.preflight(experiment)  # type: ignore[arg-type]
    if problems:
        pytest.skip("preflight refused the live cluster: " + " ".join(problems))
    [fault] = built.plan(experiment, "live-test", seed=1)  # type: ignore[arg-type]
    result = run_activity(dict(fault.action), {}, {})
    assert result["deleted"] == list(fault.targets)
    assert fault.revert is not None
    assert run_activity(dict(fault.revert), {}, {})["ready"]
