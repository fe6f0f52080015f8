"""Fixtures for game-day tests: a private gameday home per test, `gameday` as a real
process, and the real local sandbox (one per package: torn down when tests/day is done).

Each test gets its own ``GAMEDAY_HOME`` (the stop file, locks, run records), also in the
subprocesses it starts, so an emergency stop engaged by one test never stops another.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.adapters import locks
from runner.sandbox import manager

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private GAMEDAY_HOME for this test (and the processes it starts)."""
    path = tmp_path / "gameday-home"
    monkeypatch.setenv(locks.ENV_HOME, str(path))
    monkeypatch.delenv(locks.ENV_LOCKS, raising=False)
    return path


def gameday(*args: str | Path, timeout: float = 240,
            cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`gameday ARGS` as a real process (environment inherited: the test's home)."""
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "runner.cli.main", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout,
                          check=False)


class Background:
    """`gameday ARGS` in the background; killed by PID at the end of the test."""

    def __init__(self, *args: str | Path) -> None:
        env = {**os.environ, "CI": "true"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runner.cli.main", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)

    def wait(self, timeout: float = 120) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


@pytest.fixture
def background() -> Iterator[list[Background]]:
    started: list[Background] = []
    try:
        yield started
    finally:
        for b in started:
            b.kill()


@pytest.fixture(scope="package")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state_dir = tmp_path_factory.mktemp("day-sandbox") / "sandbox"
    manager.up(state_dir)
    try:
        yield state_dir
    finally:
        manager.down(state_dir)


from tests.k8s.conftest import cluster, kubeconfig  # noqa: E402 - kmock fixtures, reused

__all__ = ["Background", "cluster", "gameday", "kubeconfig"]
from tests.fixtures.backfill import backfilled  # noqa: E402 - recorded history, reused

__all__ += ["backfilled"]
