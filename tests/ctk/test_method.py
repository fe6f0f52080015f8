"""The method as the engine runs it, on fakes of gameday's own ports (no chaoslib here).

The order of a method (rollbacks registered first, steps in order, background joined,
rollbacks in their written order), its controls, and every way it ends: a probe outside
its tolerance, a stop in a pause, a signal, a failed background action, the rollback
strategies.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from runner import errors, ports, testing
from runner.adapters.ctk import parts
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import reader, recovery, writer
from runner.model import experiment as model
from runner.model import loader


def act(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "action", "name": name, "provider": {"type": "process", "path": "x"},
            **extra}


def probe(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "probe", "name": name, "provider": {"type": "process", "path": "x"},
            **extra}


class Steps:
    """A ``ports.StepRunner`` that records what it was asked to do."""

    def __init__(self, fail: Sequence[str] = (), outside: Sequence[str] = ()) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail, self.outside = set(fail), set(outside)
        self.released = threading.Event()
        self.lock = threading.Lock()

    def _note(self, *call: str) -> None:
        with self.lock:
            self.calls.append(call)

    def run(self, activity: Mapping[str, Any]) -> Any:
        name = str(activity["name"])
        if name == "waits-for-the-foreground":
            assert self.released.wait(10), "the background step did not run concurrently"
        self._note("run", name)
        if name == "releases-the-background":
            self.released.set()
        if name in self.fail:
            raise errors.ActivityError(f"activity {name!r} failed: exit 1", {"status": 1})
        return {"status": 0}

    def observe(self, activity: Mapping[str, Any]) -> Any:
        self._note("observe", str(activity["name"]))
        return {"status": 200}

    def judge(self, activity: Mapping[str, Any], output: Any) -> ports.Judgement:
        ok = activity["name"] not in self.outside
        return ports.Judgement(ok, "in tolerance" if ok else "outside the tolerance")

    def seconds(self, value: float | str) -> float:
        return float(value)

    def control(self, level: str, scope: str, state: Any = None) -> None:
        self._note("control", level, scope)


class Planner(testing.FakePlatform):
    """Plans a method as the Chaos Toolkit platform does (actions, then rollbacks)."""

    def plan(self, experiment: model.Experiment, run_id: str, seed: int
             ) -> list[ports.PlannedFault]:
        method = experiment.method
        assert method is not None
        out = [ports.PlannedFault(s.index, s.name, "action", (), dict(s.activity), None)
               for s in method.actions]
        return out + [ports.PlannedFault(len(method.steps) + i, str(r["name"]), "rollback",
                                         (), {}, dict(r)) for i, r in enumerate(method.rollbacks)]


class StopInPause:
    name = "stop"

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        return ports.Halt("stop", "emergency stop") if point.phase == "pause" else None


def execute(tmp: Path, doc: dict[str, Any], steps: Steps,
            sentinels: tuple[ports.Sentinel, ...] = (), cancel_in_pause: bool = False
            ) -> tuple[run_mod.Outcome, list[dict[str, Any]]]:
    text = json.dumps({"title": "t", "description": "d", **doc})
    exp = loader.load_text(text, "<test>")
    cancel = clock_mod.Cancel()
    clock = testing.FakeClock()
    if cancel_in_pause:
        sentinels = (*sentinels, _Cancel(cancel))
    path = tmp / "journal.jsonl"
    with writer.JournalWriter(path, now=clock.time) as jw:
        run_ports = run_mod.RunPorts(parts.NullMetrics(), Planner(), steps, clock, jw, cancel,
                                     sentinels=sentinels)
        outcome = run_mod.Run(exp, run_ports, run_id="r", seed=1).execute()
    return outcome, [dict(e) for e in reader.read(path).events]


class _Cancel:
    name = "signal"

    def __init__(self, cancel: clock_mod.Cancel) -> None:
        self.cancel = cancel

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        if point.phase == "pause":
            self.cancel.set("SIGINT")
        return None


ROLLBACKS = [act("undo-1"), act("undo-2")]


def test_rollbacks_are_registered_first_then_the_steps_run_in_order_then_the_rollbacks(
        tmp_path: Path) -> None:
    steps = Steps()
    outcome, journal = execute(tmp_path, {"method": [
        act("first", pauses={"before": 2, "after": 1}), probe("look"),
        probe("judged", tolerance=200), act("last")], "rollbacks": ROLLBACKS}, steps)
    assert outcome.verdict == "held", outcome.reason
    assert steps.calls == [
        ("control", "method", "before"), ("run", "first"), ("run", "look"),
        ("observe", "judged"), ("run", "last"), ("control", "method", "after"),
        ("control", "rollback", "before"), ("run", "undo-1"), ("run", "undo-2"),
        ("control", "rollback", "after")]
    kinds = [(e["type"], e.get("name")) for e in journal
             if e["type"] in ("fault-intent", "observation", "pause", "revert-result")]
    assert kinds == [("fault-intent", "undo-1"), ("fault-intent", "undo-2"),
                     ("pause", "first"), ("fault-intent", "first"), ("pause", "first"),
                     ("observation", "look"), ("observation", "judged"),
                     ("fault-intent", "last"), ("revert-result", "undo-1"),
                     ("revert-result", "undo-2")]


def test_a_background_step_runs_beside_the_foreground_and_is_joined_before_the_reverts(
        tmp_path: Path) -> None:
    steps = Steps()
    outcome, journal = execute(tmp_path, {"method": [
        act("waits-for-the-foreground", background=True), act("releases-the-background")],
        "rollbacks": ROLLBACKS[:1]}, steps)
    assert outcome.verdict == "held", outcome.reason
    ran = [c[1] for c in steps.calls if c[0] == "run"]
    assert ran == ["releases-the-background", "waits-for-the-foreground", "undo-1"]
    results = [e["name"] for e in journal if e["type"] == "fault-result"]
    assert results == ["releases-the-background", "waits-for-the-foreground"]


def test_a_failed_background_action_is_a_fault_that_did_not_take_effect(tmp_path: Path) -> None:
    outcome, _journal = execute(tmp_path, {"method": [act("bg", background=True),
                                                      act("fg")], "rollbacks": ROLLBACKS},
                                Steps(fail=["bg"]))
    assert outcome.exit_code == errors.ExitCode.RUNNER_ERROR
    assert "'bg' did not take effect" in outcome.reason


def test_a_probe_outside_its_tolerance_aborts_as_broken_and_the_rollbacks_run(
        tmp_path: Path) -> None:
    steps = Steps(outside=["judged"])
    outcome, _journal = execute(tmp_path, {"method": [
        act("break"), probe("judged", tolerance=200), act("never")],
        "rollbacks": ROLLBACKS}, steps)
    assert outcome.exit_code == errors.ExitCode.BROKEN
    assert "method probe 'judged' is outside its tolerance" in outcome.reason
    assert ("run", "never") not in steps.calls
    assert [c[1] for c in steps.calls if c[0] == "run"][-2:] == ["undo-1", "undo-2"]


def test_a_stop_during_a_pause_ends_the_run_and_the_rollbacks_run(tmp_path: Path) -> None:
    steps = Steps()
    outcome, _journal = execute(tmp_path, {"method": [act("a", pauses={"after": 600}),
                                                      act("b")], "rollbacks": ROLLBACKS},
                                steps, sentinels=(StopInPause(),))
    assert (outcome.verdict, outcome.exit_code) == ("stopped", errors.ExitCode.RUNNER_ERROR)
    assert ("run", "b") not in steps.calls and ("run", "undo-2") in steps.calls


@pytest.mark.parametrize(("strategy", "played"), [(None, True), ("default", False),
                                                  ("always", True), ("never", False)])
def test_an_interrupted_run_plays_its_rollbacks_as_the_strategy_says(
        tmp_path: Path, strategy: str | None, played: bool) -> None:
    runtime = {"runtime": {"rollbacks": {"strategy": strategy}}} if strategy else {}
    steps = Steps()
    outcome, journal = execute(tmp_path, {"method": [act("a", pauses={"after": 60})],
                                          "rollbacks": ROLLBACKS, **runtime}, steps,
                               cancel_in_pause=True)
    assert outcome.verdict == "interrupted"
    assert (("run", "undo-1") in steps.calls) is played
    decided = [e for e in journal if e["type"] == "rollbacks" and e["state"] == "decided"]
    assert decided[0]["play"] is played
    pending = recovery.pending_reverts(reader.read(tmp_path / "journal.jsonl"))
    assert len(pending) == (0 if played else 2)  # skipped ones stay for `gameday revert`
