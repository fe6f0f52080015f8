"""Odd inputs to every journal reader: refused with a message, never a hang or a crash."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from runner import errors
from runner.journal import reader, writer


def _good(path: Path) -> None:
    with writer.JournalWriter(path, now=lambda: 1.0) as jw:
        jw.append("run-started", run_id="r")
        jw.append("fault-intent", fault=0, name="f", revert=None)


def _refused(path: Path | str, *fragments: str) -> str:
    with pytest.raises(errors.InputError) as caught:
        reader.read(path)
    message = caught.value.message
    assert caught.value.exit_code == 2 and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "journal.jsonl"
    os.mkfifo(fifo)
    _refused(fifo, "FIFO", str(fifo))


def test_a_device_is_refused_without_reading_it() -> None:
    _refused("/dev/zero", "character device")


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        _refused(path, "socket")


def test_a_directory_named_journal_jsonl_is_refused(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").mkdir()
    _refused(tmp_path / "journal.jsonl", "directory without a journal.jsonl")
    (tmp_path / "journal.jsonl" / "journal.jsonl").mkdir()
    _refused(tmp_path / "journal.jsonl", "is a directory, not a journal file")


def test_a_run_directory_reads_its_journal(tmp_path: Path) -> None:
    _good(tmp_path / "journal.jsonl")
    assert reader.read(tmp_path).path == tmp_path / "journal.jsonl"


def test_an_empty_file_is_not_an_intact_journal_of_zero_events(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"")
    _refused(path, "is empty")


def test_binary_without_a_line_end_holds_no_event(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(bytes(b for b in range(256) if b != ord("\n")) * 4)
    _refused(path, "no complete journal event")


def test_binary_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n{}\n")
    _refused(path, "line 1", "not UTF-8")


@pytest.mark.parametrize(("edit", "fragment"), [
    (lambda e: {**e, "fault": "zero"}, "field fault should be an integer, found \"zero\""),
    (lambda e: {**e, "fault": True}, "field fault should be an integer, found true"),
    (lambda e: {**e, "seq": "1"}, "field seq should be an integer"),
    (lambda e: {**e, "seq": -1}, "non-negative"),
    (lambda e: {**e, "revert": "rm -rf /"}, "field revert should be an object or null"),
    (lambda e: {k: v for k, v in e.items() if k != "fault"}, "field fault is missing"),
    (lambda e: {**e, "targets": ["a", 3]}, "field targets[1] should be a string"),
])
def test_wrong_field_types_are_refused_with_line_and_field(
        tmp_path: Path, edit: object, fragment: str) -> None:
    path = tmp_path / "j.jsonl"
    _good(path)
    lines = path.read_bytes().splitlines()
    event = json.loads(lines[1])
    lines[1] = json.dumps(edit(event)).encode()  # type: ignore[operator]
    path.write_bytes(b"\n".join(lines) + b"\n")
    _refused(path, "line 2", fragment)


def test_a_huge_line_is_refused_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with open(path, "wb") as fh:
        fh.write(b'{"x":"' + b"a" * (reader.MAX_LINE_BYTES + 10) + b'"}\n')
    _refused(path, "line 1", "MiB a journal line may hold")


def test_a_huge_unterminated_tail_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _good(path)
    with open(path, "ab") as fh:
        fh.write(b"\0" * (reader.MAX_LINE_BYTES + 10))
    _refused(path, "unterminated")


def test_deeply_nested_json_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"[" * 200_000 + b"\n{}\n")
    _refused(path, "line 1", "not valid JSON")


def test_a_json_value_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'[1,2]\n{"a":1}\n')
    _refused(path, "line 1", "not an object")


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = tmp_path / "j.jsonl"
    _good(path)
    path.chmod(0)
    _refused(path, "Permission denied")
