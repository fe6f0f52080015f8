"""Reuse the engine's fake-port harness to produce real journals for report tests."""

from tests.engine.conftest import harness  # noqa: F401 - a fixture, used by name
