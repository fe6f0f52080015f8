"""`gameday demo`, the newcomer's first command, as a real process from start to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import gameday

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


def _processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line mentions ``text`` or whose working directory is under it."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = str((proc / "cwd").readlink())
            if text.encode() in (proc / "cmdline").read_bytes() or cwd.startswith(text):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_the_demo_runs_its_game_day_as_expected_and_leaves_no_process_behind(
        tmp_path: Path) -> None:
    done = gameday("demo", "--journal-dir", tmp_path, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "local-replica-kill.yaml: held, exit 0 (expected 0) - as expected" in out
    assert "local-latency-p99.yaml: broken, exit 1 (expected 1) - as expected" in out
    assert "sandbox down: every process stopped." in out
    state_dir = re.search(r"sandbox up in (\S+) ", out)
    assert state_dir is not None
    assert _processes_mentioning(state_dir.group(1)) == []
    assert "day-local.yaml: day exit 1 (expected 1) - as expected" in out
    journals = sorted(tmp_path.glob("*/*/journal.jsonl"))  # <day id>/<run id>/journal.jsonl
    assert len(journals) == 2
    assert all((j.parent / "report.md").exists() for j in journals)
    assert (journals[0].parent.parent / "day-report.md").exists()
