"""Writing: whole lines or nothing, a reserve for a full disk, one writer, loud failures."""

from __future__ import annotations

import errno
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runner import errors
from runner.journal import reader, writer
from tests.journal.diskfaults import FullDisk


def _now() -> float:
    return float(next(_CLOCK))


_CLOCK = itertools.count(1_700_000_000)


def _lines_are_whole(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), "the journal must end on a line boundary"
    return [json.loads(line) for line in data.splitlines()]


def test_short_writes_are_finished_not_glued(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ops = FullDisk(free=10**9, max_write=7)
    with writer.JournalWriter(path, now=_now, ops=ops) as jw:
        jw.append("run-started", run_id="r", note="x" * 100)
        jw.append("tick", tick=1)
    assert max(ops.writes) == 7 and len(ops.writes) > 20
    assert [e["type"] for e in _lines_are_whole(path)] == [
        "run-started", "tick", "journal-sealed"]
    assert reader.verify(reader.read(path)) == []


def test_head_is_the_seq_and_hash_of_the_last_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with writer.JournalWriter(path, now=_now) as jw:
        assert jw.head is None
        event = jw.append("run-started", run_id="r")
        assert jw.head is not None and jw.head.seq == 0 and jw.head.hash == event["hash"]
        jw.append("tick", tick=1)
        assert jw.head.seq == 1
    last = json.loads(path.read_bytes().splitlines()[-1])
    assert jw.head.seq == last["seq"] == 2 and jw.head.hash == last["hash"]


def test_a_full_disk_releases_the_reserve_so_the_revert_records_still_fit(
        tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ops = FullDisk(free=4096 + 600)
    jw = writer.JournalWriter(path, now=_now, reserve_bytes=4096, ops=ops)
    assert jw.reserved == 4096 and (tmp_path / "j.jsonl.reserve").exists()
    for tick in range(100):  # fill the disk with ticks until the reserve is released
        jw.append("tick", tick=tick, pad="p" * 50)
        if jw.reserve_released:
            break
    assert jw.reserve_released and not (tmp_path / "j.jsonl.reserve").exists()
    jw.append("revert-result", fault=0, ok=True, name="latency")
    jw.close(seal=True)
    types = [e["type"] for e in _lines_are_whole(path)]
    assert types[-2:] == ["revert-result", "journal-sealed"]
    seal = reader.read(path).events[-1]
    assert seal["reserve_released"] is True


def test_when_even_the_reserve_is_gone_the_failure_is_loud_and_the_file_stays_whole(
        tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ops = FullDisk(free=2048 + 300)
    jw = writer.JournalWriter(path, now=_now, reserve_bytes=2048, ops=ops)
    with pytest.raises(errors.JournalWriteFailed) as caught:
        for tick in range(200):
            jw.append("tick", tick=tick, pad="p" * 50)
    assert str(path) in caught.value.message and "ENOSPC" in caught.value.message
    assert caught.value.exit_code == 4 and not isinstance(caught.value.__cause__, type(None))
    assert jw.broken is None  # disk full is not corruption: a later append may fit
    before = path.read_bytes()
    ops.free += 1000  # an operator frees space
    jw.append("revert-result", fault=0, ok=True)
    jw.close(seal=True)
    events = _lines_are_whole(path)
    assert path.read_bytes().startswith(before)
    assert events[-1]["type"] == "journal-sealed" and events[-1]["unwritten"] == 1
    assert reader.verify(reader.read(path)) == []


def test_a_partial_line_that_cannot_be_cut_back_breaks_the_writer_for_good(
        tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ops = FullDisk(free=10**9)
    jw = writer.JournalWriter(path, now=_now, ops=ops)
    jw.append("run-started", run_id="r")
    ops.free, ops.fail_truncate = 20, True  # half a line fits; cutting it back fails
    with pytest.raises(errors.JournalWriteFailed):
        jw.append("tick", tick=1, pad="p" * 100)
    assert jw.broken is not None and "cutting the partial line back" in jw.broken
    ops.free = 10**9
    with pytest.raises(errors.JournalWriteFailed, match="left broken"):
        jw.append("revert-result", fault=0, ok=True)
    jw.close(seal=True)  # must not raise, must not seal onto half a line
    assert jw.failure is not None
    read = reader.read(path)  # the half line is a torn tail, ignored; nothing glued
    assert read.torn_tail and [e["type"] for e in read.events] == ["run-started"]


def test_an_io_error_cuts_the_line_back_and_stops_appending(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ops = FullDisk(free=10**9)
    jw = writer.JournalWriter(path, now=_now, ops=ops)
    jw.append("run-started", run_id="r")
    ops.fsync_errno = errno.EIO
    with pytest.raises(errors.JournalWriteFailed, match="EIO"):
        jw.append("tick", tick=1)
    ops.fsync_errno = None
    assert jw.broken is not None
    with pytest.raises(errors.JournalWriteFailed):
        jw.append("tick", tick=2)
    jw.close()
    assert [e["type"] for e in _lines_are_whole(path)] == ["run-started"]


def test_a_second_writer_is_refused_instead_of_interleaving(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with writer.JournalWriter(path, now=_now) as jw:
        jw.append("run-started", run_id="r")
        with pytest.raises(errors.JournalOpenFailed, match="another gameday process"):
            writer.JournalWriter(path, now=_now)
    with writer.JournalWriter(path, now=_now) as again:  # free once the first one closed
        again.append("revert-session", state="started")
    assert reader.verify(reader.read(path)) == []


@pytest.mark.parametrize("odd", ["dir", "fifo", "device"])
def test_opening_an_odd_path_for_writing_fails_at_once(tmp_path: Path, odd: str) -> None:
    path = tmp_path / "journal.jsonl"
    if odd == "dir":
        path.mkdir()
    elif odd == "fifo":
        os.mkfifo(path)
    else:
        path = Path("/dev/null")
    with pytest.raises(errors.JournalOpenFailed, match="not a regular file") as caught:
        writer.JournalWriter(path, now=_now)
    assert caught.value.exit_code == 2


def test_a_read_only_directory_is_a_clear_open_failure(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories; the message path is the same")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(errors.JournalOpenFailed, match="--journal-dir"):
            writer.JournalWriter(tmp_path / "j.jsonl", now=_now)
    finally:
        tmp_path.chmod(0o700)


_CHILD = textwrap.dedent("""
    import json, resource, signal, sys
    from pathlib import Path
    from runner import errors
    from runner.journal import writer
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))
    jw = writer.JournalWriter(Path(sys.argv[1]), now=lambda: 1.0, reserve_bytes=0)
    written = 0
    try:
        for i in range(100):
            jw.append("tick", tick=i, pad="p" * 90)
            written += 1
    except errors.JournalWriteFailed as exc:
        print(json.dumps({"written": written, "message": exc.message, "broken": jw.broken}))
""")


def test_a_real_short_write_at_the_file_size_limit_leaves_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                          text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    assert 0 < result["written"] < 100 and "File too large" in result["message"]
    events = _lines_are_whole(path)
    assert len(events) == result["written"] and path.stat().st_size <= 1500


def test_on_a_real_full_disk_the_reserve_holds_the_revert_records(tiny_tmpfs: Path) -> None:
    path = tiny_tmpfs / "journal.jsonl"
    jw = writer.JournalWriter(path, now=_now, reserve_bytes=16 * 1024)
    try:
        fd = os.open(tiny_tmpfs / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # another process fills the disk
            with pytest.raises(OSError) as full:
                for _ in range(1000):
                    os.write(fd, b"x" * 4096)
            assert full.value.errno == errno.ENOSPC
        finally:
            os.close(fd)
        for tick in range(1000):
            jw.append("tick", tick=tick)
            if jw.reserve_released:
                break
        assert jw.reserve_released
        for fault in range(3):
            jw.append("revert-result", fault=fault, ok=True, name="latency", by="run")
    finally:
        jw.close(seal=True)
    read = reader.read(path)
    assert [e["type"] for e in read.events[-4:]] == ["revert-result"] * 3 + ["journal-sealed"]
    assert reader.verify(read) == []
