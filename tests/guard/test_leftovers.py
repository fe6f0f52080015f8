"""Resume on the next start: a run on targets a dead run left faults on refuses (exit 3),
naming the journal and the command; with --sweep-leftovers it finishes them first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.guard import conftest as h


def test_a_dead_runs_leftovers_refuse_the_next_run_until_swept(
        slow_sandbox: Path, tmp_path: Path, runners: list[h.Runner]) -> None:
    marker = tmp_path / "left-behind"
    kill = "  - pod-kill: {selector: app=demo, count: 1}\n"
    mark = (f'  - action: {{name: mark, provider: {{type: process, path: touch, arguments: '
            f'["{marker}"]}}}}\n    revert: {{name: unmark, provider: {{type: process, '
            f'path: rm, arguments: ["-f", "{marker}"]}}}}\n')
    first = h.Runner(h.experiment(tmp_path / "dies.yaml", kill + mark), "--sandbox",
                     slow_sandbox, "--journal-dir", tmp_path / "j1")
    runners.append(first)
    journal = first.journal(tmp_path / "j1")
    first.wait_for(journal, "phase")
    h.wait_until(lambda: sum(e.get("type") == "fault-result" for e in h.events(journal)) == 2,
                 60, "both faults acted")
    first.kill()
    assert marker.exists() and h.running_replicas(slow_sandbox) == 2

    again = h.experiment(tmp_path / "next.yaml", mark.replace("mark", "mark2"), duration="2s")
    refused = subprocess.run(
        [sys.executable, "-m", "runner.cli.main", "run", str(again), "--sandbox",
         str(slow_sandbox), "--journal-dir", str(tmp_path / "j2")],
        capture_output=True, text=True, cwd=h.ROOT, env=h.env(), timeout=120, check=False)
    assert refused.returncode == ExitCode.REFUSED, refused.stdout + refused.stderr
    assert str(journal) in refused.stderr and f"gameday revert {journal}" in refused.stderr
    assert "--sweep-leftovers" in refused.stderr
    assert marker.exists(), "a refused run touches nothing"

    swept = subprocess.run(
        [sys.executable, "-m", "runner.cli.main", "run", str(again), "--sandbox",
         str(slow_sandbox), "--journal-dir", str(tmp_path / "j3"), "--sweep-leftovers"],
        capture_output=True, text=True, cwd=h.ROOT, env=h.env(), timeout=120, check=False)
    assert swept.returncode == ExitCode.HELD, swept.stdout + swept.stderr
    assert not marker.exists() and h.running_replicas(slow_sandbox) == 3
    read = reader.read(journal)
    assert reader.verify(read) == [] and recovery.pending_reverts(read) == []
    [takeover] = read.of_type("guard-takeover")
    assert "--sweep-leftovers" in takeover["by"]
    rec = h.record(journal.parent.name)
    assert rec is not None and rec["state"] == "reverted"
