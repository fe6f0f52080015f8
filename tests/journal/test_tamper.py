"""Tamper evidence: edits, deletions, reorders, truncation, forged chains, keys and heads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import errors
from runner.journal import chain, integrity, keys, reader, writer
from tests.journal import forgery

KEY = b"k" * 32


def _journal(path: Path, *, key: bytes | None = None, verdict: bool = True) -> chain.Head:
    with writer.JournalWriter(path, now=lambda: 1_700_000_000.0, key=key) as jw:
        jw.append("run-started", run_id="r", experiment={"faults": []})
        for i in range(3):
            jw.append("tick", tick=i)
        if verdict:
            jw.append("verdict", verdict="held", exit_code=0, reason="ok")
    assert jw.head is not None
    return jw.head


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_an_intact_journal_verifies_and_names_its_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    head = _journal(path)
    found = integrity.check(reader.read(path), expected_head=head)
    assert found.problems == () and found.chain == "sha256" and found.sealed
    assert found.head == head


def test_a_deleted_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path)
    lines = _lines(path)
    path.write_bytes(b"".join(lines[:2] + lines[3:]))
    problems = reader.verify(reader.read(path))
    assert any("sequence number 3 where 2" in p for p in problems)
    assert any("prev does not match" in p for p in problems)


def test_reordered_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))
    assert len(reader.verify(reader.read(path))) >= 2


def test_an_edit_of_the_last_line_is_caught_by_its_own_hash(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path)
    text = path.read_text().replace('"events":5', '"events":4')
    path.write_text(text)
    problems = reader.verify(reader.read(path))
    assert any("journal-sealed): its content does not match its hash" in p for p in problems)


def test_a_run_that_is_over_but_not_sealed_is_possibly_truncated(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path)
    path.write_bytes(b"".join(_lines(path)[:-1]))  # drop the seal
    found = integrity.check(reader.read(path))
    assert found.breaks == () and len(found.truncation) == 1
    assert "does not end in a seal" in found.truncation[0]


def test_a_live_run_without_a_verdict_is_not_called_truncated(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    jw = writer.JournalWriter(path, now=lambda: 1.0)
    jw.append("run-started", run_id="r")
    jw.append("tick", tick=1)
    assert reader.verify(reader.read(path)) == []
    jw.close()


def test_a_head_kept_outside_shows_lines_cut_before_the_verdict(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    head = _journal(path)
    path.write_bytes(b"".join(_lines(path)[:3]))  # verdict and seal gone: looks like a crash
    assert reader.verify(reader.read(path)) == []  # the journal alone cannot tell
    problems = reader.verify(reader.read(path, expected_head=head))
    assert problems and "3 event(s) are missing" in problems[0]


def test_a_head_kept_outside_shows_a_rewritten_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    head = _journal(path)

    def held_becomes_broken(events: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{**e, "verdict": "broken"} if e["type"] == "verdict" else e for e in events]

    forgery.rewrite(path, held_becomes_broken)
    assert reader.verify(reader.read(path)) == []  # a perfect sha256 forgery...
    found = integrity.check(reader.read(path), expected_head=head)
    assert any("does not match the head recorded outside" in b for b in found.breaks)


def test_a_journal_may_be_appended_after_its_seal_and_sealed_again(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path)
    with writer.JournalWriter(path, now=lambda: 2.0) as jw:
        jw.append("revert-session", state="started")
    read = reader.read(path)
    assert [e["type"] for e in read.events].count("journal-sealed") == 2
    assert reader.verify(read) == []


def test_a_recomputed_sha256_chain_verifies_which_is_why_keys_exist(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path)
    forgery.rewrite(path, lambda evs: [*evs, {"type": "fault-intent", "fault": 9, "name": "x",
                                              "revert": {"provider": {"type": "process"}}}])
    assert reader.verify(reader.read(path)) == []


def test_a_keyed_journal_cannot_be_rewritten_without_the_key(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path, key=KEY)
    assert reader.verify(reader.read(path, key=KEY)) == []
    forgery.rewrite(path, lambda evs: evs, key=b"guessed-key-0123")
    problems = reader.verify(reader.read(path, key=KEY))
    assert problems == ["the key given verifies none of the journal's lines: it is not this "
                        "journal's key (or every line was forged)"]


def test_a_keyed_journal_downgraded_to_sha256_is_caught_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path, key=KEY)
    forgery.rewrite(path, lambda evs: evs)
    assert reader.verify(reader.read(path)) == []  # without the key nobody can tell...
    problems = reader.verify(reader.read(path, key=KEY))  # ...with it, everyone can
    assert len(problems) == 1 and "not keyed (sha256)" in problems[0]


def test_a_keyed_journal_without_its_key_is_unverified_not_intact(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path, key=KEY)
    found = integrity.check(reader.read(path))
    assert found.unverified is not None and "--journal-key-file" in found.unverified
    assert not found.trusted and found.breaks == ()


def test_one_edited_line_of_a_keyed_journal_is_named_alone(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path, key=KEY)
    path.write_text(path.read_text().replace('"tick":1', '"tick":7'))
    problems = reader.verify(reader.read(path, key=KEY))
    assert len(problems) == 1 and "seq 2, tick" in problems[0] and "without the key" in problems[0]


def test_the_key_is_never_written_and_the_chain_kind_is(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    key = b"a-very-secret-journal-key"
    _journal(path, key=key)
    raw = path.read_bytes()
    assert key not in raw and key.hex().encode() not in raw
    assert json.loads(raw.splitlines()[0])["chain"] == "hmac-sha256"


def test_reopening_a_keyed_journal_needs_its_key(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _journal(path, key=KEY)
    with pytest.raises(errors.JournalOpenFailed, match="keyed"):
        writer.JournalWriter(path, now=lambda: 1.0)
    with pytest.raises(errors.JournalOpenFailed, match="not this journal's key"):
        writer.JournalWriter(path, now=lambda: 1.0, key=b"x" * 32)
    with writer.JournalWriter(path, now=lambda: 1.0, key=KEY) as jw:
        jw.append("revert-session", state="started")
    assert reader.verify(reader.read(path, key=KEY)) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("ab" * 16 + "\n", bytes.fromhex("ab" * 16)),
    ("not hex but long enough", b"not hex but long enough"),
])
def test_keys_are_hex_or_raw(tmp_path: Path, text: str, expected: bytes) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(text)
    assert keys.load(key_file) == expected
    assert keys.load(None, {"GAMEDAY_JOURNAL_KEY": text.strip()}) == expected
    assert keys.load(None, {}) is None


def test_a_short_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="at least 16"):
        keys.load(None, {"GAMEDAY_JOURNAL_KEY": "abcd"})
