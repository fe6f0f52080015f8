"""Reuse the engine's fake-port harness for CLI rendering tests."""

from tests.engine.conftest import harness  # noqa: F401 - a fixture, used by name
