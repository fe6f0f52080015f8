"""Real signals sent to a real `gameday run` during the fault window."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.e2e.conftest import (
    Running,
    active_latency,
    gameday,
    ready,
    wait_until,
    write_experiment,
)

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]

LATENCY = "latency: {selector: app=demo, delay: 20ms}"


def _fault_live(event: dict[str, object]) -> bool:
    return event.get("type") == "phase" and event.get("phase") == "watch"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_fault_window_reverts_every_fault_and_exits_4(
        signum: int, sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    exp = write_experiment(tmp_path / "long.yaml", fault=LATENCY)
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, _fault_live)
    assert len(active_latency(sandbox)) == 1
    run.signal(signum)
    code, _out, err = run.wait()
    assert code == ExitCode.RUNNER_ERROR, err
    assert active_latency(sandbox) == []
    journal = reader.read(path)
    assert reader.verify(journal) == []
    verdict = journal.last("verdict")
    assert verdict is not None and verdict["verdict"] == "interrupted"
    assert signal.Signals(signum).name in str(journal.last("signal"))
    assert recovery.pending_reverts(journal) == []
    assert "Traceback" not in err


@pytest.mark.parametrize("fault,check", [
    (LATENCY, lambda sandbox: active_latency(sandbox) == []),
    ("pod-kill: {selector: app=demo, count: 1}", lambda sandbox: ready(sandbox) == 3),
])
def test_after_sigkill_gameday_revert_finishes_the_job_from_the_journal(
        fault: str, check: Callable[[Path], bool], sandbox: Path, tmp_path: Path,
        running: list[Running]) -> None:
    exp = write_experiment(tmp_path / "long.yaml", fault=fault)
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, _fault_live)
    run.signal(signal.SIGKILL)
    run.wait()
    journal = reader.read(path)
    assert reader.verify(journal) == []
    assert journal.last("verdict") is None
    assert [p["fault"] for p in recovery.pending_reverts(journal)] == [0]
    if "latency" in fault:
        assert len(active_latency(sandbox)) == 1  # left behind (until its TTL)
    done = gameday("revert", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert wait_until(lambda: check(sandbox))
    after = reader.read(path)
    assert reader.verify(after) == []
    assert recovery.pending_reverts(after) == []
    assert after.events[: len(journal.events)] == journal.events  # nothing lost
    again = gameday("revert", path)
    assert again.returncode == 0 and "nothing to revert" in again.stdout
