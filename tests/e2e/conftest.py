"""End-to-end helpers: `gameday` as a real process (the sandbox is tests/fixtures/sandbox.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.sandbox import client, manager
from tests.fixtures.experiments import sandbox_experiment

ROOT = Path(__file__).resolve().parents[2]


def gameday(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "runner.cli.main", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout,
                          check=False)


class Running:
    """A `gameday run` in the background, stopped by PID at the end of the test."""

    def __init__(self, *args: str | Path) -> None:
        env = {**os.environ, "CI": "true"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runner.cli.main", "run", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)

    def journal_path(self, journal_dir: Path, timeout: float = 60) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = list(journal_dir.glob("*/journal.jsonl"))
            if found:
                return found[0]
            if self.proc.poll() is not None:
                raise AssertionError(f"gameday exited early: {self.proc.communicate()}")
            time.sleep(0.1)
        raise AssertionError("no journal appeared")

    def wait_for_event(self, journal: Path, predicate: Any, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in journal.read_text().splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if predicate(event):
                    return event  # type: ignore[no-any-return]
            if self.proc.poll() is not None:
                raise AssertionError(f"gameday exited early: {self.proc.communicate()}")
            time.sleep(0.1)
        raise AssertionError("the awaited journal event never came")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.communicate(timeout=10)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    try:
        yield started
    finally:
        for r in started:
            r.stop()


def active_latency(sandbox_dir: Path) -> list[Any]:
    return list(client.active_latency(manager.load_state(sandbox_dir)))


def ready(sandbox_dir: Path) -> int:
    return sum(1 for r in client.replicas(manager.load_state(sandbox_dir)) if r["ready"])


def wait_until(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


def write_experiment(path: Path, *, fault: str, duration: str = "120s",
                     prometheus_url: str = "sandbox", selector: str = "app=demo",
                     extra_probes: str = "") -> Path:
    return sandbox_experiment(path, fault, title=f"e2e {path.stem}", duration=duration,
                              prometheus_url=prometheus_url, selector=selector,
                              extra_probes=extra_probes)


@pytest.fixture(scope="module", autouse=True)
def left_no_dead_run(no_dead_run_left: None) -> None:
    """Fail the module that leaves a dead run with reverts pending on the shared sandbox."""
