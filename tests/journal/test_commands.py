"""The commands that read journals: odd inputs are exit 2 with one paragraph, never a hang."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.cli import main
from runner.journal import writer
from tests.journal import runs

KEY = b"journal-key-0123456789abcdef"


def gameday(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "journal.jsonl")
    return tmp / "journal.jsonl"


def _directory(tmp: Path) -> Path:
    (tmp / "journal.jsonl").mkdir()
    (tmp / "journal.jsonl" / "journal.jsonl").mkdir()
    return tmp / "journal.jsonl"


def _empty(tmp: Path) -> Path:
    (tmp / "journal.jsonl").write_bytes(b"")
    return tmp / "journal.jsonl"


def _wrong_type(tmp: Path) -> Path:
    path = runs.dead_run(tmp / "journal.jsonl")
    path.write_text(path.read_text().replace('"fault":1,', '"fault":"zero",', 1))
    return path


def _binary(tmp: Path) -> Path:
    (tmp / "journal.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(11, 256)) * 8)
    return tmp / "journal.jsonl"


ODD: dict[str, Callable[[Path], Path]] = {
    "fifo": _fifo, "device": lambda tmp: Path("/dev/zero"), "directory": _directory,
    "empty": _empty, "wrong field type": _wrong_type, "binary": _binary,
}


@pytest.mark.parametrize("command", [["journal", "show"], ["journal", "show", "--json"],
                                     ["report"], ["revert"]])
@pytest.mark.parametrize("odd", sorted(ODD))
def test_odd_inputs_are_exit_2_with_one_paragraph(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str], odd: str) -> None:
    path = ODD[odd](tmp_path)
    code, out, err = gameday(capsys, *command, path, *(
        ["--out", tmp_path / "out"] if command == ["report"] else []))
    assert code == 2, (out, err)
    assert err.startswith("gameday: ") and err.count("\n") == 1
    assert "Traceback" not in err and "unexpected error" not in err
    if command == ["report"] and odd == "wrong field type":  # events, but broken: reported
        assert "is not intact" in err and "should be an integer" in err
        assert (tmp_path / "out" / "report.md").exists()
    else:
        assert out == ""


def test_journal_show_prints_a_timeline_and_the_integrity(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    code, out, _err = gameday(capsys, "journal", "show", path)
    assert code == 0 and "inject #0 latency" in out
    assert "integrity: ok (6 events, hash chain intact: sha256)" in out


def test_journal_show_json_is_one_versioned_document(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl", key=KEY)
    code, out, _err = gameday(capsys, "journal", "show", "--json", path)
    document = json.loads(out)
    assert code == 2 and document["schema"] == "gameday.journal-show/v1"
    assert document["exit_code"] == 2 and document["run_id"] == "run-1"
    assert document["integrity"]["chain"] == "hmac-sha256"
    assert document["integrity"]["verified"] is False and len(document["events"]) == 6
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    code, out, _err = gameday(capsys, "journal", "show", "--json", "--journal-key-file",
                              key_file, path)
    document = json.loads(out)
    assert code == 0 and document["integrity"]["ok"] is True
    assert document["integrity"]["head"] == {"seq": 5, "hash": document["events"][-1]["hash"]}


def test_journal_show_checks_a_head_kept_outside(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    last = json.loads(path.read_bytes().splitlines()[-1])
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-2]))
    code, out, _err = gameday(capsys, "journal", "show", "--expect-head",
                              f"{last['seq']}:{last['hash']}", path)
    assert code == 2 and "POSSIBLY TRUNCATED" in out and "2 event(s) are missing" in out
    code, _out, err = gameday(capsys, "journal", "show", "--expect-head", "five", path)
    assert code == 2 and "SEQ:HASH" in err


def test_journal_show_survives_events_shaped_unlike_gamedays(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with writer.JournalWriter(path, now=lambda: 1.0) as jw:
        jw.append("run-started", run_id="r")
        jw.append("tick", tick=1, samples={"p": {"value": "not a number"}})
    code, out, err = gameday(capsys, "journal", "show", path)
    assert code == 0 and "seq 1 tick: unreadable" in out and "Traceback" not in err


def test_report_on_a_broken_journal_writes_the_reports_and_exits_2(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3] + lines[4:]))
    code, out, err = gameday(capsys, "report", path, "--out", tmp_path / "out")
    assert code == 2 and "report.md" in out and "is not intact" in err
    assert (tmp_path / "out" / "report.md").exists() and (tmp_path / "out" / "junit.xml").exists()


def test_report_verifies_a_keyed_journal_with_its_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl", key=KEY)
    code, _out, err = gameday(capsys, "report", path, "--out", tmp_path / "a")
    assert code == 2 and "no key was given" in err
    monkeypatch.setenv("GAMEDAY_JOURNAL_KEY", KEY.hex())
    code, _out, err = gameday(capsys, "report", path, "--out", tmp_path / "b")
    assert code == 0, err
    assert "no key was given" not in (tmp_path / "b" / "report.md").read_text()


def test_revert_from_the_command_line_refuses_a_forged_journal(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = runs.dead_run(tmp_path / "journal.jsonl")
    path.write_text(path.read_text().replace('"func":"up"', '"func":"down"'))
    code, out, err = gameday(capsys, "revert", path)
    assert code == 2 and "integrity: BROKEN" in out and "refusing to revert" in err
