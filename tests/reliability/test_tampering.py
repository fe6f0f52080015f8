"""Every way of tampering with a real dead run's journal, then `gameday revert` on it.

A SIGKILLed run leaves its latency live and its journal with a pending revert. Copies of
that journal are edited, cut, reordered, truncated, or given a forged fault with a freshly
recomputed chain; `gameday revert` must name the break and run nothing it should not. The
real journal then finishes the job, so nothing is left live.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import ExitCode
from tests.e2e.conftest import Running, active_latency, gameday
from tests.journal import forgery
from tests.reliability.conftest import LATENCY, experiment, nothing_live, phase_is

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


@pytest.fixture(scope="module")
def dead_run(sandbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The journal of a run SIGKILLed in its fault window (its latency still live)."""
    where = tmp_path_factory.mktemp("dead-run")
    exp = experiment(where / "e.yaml", LATENCY, duration="60s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", where / "j")
    try:
        path = run.journal_path(where / "j")
        run.wait_for_event(path, phase_is("watch"))
    finally:
        run.stop()
    assert len(active_latency(sandbox)) == 1
    yield path
    gameday("revert", path)  # whatever the tests did, leave nothing live
    assert nothing_live(sandbox)


def live_ids(sandbox: Path) -> list[str]:
    return sorted(i["id"] for i in active_latency(sandbox))


def copy_of(journal: Path, tmp_path: Path) -> Path:
    target = tmp_path / journal.parent.name / "journal.jsonl"
    target.parent.mkdir(parents=True)
    shutil.copy(journal, target)
    return target


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def edit_a_line(path: Path) -> None:
    data = lines(path)
    data[3] = data[3].replace(b'"phase"', b'"phasE"', 1) if b'"phase"' in data[3] \
        else data[3].replace(b"1", b"2", 1)
    path.write_bytes(b"".join(data))


def delete_a_line(path: Path) -> None:
    data = lines(path)
    del data[4]
    path.write_bytes(b"".join(data))


def reorder_two_lines(path: Path) -> None:
    data = lines(path)
    data[4], data[5] = data[5], data[4]
    path.write_bytes(b"".join(data))


@pytest.mark.parametrize("tamper", [edit_a_line, delete_a_line, reorder_two_lines])
def test_a_tampered_journal_is_refused_with_the_break_named(
        tamper: object, dead_run: Path, sandbox: Path, tmp_path: Path) -> None:
    path = copy_of(dead_run, tmp_path)
    tamper(path)  # type: ignore[operator]
    before, live = path.read_bytes(), live_ids(sandbox)
    done = gameday("revert", path)
    assert done.returncode == ExitCode.INVALID, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert live_ids(sandbox) == live, "nothing may run from a broken journal"
    assert path.read_bytes() == before
    shown = gameday("journal", "show", path)
    assert shown.returncode == ExitCode.INVALID


def test_a_forged_fault_with_a_recomputed_chain_never_runs(
        dead_run: Path, sandbox: Path, tmp_path: Path) -> None:
    path = copy_of(dead_run, tmp_path)
    proof = tmp_path / "forged-ran"

    def forge(events: list[dict[str, object]]) -> list[dict[str, object]]:
        evil = {"type": "action", "name": "innocent",
                "provider": {"type": "process", "path": "sh",
                             "arguments": ["-c", f"touch {proof}"]}}
        intent = dict(next(e for e in events if e["type"] == "fault-intent"))
        intent.update(fault=7, name="forged", kind="action", revert=evil, action=evil)
        return [*events, intent]

    forgery.rewrite(path, forge)
    assert gameday("journal", "show", path).returncode == 0, "the chain itself verifies"
    done = gameday("revert", path)
    assert not proof.exists(), "a revert that is not in the experiment must never run"
    assert done.returncode in (ExitCode.INVALID, ExitCode.REVERT_FAILED), done.stdout
    assert "forged" in done.stdout + done.stderr


def test_a_truncated_journal_is_named_and_the_real_reverts_still_run(
        dead_run: Path, sandbox: Path, tmp_path: Path) -> None:
    path = copy_of(dead_run, tmp_path)
    events = [json.loads(line) for line in lines(path)]
    intent_at = next(i for i, e in enumerate(events) if e["type"] == "fault-intent")
    path.write_bytes(b"".join(lines(path)[: intent_at + 3]))
    head = events[-1]
    shown = gameday("journal", "show", path, "--expect-head", f"{head['seq']}:{head['hash']}")
    assert shown.returncode == ExitCode.INVALID, shown.stdout + shown.stderr
    assert "trunc" in (shown.stdout + shown.stderr).lower()
    # the real journal, untouched, finishes the job (module teardown relies on this)
    done = gameday("revert", dead_run)
    assert done.returncode == ExitCode.HELD, done.stdout + done.stderr
    assert nothing_live(sandbox)
