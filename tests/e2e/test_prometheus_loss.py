"""Prometheus dies mid-run: gameday aborts on missing data and reverts (own sandbox)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import ExitCode
from runner.journal import reader, recovery
from runner.sandbox import manager
from tests.e2e.conftest import Running, active_latency, write_experiment

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


@pytest.fixture
def own_sandbox(tmp_path: Path) -> Iterator[Path]:
    state_dir = tmp_path / "sandbox"
    manager.up(state_dir)
    try:
        yield state_dir
    finally:
        manager.down(state_dir)


def test_losing_prometheus_in_the_fault_window_aborts_blind_and_reverts(
        own_sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    exp = write_experiment(tmp_path / "e.yaml", fault="latency: {selector: app=demo, delay: 20ms}")
    run = Running(exp, "--sandbox", own_sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, lambda e: e.get("type") == "tick" and e.get("phase") == "watch")
    prometheus_pid = manager.load_state(own_sandbox)["processes"]["prometheus"]["pid"]
    os.kill(prometheus_pid, signal.SIGKILL)
    code, _out, err = run.wait(timeout=90)
    assert code == ExitCode.RUNNER_ERROR, err
    journal = reader.read(path)
    abort = journal.last("abort")
    assert abort is not None and abort["kind"] == "no-data"
    verdict = journal.last("verdict")
    assert verdict is not None and verdict["verdict"] == "blind"
    assert recovery.pending_reverts(journal) == []
    assert active_latency(own_sandbox) == []
    blind_ticks = [t for t in journal.of_type("tick") if t.get("read_errors")]
    assert blind_ticks and "Prometheus" in " ".join(blind_ticks[-1]["read_errors"])
