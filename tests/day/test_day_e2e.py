"""Whole game days through `gameday day ...` on the real local sandbox: a broken first
experiment skips the one that needs it; `gameday stop` reaches the live run within a tick
and the rest is skipped; after a SIGKILL, `gameday day resume` reverts first and goes on."""

from __future__ import annotations

import signal
from pathlib import Path

import junitparser
import pytest

from runner.day import records
from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.day import support
from tests.day.conftest import Background, gameday
from tests.e2e.conftest import active_latency, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]

BREAKER = """
version: 1
title: p90 breaks under 400 ms
target: {platform: local, selector: app=demo}
prometheus: {url: sandbox, tick: 1s, timeout: 1s}
steady_state:
  baseline: 4s
  probes:
    - name: p90 latency
      latency: {histogram: gameday_proxy_request_duration_seconds}
      quantile: 0.9
      max: 300ms
faults:
  - latency: {selector: app=demo, delay: 400ms}
duration: 20s
seed: 1
"""


def day_file(tmp_path: Path, entries: str) -> Path:
    path = tmp_path / "day.yaml"
    path.write_text(f"kind: gameday\ntitle: e2e day\nexperiments:\n{entries}")
    return path


def long_and_short(tmp_path: Path) -> Path:
    support.write_sandbox_experiment(tmp_path / "long.yaml", title="long latency",
                                     fault="latency: {selector: app=demo, delay: 20ms}",
                                     duration="90s")
    short = support.write_sandbox_experiment(
        tmp_path / "short.yaml", title="short latency", duration="3s", tick="1s",
        fault="latency: {selector: app=demo, delay: 10ms}")
    short.write_text(short.read_text().replace("baseline: 6s", "baseline: 3s"))
    return day_file(tmp_path, "  - {id: long, file: long.yaml}\n"
                              "  - {id: short, file: short.yaml}\n")


def in_the_first_window(sandbox: Path, tmp_path: Path, background: list[Background]
                        ) -> tuple[Background, Path, Path]:
    """`gameday day run` of ``long_and_short`` in the background, once its first run is
    in the fault window: (the day, the day journal, the run's journal)."""
    day = Background("day", "run", long_and_short(tmp_path), "--sandbox", sandbox,
                     "--journal-dir", tmp_path / "j")
    background.append(day)
    journal_path = support.wait_for(lambda: day_journal(tmp_path / "j"), day.proc,
                                    what="the day journal")
    run = support.wait_for(lambda: running_journal(journal_path), day.proc, what="a run")
    support.wait_for(lambda: in_watch(run), day.proc, what="the fault window")
    return day, journal_path, run


def day_journal(folder: Path) -> Path | None:
    return support.first_journal(folder, f"*/{records.JOURNAL_NAME}")


def running_journal(day: Path) -> Path | None:
    for event in support.events(day):
        if event.get("type") == records.EXPERIMENT and event.get("state") == "running":
            return Path(event["journal"])
    return None


def in_watch(run_journal: Path) -> bool:
    return any(e["type"] == "tick" and e.get("phase") == "watch"
               for e in support.events(run_journal))


def states(journal: reader.Journal) -> dict[str, str]:
    return {e["id"]: e["state"] for e in journal.of_type(records.EXPERIMENT)}


def test_a_first_experiment_that_breaks_skips_the_one_that_needs_it(
        sandbox: Path, home: Path, tmp_path: Path) -> None:
    (tmp_path / "breaker.yaml").write_text(BREAKER)
    support.write_sandbox_experiment(tmp_path / "after.yaml",
                                     fault="latency: {selector: app=demo, delay: 10ms}")
    path = day_file(tmp_path, "  - {id: breaker, file: breaker.yaml, on_broken: continue}\n"
                              "  - {id: after, file: after.yaml, needs: [breaker]}\n")
    done = gameday("day", "run", path, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    assert done.returncode == ExitCode.BROKEN, done.stdout + done.stderr
    assert "day verdict: exit 1 - exit 1, set by 'breaker'" in done.stdout
    journal_path = day_journal(tmp_path / "j")
    assert journal_path is not None
    journal = reader.read(journal_path)
    assert reader.verify(journal) == []
    assert states(journal) == {"breaker": "broken", "after": "skipped"}
    skipped = [e for e in journal.of_type(records.EXPERIMENT) if e["id"] == "after"][-1]
    assert "needs 'breaker' to hold" in skipped["reason"]
    assert len(list(journal_path.parent.glob("*/journal.jsonl"))) == 1  # only the breaker ran
    assert active_latency(sandbox) == []
    suites = junitparser.JUnitXml.fromfile(str(journal_path.parent / "day-junit.xml"))
    by_name = {s.name: s for s in suites}
    assert set(by_name) == {"e2e day / breaker", "e2e day / after"}
    assert by_name["e2e day / breaker"].failures >= 1
    assert by_name["e2e day / after"].skipped == 1
    report = (journal_path.parent / "day-report.md").read_text()
    assert "| 1 | breaker | **broken** | 1 |" in report and "report.html" in report
    html = (journal_path.parent / "day-report.html").read_text()
    assert "<td>breaker</td>" in html and 'href="' in html and "report.html" in html
    regenerated = gameday("day", "report", journal_path, "--out", tmp_path / "again")
    assert regenerated.returncode == 0, regenerated.stderr
    assert (tmp_path / "again" / "day-report.md").read_text().count("| breaker |") == 1


def test_gameday_stop_during_a_day_reverts_the_live_run_within_a_tick_and_skips_the_rest(
        sandbox: Path, home: Path, tmp_path: Path, background: list[Background]) -> None:
    day, journal_path, run = in_the_first_window(sandbox, tmp_path, background)
    assert len(active_latency(sandbox)) == 1
    pressed = gameday("stop", "--reason", "day drill")
    assert pressed.returncode == 0, pressed.stderr
    code, out, _err = day.wait()
    assert code == ExitCode.RUNNER_ERROR, out
    assert active_latency(sandbox) == []
    journal = reader.read(journal_path)
    assert reader.verify(journal) == []
    assert states(journal) == {"long": "error", "short": "skipped"}
    skipped = [e for e in journal.of_type(records.EXPERIMENT) if e["id"] == "short"][-1]
    assert "'long' ended with exit 4 (stopped: stopped by the emergency stop by" \
        in skipped["reason"]
    assert skipped["exit_code"] == ExitCode.REFUSED  # refused its chance by the stop
    verdict = journal.last(records.DAY_VERDICT)
    assert verdict is not None and verdict["exit_code"] == 4 and verdict["worst"] == "long"
    run_journal = reader.read(run)
    abort = run_journal.last("abort")
    assert abort is not None and abort["kind"] == "stop" and "day drill" in abort["reason"]
    from runner.adapters import stop

    record = stop.read()
    assert record is not None
    late = [e for e in run_journal.of_type("tick")
            if e.get("phase") == "watch" and float(e["ts"]) > record["at"]]
    assert len(late) <= 1
    again = gameday("day", "run", long_and_short(tmp_path), "--sandbox", sandbox,
                    "--journal-dir", tmp_path / "k")
    assert again.returncode == ExitCode.REFUSED and "emergency stop" in again.stderr
    assert not (tmp_path / "k").exists()
    assert gameday("stop", "--clear").returncode == 0


def test_after_sigkill_day_resume_reverts_first_then_goes_on_and_the_journal_verifies(
        sandbox: Path, home: Path, tmp_path: Path, background: list[Background]) -> None:
    day, journal_path, run = in_the_first_window(sandbox, tmp_path, background)
    day.proc.send_signal(signal.SIGKILL)
    day.wait()
    assert len(active_latency(sandbox)) == 1  # left behind by the dead day (until its TTL)
    before = reader.read(journal_path)
    assert reader.verify(before) == [] and before.last(records.DAY_VERDICT) is None
    resumed = gameday("day", "resume", journal_path, "--sandbox", sandbox)
    assert resumed.returncode == ExitCode.RUNNER_ERROR, resumed.stdout + resumed.stderr
    assert wait_until(lambda: active_latency(sandbox) == [])
    after = reader.read(journal_path)
    assert reader.verify(after) == []
    assert after.events[: len(before.events)] == before.events  # nothing lost
    assert states(after) == {"long": "error", "short": "held"}
    (session,) = after.of_type(records.DAY_RESUMED)
    assert session["reverted"][0]["id"] == "long" and session["remaining"] == ["short"]
    run_journal = reader.read(run)
    assert recovery.pending_reverts(run_journal) == []
    assert any(e.get("by") == "gameday revert" for e in run_journal.of_type("revert-result"))
    verdict = after.last(records.DAY_VERDICT)
    assert verdict is not None and verdict["worst"] == "long"
    again = gameday("day", "resume", journal_path, "--sandbox", sandbox)
    assert again.returncode == ExitCode.RUNNER_ERROR and "nothing to resume" in again.stdout


def test_sigterm_during_a_days_run_reverts_it_and_ends_the_day(
        sandbox: Path, home: Path, tmp_path: Path, background: list[Background]) -> None:
    day, journal_path, run = in_the_first_window(sandbox, tmp_path, background)
    assert len(active_latency(sandbox)) == 1
    day.proc.send_signal(signal.SIGTERM)
    code, out, err = day.wait()
    assert active_latency(sandbox) == [], out + err
    journal = reader.read(journal_path)
    assert reader.verify(journal) == []
    # The run ended interrupted with its revert observed; the day did not go on.
    run_journal = reader.read(run)
    assert [e["ok"] for e in run_journal.of_type("revert-result")] == [True]
    assert run_journal.last("verdict")["verdict"] == "interrupted"
    assert states(journal) == {"long": "error", "short": "skipped"}, out + err
    skipped = [e for e in journal.of_type(records.EXPERIMENT) if e["id"] == "short"][-1]
    assert "interrupted by SIGTERM" in skipped["reason"], skipped
    assert code == ExitCode.RUNNER_ERROR, out + err
