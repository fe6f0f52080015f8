"""`gameday guard` as a real process on hand-made run records: it leaves live runs alone,
exits when its run finished, closes a dead run with nothing to revert, and stays bounded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.adapters import locks
from tests.guard import conftest as h


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def record(home: Path, run_id: str, *, pid: int, state: str = "live", expires_in: float = -1,
           journal: str = "/nowhere/journal.jsonl") -> None:
    now = time.time()
    saved = os.environ.get(locks.ENV_HOME)
    os.environ[locks.ENV_HOME] = str(home)
    try:
        locks.write_record(locks.RunRecord(
            run_id=run_id, pid=pid, host=socket.gethostname(), journal=journal,
            keys=["local:/sb/replica/demo-1"], phase="watch", state=state, head_seq=None,
            head_hash=None, renewed_at=now, lease_expires_at=now + expires_in))
    finally:
        if saved is None:
            os.environ.pop(locks.ENV_HOME, None)
        else:
            os.environ[locks.ENV_HOME] = saved


def guard(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner.cli.main", "guard", "--dir", str(home),
                           "--poll", "0.1", *args], capture_output=True, text=True, cwd=h.ROOT,
                          env=h.env(), timeout=60, check=False)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_guard_for_a_run_that_finished_exits_at_once(home: Path) -> None:
    record(home, "done-run", pid=os.getpid(), state="finished")
    done = guard(home, "--run", "done-run", "--for", "30")
    assert done.returncode == 0, done.stderr
    assert "stopping after" not in done.stderr


def test_a_live_run_is_left_alone_even_when_its_lease_is_late(home: Path) -> None:
    record(home, "slow-run", pid=os.getpid(), expires_in=-60)  # late, but its process lives
    done = guard(home, "--once")
    assert done.returncode == 0 and "slow-run" not in done.stderr
    os.environ[locks.ENV_HOME] = str(home)
    try:
        assert (locks.read_record("slow-run") or {}).get("state") == "live"
    finally:
        os.environ.pop(locks.ENV_HOME, None)


def test_a_dead_run_with_no_journal_is_closed_and_a_guard_is_bounded_in_time(
        home: Path) -> None:
    record(home, "gone-run", pid=dead_pid())
    record(home, "young-run", pid=dead_pid(), expires_in=600)  # its lease has not run out
    done = guard(home, "--for", "1")
    assert done.returncode == 0, done.stderr
    assert "stopping after 1 s" in done.stderr
    os.environ[locks.ENV_HOME] = str(home)
    try:
        assert (locks.read_record("gone-run") or {}).get("state") == "abandoned"
        assert (locks.read_record("young-run") or {}).get("state") == "live"
    finally:
        os.environ.pop(locks.ENV_HOME, None)


def test_a_dead_run_whose_journal_cannot_be_read_is_named_for_a_human(
        home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "journal.jsonl"
    broken.write_text("this is not a journal\n")
    record(home, "broken-run", pid=dead_pid(), journal=str(broken))
    done = guard(home, "--run", "broken-run", "--for", "20")
    assert done.returncode == 5, done.stdout + done.stderr
    assert "A human must act now" in done.stdout
    os.environ[locks.ENV_HOME] = str(home)
    try:
        closed = locks.read_record("broken-run") or {}
        assert closed.get("state") == "revert-failed"
        assert float(closed.get("lease_expires_at") or 0) > time.time() + 10  # no tight retry
    finally:
        os.environ.pop(locks.ENV_HOME, None)
