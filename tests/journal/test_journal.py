"""The journal: durable lines, a hash chain, torn tails, recovery and redaction."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from runner import errors
from runner.journal import reader, recovery, writer


def _writer(path: Path) -> writer.JournalWriter:
    counter = itertools.count(1_700_000_000)
    return writer.JournalWriter(path, now=lambda: float(next(counter)))


def test_events_carry_sequence_numbers_and_the_hash_of_the_previous_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with _writer(path) as jw:
        for i in range(5):
            jw.append("tick", tick=i)
    journal = reader.read(path)
    assert [e["seq"] for e in journal.events] == [0, 1, 2, 3, 4, 5]
    assert journal.events[0]["prev"] == "0" * 64
    assert [e["prev"] for e in journal.events[1:]] == [e["hash"] for e in journal.events[:-1]]
    assert journal.events[-1]["type"] == "journal-sealed"
    assert reader.verify(journal) == []


def test_a_torn_last_line_is_ignored_and_nothing_before_it(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    jw = _writer(path)
    jw.append("run-started", run_id="r")
    jw.append("tick", tick=1)
    jw.close()
    with open(path, "ab") as fh:
        fh.write(b'{"seq":2,"type":"fault-int')
    journal = reader.read(path)
    assert journal.torn_tail is True
    assert [e["type"] for e in journal.events] == ["run-started", "tick"]


def test_a_corrupt_line_that_is_not_the_last_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with _writer(path) as jw:
        jw.append("a")
        jw.append("b")
    lines = path.read_bytes().split(b"\n")
    lines[0] = b"garbage"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(errors.InputError, match="line 1"):
        reader.read(path)


def test_an_edited_event_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with _writer(path) as jw:
        jw.append("verdict", verdict="broken")
        jw.append("tick", tick=1)
    text = path.read_text().replace('"broken"', '"held"')
    path.write_text(text)
    problems = reader.verify(reader.read(path))
    assert len(problems) == 1 and "edited" in problems[0]


def test_reopening_cuts_a_torn_tail_and_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    jw = _writer(path)
    jw.append("run-started", run_id="r")
    jw.close()
    with open(path, "ab") as fh:
        fh.write(b'{"seq":1,"ty')
    with _writer(path) as jw:
        jw.append("revert-session", state="started")
    journal = reader.read(path)
    assert not journal.torn_tail
    assert [e["type"] for e in journal.events] == [
        "run-started", "journal-repaired", "revert-session", "journal-sealed"]
    assert journal.events[1]["dropped_bytes"] == len(b'{"seq":1,"ty')
    assert reader.verify(journal) == []


def test_secrets_never_reach_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with _writer(path) as jw:
        jw.append("run-started", experiment={
            "prometheus": {"url": "http://p", "headers": {"X-Scope": "tenant-1"}},
            "faults": [{"action": {"provider": {"arguments": {"api_token": "s3cr3t"}}}}],
        }, authorization="Bearer abc")
    raw = path.read_text()
    assert "s3cr3t" not in raw and "tenant-1" not in raw and "Bearer abc" not in raw
    event = json.loads(raw.splitlines()[0])
    assert event["experiment"]["prometheus"]["url"] == "http://p"


def test_pending_reverts_are_intents_without_a_successful_revert(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    revert = {"type": "action", "name": "r", "provider": {"type": "python"}}
    with _writer(path) as jw:
        jw.append("run-started", run_id="run-1")
        for i in range(3):
            jw.append("fault-intent", fault=i, name=f"f{i}", revert=revert)
        jw.append("fault-intent", fault=3, name="no-revert", revert=None)
        jw.append("revert-result", fault=2, ok=True)
        jw.append("revert-result", fault=1, ok=False)
    journal = reader.read(path)
    assert [e["fault"] for e in recovery.pending_reverts(journal)] == [0, 1]
    assert recovery.run_id(journal) == "run-1"


def test_reading_a_missing_journal_says_where_journals_live(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match=r"reports/<run-id>/journal\.jsonl"):
        reader.read(tmp_path / "nope.jsonl")
