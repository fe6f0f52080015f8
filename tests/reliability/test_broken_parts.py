"""Parts of the platform die mid-run: the runner says exactly what it observed.

Each test breaks a sandbox of its own (the shared one stays whole). When the part a
revert needs is gone, the revert's success cannot be observed: exit 5, the fault stays
pending in the journal, and no message says "reverted".
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import ExitCode
from runner.journal import reader, recovery
from runner.sandbox import manager
from tests.e2e.conftest import Running
from tests.reliability.conftest import KILL_ONE, LATENCY, experiment, phase_is

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


@pytest.fixture
def own_sandbox(tmp_path: Path) -> Iterator[Path]:
    state_dir = tmp_path / "own-sandbox"
    manager.up(state_dir)
    try:
        yield state_dir
    finally:
        manager.down(state_dir)


def kill_role(sandbox: Path, role: str) -> None:
    pid = manager.load_state(sandbox)["processes"][role]["pid"]
    os.killpg(pid, signal.SIGKILL)


@pytest.mark.parametrize("fault,role", [(LATENCY, "proxy"), (KILL_ONE, "supervisor")])
def test_a_part_the_revert_needs_dies_mid_window_and_the_run_exits_5(
        fault: str, role: str, own_sandbox: Path, tmp_path: Path,
        running: list[Running]) -> None:
    exp = experiment(tmp_path / "e.yaml", fault, duration="60s")
    run = Running(exp, "--sandbox", own_sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, phase_is("watch"))
    kill_role(own_sandbox, role)
    code, out, err = run.wait(timeout=120)
    assert code == ExitCode.REVERT_FAILED, out + err
    assert "a human must act now" in out + err
    assert "all faults reverted" not in (out + err).lower()
    journal = reader.read(path)
    assert [e["ok"] for e in journal.of_type("revert-result")] == [False]
    assert [e["fault"] for e in recovery.pending_reverts(journal)] == [0]
    assert journal.last("verdict")["verdict"] == "revert-failed"
