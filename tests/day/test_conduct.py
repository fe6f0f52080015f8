"""Conducting a day over our own fakes (a launcher, a gate assessor, a fake clock): the
queue, the needs, on_broken, gates, windows, the stop, and the day's exit code."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from pathlib import Path

from runner import testing
from runner.day import conduct, gates, queue, records
from runner.day import model as day_model
from runner.engine import clock as clock_mod
from runner.errors import ExitCode
from runner.journal import reader, writer
from tests.day import support


@dataclasses.dataclass
class Launcher:
    """Ends each experiment as scripted (exit code by id), writing a real run journal."""

    folder: Path
    codes: dict[str, int]
    ran: list[str] = dataclasses.field(default_factory=list)
    on_run: list[object] = dataclasses.field(default_factory=list)

    def journal_for(self, entry: day_model.DayExperiment) -> tuple[str, Path]:
        return f"run-{entry.id}", self.folder / f"run-{entry.id}" / "journal.jsonl"

    def run(self, entry: day_model.DayExperiment, run_id: str) -> conduct.RunResult:
        self.ran.append(entry.id)
        for hook in self.on_run:
            hook(entry.id)  # type: ignore[operator]
        path = self.folder / run_id / "journal.jsonl"
        code = self.codes.get(entry.id, 0)
        verdict = {0: "held", 1: "broken", 3: "refused", 4: "stopped", 5: "revert-failed"}[code]
        with writer.JournalWriter(path, now=lambda: 1.0) as jw:
            jw.append("run-started", run_id=run_id)
            jw.append("verdict", verdict=verdict, exit_code=code, reason=f"{entry.id} {verdict}")
        return conduct.RunResult(run_id, path, verdict, code, f"{entry.id} {verdict}")


@dataclasses.dataclass
class Assessor:
    closed: set[str] = dataclasses.field(default_factory=set)

    def assess(self, entry: day_model.DayExperiment,
               gate_list: Sequence[day_model.Gate]) -> list[gates.Result]:
        ok = entry.id not in self.closed
        return [gates.Result(g.kind, ok, f"{g.kind} {'open' if ok else 'closed'} for "
                             f"{entry.id}", {"remaining": 0.8 if ok else 0.1})
                for g in gate_list]


BUDGET = day_model.ErrorBudgetGate(slo=0.999, window=28 * 86400, total="t", bad="b")


def make_day(*entries: tuple[str, tuple[str, ...], str], window: day_model.Window | None = None,
             ) -> day_model.Day:
    exp = support.experiment()
    return day_model.Day(title="test day", experiments=tuple(
        day_model.DayExperiment(id=i, experiment=exp, source=f"{i}.yaml", needs=needs,
                                on_broken="continue" if on == "continue" else "stop")
        for i, needs, on in entries), window=window, gates=(BUDGET,), source="day.yaml",
        sha256="d" * 64)


def conduct_day(tmp_path: Path, day: day_model.Day, launcher: Launcher, *,
                assessor: Assessor | None = None, clock: testing.FakeClock | None = None,
                stop: list[str] | None = None) -> tuple[conduct.DayOutcome, reader.Journal]:
    path = tmp_path / "day" / records.JOURNAL_NAME
    with writer.JournalWriter(path, now=lambda: 1.0) as jw:
        ports = conduct.DayPorts(
            journal=jw, clock=clock or testing.FakeClock(), launcher=launcher,
            assessor=assessor or Assessor(), cancel=clock_mod.Cancel(),
            stopped=lambda: stop[0] if stop else None)
        session = conduct.DayRun(day, ports, day_id="day-1")
        session.start()
        outcome = session.execute()
    return outcome, reader.read(path)


def states(journal: reader.Journal) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in journal.of_type(records.EXPERIMENT):
        found.setdefault(e["id"], []).append(e["state"])
    return found


def test_every_experiment_holds_and_walks_the_whole_lifecycle(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {})
    outcome, journal = conduct_day(tmp_path, make_day(("a", (), "stop"), ("b", ("a",), "stop")),
                                   launcher)
    assert outcome.exit_code == ExitCode.HELD and launcher.ran == ["a", "b"]
    assert states(journal) == {"a": ["queued", "gated", "running", "held"],
                               "b": ["queued", "gated", "running", "held"]}
    assert reader.verify(journal) == []
    running = [e for e in journal.of_type(records.EXPERIMENT) if e["state"] == "running"]
    assert running[0]["journal"].endswith("run-a/journal.jsonl")
    gate = journal.of_type(records.GATE)[0]
    assert gate["id"] == "a" and gate["ok"] is True and gate["numbers"]["remaining"] == 0.8


def test_a_first_experiment_that_breaks_skips_the_one_that_needs_it(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {"a": 1})
    day = make_day(("a", (), "continue"), ("b", ("a",), "stop"), ("c", (), "stop"))
    outcome, journal = conduct_day(tmp_path, day, launcher)
    assert launcher.ran == ["a", "c"]  # on_broken continue: c still runs
    assert states(journal)["b"] == ["queued", "skipped"]
    skipped = journal.of_type(records.EXPERIMENT)[-3]
    assert "needs 'a' to hold, and 'a' ended broken, exit 1" in str(
        [e["reason"] for e in journal.of_type(records.EXPERIMENT) if e["id"] == "b"])
    assert skipped is not None
    assert outcome.exit_code == ExitCode.BROKEN and outcome.worst == "a"
    assert "set by 'a'" in outcome.reason


def test_on_broken_stop_ends_the_day(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {"a": 1})
    outcome, journal = conduct_day(tmp_path, make_day(("a", (), "stop"), ("c", (), "stop")),
                                   launcher)
    assert launcher.ran == ["a"] and states(journal)["c"] == ["queued", "skipped"]
    assert outcome.exit_code == ExitCode.BROKEN
    assert "on_broken is stop" in outcome.reason


def test_a_failed_revert_ends_the_day_whatever_on_broken_says_and_is_the_worst(
        tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {"a": 3, "b": 5, "c": 0})
    day = make_day(("a", (), "continue"), ("b", (), "continue"), ("c", (), "continue"))
    outcome, _journal = conduct_day(tmp_path, day, launcher)
    assert launcher.ran == ["a", "b"]
    assert outcome.exit_code == ExitCode.REVERT_FAILED and outcome.worst == "b"


def test_a_closed_gate_refuses_with_its_numbers_and_runs_nothing(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {})
    outcome, journal = conduct_day(tmp_path, make_day(("a", (), "stop"), ("b", ("a",), "stop")),
                                   launcher, assessor=Assessor(closed={"a"}))
    assert launcher.ran == []
    assert states(journal) == {"a": ["queued", "refused"], "b": ["queued", "skipped"]}
    gate = journal.of_type(records.GATE)[0]
    assert gate["ok"] is False and gate["numbers"] == {"remaining": 0.1}
    assert outcome.exit_code == ExitCode.REFUSED


def test_a_stop_between_experiments_skips_the_rest_as_refused(tmp_path: Path) -> None:
    stop: list[str] = []
    launcher = Launcher(tmp_path, {})
    launcher.on_run.append(lambda _id: stop.append("emergency stop by sre@box"))
    outcome, journal = conduct_day(tmp_path, make_day(("a", (), "stop"), ("b", (), "stop")),
                                   launcher, stop=stop)
    assert launcher.ran == ["a"]
    reasons = [e["reason"] for e in journal.of_type(records.EXPERIMENT) if e["id"] == "b"]
    assert "the day was stopped: emergency stop by sre@box" in reasons[-1]
    assert outcome.exit_code == ExitCode.REFUSED  # b was refused its chance; a held


def test_a_run_stopped_in_its_window_makes_the_day_exit_4(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {"a": 4})
    outcome, journal = conduct_day(tmp_path, make_day(("a", (), "continue"), ("b", (), "stop")),
                                   launcher)
    assert launcher.ran == ["a"] and states(journal)["b"][-1] == "skipped"
    assert outcome.exit_code == ExitCode.RUNNER_ERROR and outcome.worst == "a"


def test_the_window_refuses_what_does_not_fit_on_a_fake_clock(tmp_path: Path) -> None:
    window = day_model.Window(timezone="Europe/Berlin", days=frozenset({1}),
                              hours=(day_model.Hours(14 * 60, 17 * 60),))
    tuesday_late = datetime.datetime(2026, 11, 3, 16, 58, tzinfo=datetime.UTC)  # 17:58 CET
    clock = testing.FakeClock(wall=tuesday_late.timestamp())
    launcher = Launcher(tmp_path, {})
    outcome, journal = conduct_day(tmp_path, make_day(("a", (), "stop"), window=window),
                                   launcher, clock=clock)
    assert launcher.ran == [] and outcome.exit_code == ExitCode.REFUSED
    refused = journal.of_type(records.EXPERIMENT)[-1]
    assert refused["state"] == "refused" and "outside the window" in refused["reason"]
    assert refused["next_open"].startswith("2026-11-10T14:00:00+01:00")


def test_the_run_journal_is_linked_by_the_sha256_of_its_final_line(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path, {})
    _outcome, journal = conduct_day(tmp_path, make_day(("a", (), "stop")), launcher)
    (linked,) = journal.of_type(records.RUN_LINKED)
    run = reader.read(linked["journal"])
    import hashlib

    assert linked["final_line_sha256"] == hashlib.sha256(run.lines[-1]).hexdigest()
    assert linked["head_hash"] == run.events[-1]["hash"]


def test_the_days_exit_code_is_the_worst_by_the_documented_order() -> None:
    assert queue.worst({"a": 0, "b": 3}) == (3, "b")
    assert queue.worst({"a": 3, "b": 1}) == (1, "b")
    assert queue.worst({"a": 1, "b": 4, "c": 3}) == (4, "b")
    assert queue.worst({"a": 4, "b": 5}) == (5, "b")
    assert queue.worst({"a": None, "b": 0}) == (0, "b")
    assert queue.worst({"a": None}) == (0, None)
