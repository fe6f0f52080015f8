"""The local dead man's switch with real processes: a SIGKILLed `gameday run --guard` has
its faults reverted by its detached guard, which then exits; a killed guard changes
nothing for a run that ends by itself."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.guard import conftest as h

LEASE = 3.0


def faults(marker: Path) -> str:
    return f"""  - pod-kill: {{selector: app=demo, count: 1}}
  - action: {{name: mark, provider: {{type: process, path: touch, arguments: ["{marker}"]}}}}
    revert: {{name: unmark, provider: {{type: process, path: rm, arguments: ["-f", "{marker}"]}}}}
"""


def test_a_sigkilled_run_has_its_faults_reverted_by_its_guard_which_then_exits(
        slow_sandbox: Path, tmp_path: Path, runners: list[h.Runner],
        reap_guards: list[str]) -> None:
    marker = tmp_path / "fault-is-live"
    exp = h.experiment(tmp_path / "killed.yaml", faults(marker))
    run = h.Runner(exp, "--sandbox", slow_sandbox, "--journal-dir", tmp_path / "j", "--guard",
                   "--lease", f"{LEASE:g}s")
    runners.append(run)
    journal = run.journal(tmp_path / "j")
    run_id = journal.parent.name
    reap_guards.append(run_id)
    h.wait_until(lambda: sum(e.get("type") == "fault-result" for e in h.events(journal)) == 2,
                 60, "both faults acted")
    assert marker.exists() and h.running_replicas(slow_sandbox) == 2
    assert h.guard_pids(run_id), "the detached guard is running"
    run.kill()

    h.wait_until(lambda: not marker.exists() and h.running_replicas(slow_sandbox) == 3,
                 LEASE + 30, "the guard reverted both faults")
    h.wait_until(lambda: not h.guard_pids(run_id), 30, "the guard exited")

    read = reader.read(journal)
    assert reader.verify(read) == []
    assert recovery.pending_reverts(read) == []
    [takeover] = read.of_type("guard-takeover")
    assert takeover["note"].startswith("reverted by the guard after the lease expired at ")
    assert "gameday guard" in takeover["by"]
    reverted = read.of_type("revert-result")
    assert sorted(e["fault"] for e in reverted if e["ok"]) == [0, 1]
    assert all(e["seq"] > takeover["seq"] for e in reverted)
    assert all(e["by"].startswith("gameday guard (pid ") for e in reverted)
    rec = h.record(run_id)
    assert rec is not None and rec["state"] == "reverted"
    assert "reverted by the guard" in rec.get("note", "")
    log = (journal.parent / "guard.log").read_text()
    assert "reverted its pending faults" in log


def test_a_killed_guard_leaves_the_run_going_and_its_own_end_still_reverts(
        slow_sandbox: Path, tmp_path: Path, runners: list[h.Runner],
        reap_guards: list[str]) -> None:
    marker = tmp_path / "fault-is-live"
    exp = h.experiment(tmp_path / "guardless.yaml", faults(marker), duration="4s")
    run = h.Runner(exp, "--sandbox", slow_sandbox, "--journal-dir", tmp_path / "j", "--guard",
                   "--lease", f"{LEASE:g}s")
    runners.append(run)
    journal = run.journal(tmp_path / "j")
    run_id = journal.parent.name
    reap_guards.append(run_id)
    run.wait_for(journal, "lock")
    h.wait_until(lambda: bool(h.guard_pids(run_id)), 30, "the guard started")
    for pid in h.guard_pids(run_id):
        os.kill(pid, signal.SIGKILL)
    code = run.proc.wait(timeout=120)
    assert code == ExitCode.HELD, run.proc.communicate()
    read = reader.read(journal)
    assert reader.verify(read) == []
    assert [e["by"] for e in read.of_type("revert-result") if e["ok"]] == ["run", "run"]
    assert read.of_type("guard-takeover") == []
    assert not marker.exists() and h.running_replicas(slow_sandbox) == 3
    rec = h.record(run_id)
    assert rec is not None and rec["state"] == "finished"
