"""Fixtures for the dead man's switch: a sandbox whose killed replicas stay down, runs
as real processes, and helpers to wait on journals and run records (all bounded)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.adapters import locks
from runner.sandbox import client, manager
from tests.k8s.conftest import cluster, kubeconfig, shop  # noqa: F401 - the kmock fixtures

ROOT = Path(__file__).resolve().parents[2]
SLOW_RESTART = 600.0  # the supervisor restarts nothing by itself during a test


def env() -> dict[str, str]:
    return {**os.environ, "CI": "true",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")])}


@pytest.fixture(scope="session")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A sandbox whose supervisor waits 10 minutes before restarting a killed replica."""
    state_dir = tmp_path_factory.mktemp("guard") / "sandbox"
    manager.up(state_dir, restart_delay=SLOW_RESTART)
    try:
        yield state_dir
    finally:
        manager.down(state_dir)


def running_replicas(sandbox: Path) -> int:
    return sum(1 for r in client.replicas(manager.load_state(sandbox)) if r["pid"] is not None)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``predicate`` every 50 ms; returns the seconds it took; fails after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


def events(journal: Path) -> list[dict[str, Any]]:
    found = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


class Runner:
    """``gameday run`` in the background; killed by PID at the end of the test."""

    def __init__(self, *args: str | Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runner.cli.main", "run", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env())

    def journal(self, journal_dir: Path, timeout: float = 60) -> Path:
        found: list[Path] = []

        def appeared() -> bool:
            found[:] = list(journal_dir.glob("*/journal.jsonl"))
            assert self.proc.poll() is None, self.proc.communicate()
            return bool(found)
        wait_until(appeared, timeout, "a journal")
        return found[0]

    def wait_for(self, journal: Path, type_: str, timeout: float = 90) -> dict[str, Any]:
        hit: list[dict[str, Any]] = []

        def seen() -> bool:
            assert self.proc.poll() is None, self.proc.communicate()
            hit[:] = [e for e in events(journal) if e.get("type") == type_]
            return bool(hit)
        wait_until(seen, timeout, f"a {type_} event")
        return hit[0]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture
def runners() -> Iterator[list[Runner]]:
    started: list[Runner] = []
    try:
        yield started
    finally:
        for r in started:
            r.stop()


def guard_pids(run_id: str) -> list[int]:
    """PIDs of live ``gameday guard --run RUN_ID`` processes (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"guard" in argv and run_id.encode() in argv:
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def reap_guards() -> Iterator[list[str]]:
    """Run ids whose guards the test started; any still alive at the end are killed."""
    run_ids: list[str] = []
    try:
        yield run_ids
    finally:
        for run_id in run_ids:
            for pid in guard_pids(run_id):
                os.kill(pid, signal.SIGKILL)


def record(run_id: str) -> locks.RunRecord | None:
    return locks.read_record(run_id)


def experiment(path: Path, fault: str, *, duration: str = "60s") -> Path:
    path.write_text(f"""
version: 1
title: guard {path.stem}
target: {{platform: local, selector: app=demo}}
prometheus: {{url: sandbox, tick: 1s, timeout: 1s}}
steady_state:
  alpha: 0.05
  baseline: 3s
  probes:
    - name: error ratio
      ratio:
        errors: 'gameday_proxy_requests_total{{code=~"5.."}}'
        total: 'gameday_proxy_requests_total'
      max: 60%
faults:
{fault}
duration: {duration}
abort: [steady-state, {{no-data: 5}}]
seed: 1
""")
    return path


@pytest.fixture
def kube_env(kubeconfig: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """chaosk8s reads its cluster from $KUBECONFIG (frozen by kubernetes at import)."""
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    monkeypatch.setattr("kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION",
                        kubeconfig)
    return kubeconfig
