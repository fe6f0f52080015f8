"""Nothing is claimed that was not observed: effects, verified reverts, a failing journal."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from runner import errors
from runner.errors import ExitCode
from runner.journal import disk, reader, recovery
from tests.engine.conftest import Harness


def test_a_fault_that_did_not_take_effect_is_reverted_and_exits_4(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.platform.effect_ok = {0: True, 1: False}
    outcome = h.run()
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    assert "did not take effect" in outcome.reason
    assert "held" not in outcome.verdict
    assert h.activities.ran == ["inject-0", "inject-1", "revert-1", "revert-0"]
    effects = h.events("fault-effect")
    assert [(e["fault"], e["ok"]) for e in effects] == [(0, True), (1, False)]


def test_an_unchecked_effect_is_journaled_as_not_checked(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    outcome = h.run()
    assert outcome.exit_code == ExitCode.HELD
    assert all(e["ok"] is None and "not checked" in str(e["detail"])
               for e in h.events("fault-effect"))


def test_a_revert_whose_fault_is_still_there_is_retried_until_it_is_gone(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.platform.still_there = {1: 1}
    outcome = h.run()
    assert outcome.exit_code == ExitCode.HELD
    assert h.activities.ran.count("revert-1") == 2
    verified = {e["fault"]: e["ok"] for e in h.events("revert-verified")}
    assert verified == {0: True, 1: True}


def test_a_revert_that_never_removes_the_fault_is_exit_5_and_stays_pending(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.platform.still_there = {0: 99}
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REVERT_FAILED
    assert "still there" in outcome.reason
    result = next(e for e in h.events("revert-result") if e["fault"] == 0)
    assert result["ok"] is False
    pending = recovery.pending_reverts(reader.read(h.journal_path))
    assert [e["fault"] for e in pending] == [0]


def test_a_failed_injection_journals_its_evidence(harness: Callable[..., Harness]) -> None:
    h = harness()
    original = h.activities.run

    def run(activity: dict[str, Any]) -> Any:
        if activity["name"] == "inject-1":
            raise errors.ActivityError("activity 'inject-1' failed: the process exited with "
                                       "status 1", {"provider": "process", "status": 1,
                                                    "stderr": "boom"})
        return original(activity)

    h.activities.run = run  # type: ignore[method-assign]
    outcome = h.run()
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    assert "did not take effect" in outcome.reason and "status 1" in outcome.reason
    failed = next(e for e in h.events("fault-result") if e["ok"] is False)
    assert failed["evidence"] == {"provider": "process", "status": 1, "stderr": "boom"}
    assert "revert-0" in h.activities.ran


def test_reverts_run_even_when_the_journal_fails_mid_window(
        harness: Callable[..., Harness], capsys: Any) -> None:
    h = harness()
    # The disk fills up during the watch: every append after the fifth watch tick fails.
    state = {"watch_ticks": 0}

    def listener(event: dict[str, Any]) -> None:
        if event["type"] == "tick" and event.get("phase") == "watch":
            state["watch_ticks"] += 1

    h.sink.emit = listener  # type: ignore[method-assign]
    real_append: list[Callable[..., Any]] = []

    def failing(type_: str, **payload: Any) -> Any:
        if state["watch_ticks"] >= 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append[0](type_, **payload)

    from runner.journal import writer

    original_init = writer.JournalWriter.__init__

    def init(self: writer.JournalWriter, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        real_append.append(self.append)
        self.append = failing  # type: ignore[method-assign]

    writer.JournalWriter.__init__ = init  # type: ignore[method-assign]
    try:
        outcome = h.run()
    finally:
        writer.JournalWriter.__init__ = original_init  # type: ignore[method-assign]
    assert h.activities.ran[-2:] == ["revert-1", "revert-0"], "reverts must not wait on disk"
    assert outcome.exit_code == ExitCode.RUNNER_ERROR
    assert "journal could not record" in outcome.reason
    assert any(line.startswith("revert-result") for line in outcome.unrecorded)
    # what did reach the disk is an intact chain
    assert reader.verify(reader.read(h.journal_path)) == []


class FullDiskOnce(disk.Ops):
    """The disk fills up once the watch is under way; the reserve's room is what is left."""

    def __init__(self) -> None:
        self.full = False
        self.failed = 0

    def write(self, fd: int, data: memoryview) -> int:
        if self.full and self.failed == 0:
            self.failed += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(fd, data)


def test_a_disk_that_fills_up_ends_the_window_while_the_reverts_still_fit(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    ops = FullDiskOnce()
    h.journal_ops = ops

    def listener(event: dict[str, Any]) -> None:
        if event["type"] == "tick" and event.get("phase") == "watch" and event["tick"] == 3:
            ops.full = True

    h.sink.emit = listener  # type: ignore[method-assign]
    outcome = h.run()
    assert ops.failed == 1
    assert outcome.exit_code == ExitCode.RUNNER_ERROR and outcome.verdict == "stopped"
    assert "is full" in outcome.reason
    assert h.activities.ran[-2:] == ["revert-1", "revert-0"]
    journal = reader.read(h.journal_path)
    assert journal.last("abort")["kind"] == "journal"
    assert [e["ok"] for e in journal.of_type("revert-result")] == [True, True]
    assert journal.last("verdict")["verdict"] == "stopped"


def test_a_run_whose_journal_has_no_reserve_refuses_before_any_fault(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.journal_reserve = 0  # as when the disk is already too full for the reserve
    outcome = h.run()
    assert outcome.exit_code == ExitCode.REFUSED
    assert "no room for the reserve" in outcome.reason
    assert h.activities.ran == []
