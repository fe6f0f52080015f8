"""Fixtures: one real sandbox per test session (Prometheus takes ~7 s to see its targets).

Tests that hurt the sandbox (kill replicas, add latency) put it back before they end, so
the session's sandbox is whole for every test; tests that must stop a sandbox start their
own. Without Debian's ``prometheus`` binary the sandbox tests skip with the install hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.sandbox import manager
from runner.sandbox import prometheus as launcher


def _need_prometheus() -> None:
    try:
        launcher.find_binary()
    except launcher.PrometheusMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def sandbox_dir(sandbox: Path) -> Path:
    """The state dir of the session's running sandbox (3 replicas, 40 req/s).

    The one sandbox of the whole session (tests/fixtures/sandbox.py), shared with the
    end-to-end, reliability and command-line suites: each sandbox costs a Prometheus, a
    traffic generator and three replicas for the rest of the session.
    """
    _need_prometheus()
    return sandbox


@pytest.fixture
def own_sandbox_dir(tmp_path: Path) -> Iterator[Path]:
    """A state dir for a test that starts (and may break) a sandbox of its own."""
    _need_prometheus()
    try:
        yield tmp_path / "sandbox"
    finally:
        manager.down(tmp_path / "sandbox")
