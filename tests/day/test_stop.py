"""The emergency stop: `gameday stop` reaches every live run within a tick, and nothing
new starts until `gameday stop --clear` (real processes, the real sandbox, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import errors, testing
from runner.adapters import stop
from runner.cli import compose, main, runs
from runner.errors import ExitCode
from runner.journal import reader, recovery
from runner.model import loader
from tests.day import support
from tests.day.conftest import Background, gameday
from tests.e2e.conftest import active_latency

LATENCY = "latency: {selector: app=demo, delay: 20ms}"


def test_a_stop_pressed_in_the_fault_window_aborts_at_the_next_checkpoint_and_exits_4(
        tmp_path: Path) -> None:
    switch = tmp_path / "stop"
    clock = testing.FakeClock()
    journal = tmp_path / "run" / "journal.jsonl"
    ticks_before: list[int] = []

    def press(_now: float) -> None:
        seen = [e for e in support.events(journal)
                if e["type"] == "tick" and e.get("phase") == "watch"]
        if len(seen) == 2 and not switch.exists():
            ticks_before.append(len(seen))
            stop.engage("drill", by="tester@box", path=switch, now=clock.time)

    clock.on_sleep.append(press)
    activities = testing.RecordingActivities()
    outcome = support.fake_run(support.experiment(), journal, clock=clock,
                               sentinels=[stop.StopSentinel(switch)], script=support.healthy,
                               activities=activities)
    assert outcome.exit_code == ExitCode.RUNNER_ERROR and outcome.verdict == "stopped"
    assert "stopped by the emergency stop by tester@box" in outcome.reason
    assert "drill" in outcome.reason and "reverted" in outcome.reason
    read = reader.read(journal)
    watch = [e for e in read.of_type("tick") if e.get("phase") == "watch"]
    assert len(watch) <= ticks_before[0] + 1  # reached within one tick
    abort = read.last("abort")
    assert abort is not None and abort["kind"] == "stop"
    assert abort["evidence"]["by"] == "tester@box"
    assert activities.ran[-1] == "revert-0" and recovery.pending_reverts(read) == []


def test_an_unreadable_stop_file_still_stops(tmp_path: Path) -> None:
    switch = tmp_path / "stop"
    switch.write_text("not json", encoding="utf-8")
    record = stop.read(switch)
    assert record is not None and "not gameday's JSON" in record["by"]
    with pytest.raises(Exception, match="gameday stop --clear") as caught:
        stop.refuse_if_stopped(path=switch)
    assert getattr(caught.value, "exit_code", None) == ExitCode.REFUSED


def test_while_stopped_gameday_run_refuses_with_exit_3_and_builds_nothing(
        home: Path, tmp_path: Path) -> None:
    engaged = CliRunner().invoke(main.cli, ["stop", "--reason", "incident 4711"])
    assert engaged.exit_code == 0, engaged.output
    assert "emergency stop engaged" in engaged.output and "incident 4711" in engaged.output
    exp = support.write_sandbox_experiment(tmp_path / "exp.yaml", fault=LATENCY)
    refused = gameday("run", exp, "--sandbox", tmp_path / "no-sandbox",
                      "--journal-dir", tmp_path / "j")  # a real process, as users run it
    assert refused.returncode == ExitCode.REFUSED, refused.stderr
    assert "emergency stop" in refused.stderr and "gameday stop --clear" in refused.stderr
    assert "incident 4711" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "j").exists()  # nothing started, not even a journal
    again = CliRunner().invoke(main.cli, ["stop"])
    assert again.exit_code == 0 and "already in force" in again.output
    lifted = CliRunner().invoke(main.cli, ["stop", "--clear"])
    assert lifted.exit_code == 0 and "lifted" in lifted.output
    assert stop.read() is None
    with pytest.raises(errors.PreflightRefused) as caught:  # now refused for another reason
        runs.execute(loader.load(exp), compose.Options(sandbox_dir=tmp_path / "no-sandbox"),
                     journal_dir=tmp_path / "j", sink=testing.MemorySink())
    assert "emergency stop" not in caught.value.message


@pytest.mark.slow
@pytest.mark.prometheus
def test_gameday_stop_reaches_a_live_run_within_one_tick_and_it_reverts(
        sandbox: Path, home: Path, tmp_path: Path, background: list[Background]) -> None:
    exp = support.write_sandbox_experiment(tmp_path / "long.yaml", fault=LATENCY,
                                           duration="120s")
    run = Background("run", exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    background.append(run)
    path = support.wait_for(lambda: support.first_journal(tmp_path / "j"), run.proc,
                            what="a journal")
    support.wait_for(lambda: [e for e in support.events(path)
                              if e["type"] == "tick" and e.get("phase") == "watch"],
                     run.proc, what="the first watch tick")
    assert len(active_latency(sandbox)) == 1
    pressed = gameday("stop", "--reason", "drill", "--wait", "60")
    assert pressed.returncode == 0, pressed.stdout + pressed.stderr
    assert "stopping run" in pressed.stdout and "every stopped run has finished" in pressed.stdout
    code, _out, err = run.wait()
    assert code == ExitCode.RUNNER_ERROR, err
    assert active_latency(sandbox) == []
    journal = reader.read(path)
    assert reader.verify(journal) == []
    record = stop.read()
    assert record is not None
    late = [e for e in journal.of_type("tick")
            if e.get("phase") == "watch" and float(e["ts"]) > record["at"]]
    assert len(late) <= 1  # the stop reached the run within one tick
    abort = journal.last("abort")
    assert abort is not None and abort["kind"] == "stop" and "drill" in abort["reason"]
    verdict = journal.last("verdict")
    assert verdict is not None and verdict["verdict"] == "stopped"
    assert "stopped by the emergency stop by" in verdict["reason"]
    assert recovery.pending_reverts(journal) == []
    refused = gameday("run", exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "k")
    assert refused.returncode == ExitCode.REFUSED and "emergency stop" in refused.stderr
    assert gameday("stop", "--clear").returncode == 0
