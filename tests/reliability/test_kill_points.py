"""Signals at every phase of a real run, including between an intent and its act and in
the middle of a revert. After each: nothing live, the journal intact, the exit code true.

The kill-point × outcome table in the README is this file's parametrisation.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.e2e.conftest import Running, active_latency, gameday, wait_until
from tests.reliability.conftest import (
    LATENCY,
    experiment,
    intact,
    nothing_live,
    phase_is,
    shell_fault,
)

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase", ["baseline", "recovery"])
def test_a_signal_in_a_phase_without_live_faults_ends_the_run_and_leaves_nothing(
        phase: str, signum: int, sandbox: Path, tmp_path: Path,
        running: list[Running]) -> None:
    exp = experiment(tmp_path / "e.yaml", LATENCY, duration="3s", recovery="30s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, phase_is(phase))
    run.signal(signum)
    code, _out, err = run.wait()
    assert code == ExitCode.RUNNER_ERROR, err
    assert "Traceback" not in err
    journal = reader.read(path)
    assert journal.last("verdict")["verdict"] == "interrupted"
    if phase == "baseline":
        assert not journal.of_type("fault-intent"), "nothing may be injected after a signal"
    assert nothing_live(sandbox)
    assert intact(path)


def test_sigkill_between_an_intent_and_its_act_is_finished_by_gameday_revert(
        sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    undone = tmp_path / "undone"
    dies = shell_fault("die at act", "kill -9 $PPID; sleep 5", f"touch {undone}")
    exp = experiment(tmp_path / "e.yaml", LATENCY, dies)
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    code, _out, _err = run.wait()
    assert code == -signal.SIGKILL
    journal = reader.read(path)
    intents = [e["fault"] for e in journal.of_type("fault-intent")]
    results = [e["fault"] for e in journal.of_type("fault-result")]
    assert intents == [0, 1] and results == [0], "killed after the intent, before the result"
    assert len(active_latency(sandbox)) == 1
    done = gameday("revert", path)
    assert done.returncode == ExitCode.HELD, done.stdout + done.stderr
    assert undone.exists(), "the revert of the fault that never reported must still run"
    assert nothing_live(sandbox)
    assert recovery.pending_reverts(reader.read(path)) == []


def test_sigkill_inside_a_revert_is_finished_by_gameday_revert(
        sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    marker, undone = tmp_path / "first-try", tmp_path / "undone"
    # The revert kills the runner the first time it runs, then succeeds when run again.
    dies = shell_fault("dies in revert", "true",
                       f"if [ ! -e {marker} ]; then touch {marker}; kill -9 $PPID; sleep 5; "
                       f"fi; touch {undone}")
    exp = experiment(tmp_path / "e.yaml", LATENCY, dies, duration="4s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    code, _out, _err = run.wait(timeout=90)
    assert code == -signal.SIGKILL and marker.exists() and not undone.exists()
    assert len(active_latency(sandbox)) == 1, "killed before the latency's revert"
    done = gameday("revert", path)
    assert done.returncode == ExitCode.HELD, done.stdout + done.stderr
    assert undone.exists()
    assert nothing_live(sandbox)
    assert recovery.pending_reverts(reader.read(path)) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_a_revert_never_cuts_the_reverts_short(
        signum: int, sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    undone = tmp_path / "undone"
    name = signal.Signals(signum).name[3:]
    signals = shell_fault("signals in revert", "true",
                          f"kill -{name} $PPID; sleep 0.5; kill -{name} $PPID; touch {undone}")
    exp = experiment(tmp_path / "e.yaml", LATENCY, signals, duration="4s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    code, _out, err = run.wait(timeout=90)
    assert undone.exists()
    assert wait_until(lambda: nothing_live(sandbox))
    journal = reader.read(path)
    assert [e["ok"] for e in journal.of_type("revert-result")] == [True, True]
    assert "reverts are running and will finish first" in err
    assert code in (ExitCode.HELD, ExitCode.RUNNER_ERROR), err
    assert intact(path)
