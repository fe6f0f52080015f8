"""Fixtures for CLI tests: the engine's fake-port harness and the emulated cluster."""

from tests.engine.conftest import harness  # noqa: F401 - fixtures, used by name
from tests.k8s.conftest import cluster, kubeconfig, shop  # noqa: F401
