"""Fixtures for the Kubernetes tests: a real HTTP API emulator and a kubeconfig for it.

Each test gets its own emulator (it starts in a few milliseconds) and its own
kubeconfig file, so no state leaks between tests; API clients cached by
``gameday_k8s.client`` are closed after every test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday_k8s import client as kclient
from tests.k8s.emulator import EmulatedCluster


@pytest.fixture
def cluster() -> Iterator[EmulatedCluster]:
    emulated = EmulatedCluster(ready_after=0.2).start()
    try:
        yield emulated
    finally:
        emulated.stop()
        kclient.forget()


@pytest.fixture
def kubeconfig(cluster: EmulatedCluster, tmp_path: Path) -> str:
    """A kubeconfig whose current context (``kind-gameday-test``) is the emulator."""
    return str(cluster.kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def shop(cluster: EmulatedCluster) -> EmulatedCluster:
    """Namespace ``shop``: Deployments checkout (3 pods) and cart (2 pods)."""
    cluster.add_deployment("shop", "checkout", 3, {"app": "checkout"})
    cluster.add_deployment("shop", "cart", 2, {"app": "cart"})
    return cluster
