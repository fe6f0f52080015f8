"""Target locks on resolved targets and run records, with real flocks and processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner import errors
from runner.adapters import locks

ROOT = Path(__file__).resolve().parents[2]
A = "local:/sb/replica/demo-1"
B = "local:/sb/replica/demo-2"


@pytest.fixture(autouse=True)
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(locks.ENV_LOCKS, raising=False)
    monkeypatch.setenv(locks.ENV_HOME, str(tmp_path / "home"))
    return tmp_path / "home"


def test_an_overlapping_target_is_refused_naming_the_holder() -> None:
    first = locks.LocalLease()
    first.acquire("run-1", [A, B], "/j/run-1/journal.jsonl")
    second = locks.LocalLease()
    with pytest.raises(errors.PreflightRefused) as caught:
        second.acquire("run-2", [B], "/j/run-2/journal.jsonl")
    assert "run run-1" in caught.value.message and "/j/run-1/journal.jsonl" in caught.value.message
    assert caught.value.exit_code == 3
    first.release(None)
    second.acquire("run-2", [B], "/j/run-2/journal.jsonl")  # free once released
    second.release(None)


def test_disjoint_targets_at_one_endpoint_run_side_by_side() -> None:
    first, second = locks.LocalLease(), locks.LocalLease()
    first.acquire("run-1", [A], "j1")
    second.acquire("run-2", [B], "j2")
    first.release(None)
    second.release(None)


def test_a_fault_that_names_nothing_claims_the_whole_endpoint() -> None:
    first = locks.LocalLease()
    first.acquire("run-1", ["local:/sb/*"], "j1")
    with pytest.raises(errors.PreflightRefused):
        locks.LocalLease().acquire("run-2", [A], "j2")
    locks.LocalLease().acquire("run-3", ["local:/other/replica/demo-1"], "j3")
    first.release(None)


def test_a_specific_target_blocks_a_whole_endpoint_claim() -> None:
    first = locks.LocalLease()
    first.acquire("run-1", [A], "j1")
    with pytest.raises(errors.PreflightRefused):
        locks.LocalLease().acquire("run-2", ["local:/sb/*"], "j2")
    first.release(None)


def test_the_run_record_keeps_the_head_and_a_renewed_lease(registry: Path) -> None:
    clock = [1000.0]
    lease = locks.LocalLease(lease_seconds=30, now=lambda: clock[0])
    lease.acquire("run-1", [A], "j1")
    clock[0] = 1010.0
    lease.renew("watch", (7, "ab" * 32))
    record = json.loads((registry / "locks" / "runs" / "run-1.json").read_text())
    assert record["phase"] == "watch" and record["head_seq"] == 7
    assert record["lease_expires_at"] == 1040.0 and record["state"] == "live"
    lease.release((9, "cd" * 32))
    record = json.loads((registry / "locks" / "runs" / "run-1.json").read_text())
    assert record["state"] == "finished" and record["head_hash"] == "cd" * 32


def test_a_sigkilled_holder_frees_its_locks_but_leaves_its_record(registry: Path) -> None:
    code = ("import sys, time; from runner.adapters import locks; "
            f"l = locks.LocalLease(); l.acquire('dead-run', [{A!r}], 'jd'); "
            "print('held', flush=True); time.sleep(60)")
    env = {**os.environ, locks.ENV_HOME: str(registry)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(errors.PreflightRefused, match="dead-run"):
            locks.LocalLease().acquire("run-2", [A], "j2")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        lease = locks.LocalLease()
        while True:
            try:
                lease.acquire("run-2", [A], "j2")
                break
            except errors.PreflightRefused:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        lease.release(None)
        dead = next(r for r in locks.read_records() if r["run_id"] == "dead-run")
        assert not locks.pid_alive(dead["pid"])
        # its journal does not exist, so nothing can be pending: the next run closed it
        assert dead["state"] == "abandoned" and "run-2" in dead.get("note", "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_an_unwritable_lock_directory_refuses_before_any_fault(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    monkeypatch.setenv(locks.ENV_LOCKS, str(blocked / "locks"))
    with pytest.raises(errors.PreflightRefused, match="nothing was injected"):
        locks.LocalLease().acquire("run-1", [A], "j1")
