"""Full and read-only disks under a real run: reverting never depends on the journal.

The full-disk test mounts a small tmpfs (as root) for the journal and fills it in the
middle of the fault window; without root or mount it skips, saying so.
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.adapters import runrecords
from runner.errors import ExitCode
from runner.journal import reader
from tests.e2e.conftest import Running, active_latency, gameday, wait_until
from tests.reliability.conftest import LATENCY, experiment, nothing_live, phase_is

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "small-disk"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the full-disk test needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for everyone, root included (a read-only bind mount)."""
    if os.geteuid() != 0:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield
        finally:
            folder.chmod(stat.S_IRWXU)
        return
    steps = [["mount", "--bind", str(folder), str(folder)],
             ["mount", "-o", "remount,ro,bind", str(folder)]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)
            pytest.skip(f"cannot make a read-only bind mount here ({done.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> None:
    """Write until the disk says ENOSPC."""
    with open(disk / "filler", "wb") as fh, contextlib.suppress(OSError):
        for _ in range(10_000):
            fh.write(b"\0" * 65536)
            fh.flush()
            os.fsync(fh.fileno())


def test_a_disk_that_fills_up_mid_window_still_ends_in_observed_reverts(
        sandbox: Path, small_disk: Path, tmp_path: Path, running: list[Running]) -> None:
    exp = experiment(tmp_path / "e.yaml", LATENCY, duration="60s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", small_disk)
    running.append(run)
    path = run.journal_path(small_disk)
    run.wait_for_event(path, phase_is("watch"))
    assert len(active_latency(sandbox)) == 1
    fill(small_disk)
    code, out, err = run.wait(timeout=90)
    assert code == ExitCode.RUNNER_ERROR, out + err
    assert "is full" in out + err
    assert wait_until(lambda: active_latency(sandbox) == [])
    journal = reader.read(path)
    assert [e["ok"] for e in journal.of_type("revert-result")] == [True]
    assert journal.last("verdict")["verdict"] == "stopped"
    assert nothing_live(sandbox)


def test_gameday_revert_reverts_even_when_the_journal_is_read_only(
        sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    exp = experiment(tmp_path / "e.yaml", LATENCY, duration="60s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, phase_is("watch"))
    run.stop()  # SIGKILL: the latency stays until someone reverts it
    assert len(active_latency(sandbox)) == 1
    before = path.read_bytes()
    with read_only(path.parent):
        done = gameday("revert", path)
    assert active_latency(sandbox) == [], done.stdout + done.stderr
    assert done.returncode == ExitCode.RUNNER_ERROR, done.stdout + done.stderr
    assert "could not" in (done.stdout + done.stderr).lower()
    assert path.read_bytes() == before, "nothing may change in a journal it could not write"
    # The run record, outside the journal, now says the faults are gone: the next run on
    # these targets is not refused over them (the journal alone still shows them pending).
    run_id = reader.read(path).events[0]["run_id"]
    record = runrecords.read_record(run_id)
    assert record is not None and record["state"] == runrecords.REVERTED, record
    assert "could not record" in record.get("note", "")

