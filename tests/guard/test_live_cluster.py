"""The cluster dead man's switch against a live cluster, only when ``KUBECONFIG`` names one.

Writes Lease objects only (``gameday-run-*``, ``gameday-lock-*``, removed at the end)
unless ``GAMEDAY_LIVE_DESTRUCTIVE=1``, which also injects latency (Chaos Mesh needed) into
the pods of ``GAMEDAY_LIVE_SELECTOR``, lets its "runner" die and has the guard revert it::

    KUBECONFIG=~/.kube/config GAMEDAY_LIVE_NAMESPACE=default \\
    GAMEDAY_LIVE_SELECTOR=app=checkout python -m pytest tests/guard/test_live_cluster.py
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from runner import errors
from runner.adapters.k8s import lease as k8s_lease
from runner.adapters.k8s import leases as wire
from runner.adapters.k8s import platform, safety
from runner.cli import guard_k8s
from tests.guard import k8s_runs
from tests.k8s import builders

HOW = ("set KUBECONFIG to a test cluster to run the live guard tests (optionally "
       "GAMEDAY_LIVE_NAMESPACE, GAMEDAY_LIVE_SELECTOR, GAMEDAY_LIVE_CONTEXT, and "
       "GAMEDAY_LIVE_DESTRUCTIVE=1 to inject latency); see this file's docstring")
pytestmark = [pytest.mark.live, pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason=HOW)]

NAMESPACE = os.environ.get("GAMEDAY_LIVE_NAMESPACE", "default")
SELECTOR = os.environ.get("GAMEDAY_LIVE_SELECTOR", "app=checkout")
CONTEXT = os.environ.get("GAMEDAY_LIVE_CONTEXT") or None


def _may_write_leases() -> None:
    exp = builders.experiment(namespaces=(NAMESPACE,), namespace=NAMESPACE, selector=SELECTOR)
    cluster = platform.build_platform(exp, context=CONTEXT).cluster()
    for verb in ("create", "patch", "delete"):
        if not cluster.allowed(safety.Permission(verb, "coordination.k8s.io", "leases",
                                                 NAMESPACE)):
            pytest.skip(f"the live identity may not {verb} Leases in {NAMESPACE}")


def test_two_live_runners_cannot_lock_the_same_target() -> None:
    _may_write_leases()
    exp = builders.experiment(namespaces=(NAMESPACE,), namespace=NAMESPACE, selector=SELECTOR)
    key = f"k8s:live/ns/{NAMESPACE}/pod/gameday-live-{uuid.uuid4().hex[:8]}"
    first = k8s_lease.build(exp, kubeconfig=None, context=CONTEXT, lease_seconds=30)
    second = k8s_lease.build(exp, kubeconfig=None, context=CONTEXT, lease_seconds=30)
    first.acquire(f"live-a-{uuid.uuid4().hex[:6]}", [key], "/nowhere/a.jsonl")
    try:
        with pytest.raises(errors.PreflightRefused, match="holds what this run would touch"):
            second.acquire(f"live-b-{uuid.uuid4().hex[:6]}", [key], "/nowhere/b.jsonl")
        first.renew("watch", (3, "ab" * 32))
        run = first.api.read(NAMESPACE, first.name)
        assert run is not None and wire.notes_of(run)["head"] == f"3:{'ab' * 32}"
    finally:
        first.release(None)
        first.api.delete(NAMESPACE, first.name)


@pytest.mark.skipif(os.environ.get("GAMEDAY_LIVE_DESTRUCTIVE") != "1",
                    reason="set GAMEDAY_LIVE_DESTRUCTIVE=1 to inject latency on the live cluster")
def test_the_guard_reverts_a_dead_live_runners_network_chaos(tmp_path: Path) -> None:
    _may_write_leases()
    dead = k8s_runs.MiniRun("", tmp_path, f"live-dead-{uuid.uuid4().hex[:6]}",
                            (builders.latency(selector=SELECTOR, namespace=NAMESPACE,
                                              delay=0.01, jitter=0.0, correlation=0.0),),
                            lease_seconds=2, namespace=NAMESPACE, selector=SELECTOR,
                            context=CONTEXT)
    problems = dead.platform.preflight(dead.exp)
    if problems:
        pytest.skip("preflight refused the live cluster: " + " ".join(problems))
    dead.claim()
    dead.inject()
    time.sleep(2.5)
    takeover = guard_k8s.Takeover(guard_k8s.lease_api(None, CONTEXT), by="live test guard",
                                  journal_dir=tmp_path / "guard", kubeconfig=None,
                                  context=CONTEXT)
    seen = [w for w in guard_k8s.KubeStore(takeover.api, [NAMESPACE]).scan()
            if w.run_id == dead.run_id]
    assert len(seen) == 1
    done = takeover(seen[0])
    assert done is not None and done.code == 0, done
    [fault] = dead.planned
    assert dead.platform.verify_revert(fault, within=60).ok is True
