"""A journal that was tampered with still gets its reports, with the break at the top of
every format, and every report records the journal's head (so a later cut shows)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from runner import report
from tests.engine.conftest import Harness
from tests.report.conftest import broken_after, reports


def _edit_a_tick(path: Path) -> int:
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"type":"tick"' in line)
    event = json.loads(lines[index])
    event["samples"]["errors"]["e"] = 0.0  # a reviewer-pleasing edit
    event["samples"]["errors"]["n"] = 12345.0
    lines[index] = json.dumps(event, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    return index + 1  # the event whose content no longer matches its hash (1-based)


def test_an_edited_journal_is_reported_broken_at_the_top_of_every_format(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness(script=broken_after(13))
    h.run()
    line = _edit_a_tick(h.journal_path)
    written = report.write(h.journal_path, tmp_path / "out")
    assert written.integrity and f"event {line} " in written.integrity[0]
    out = {p.name: p.read_text() for p in written.paths}
    assert out["report.md"].startswith("> **JOURNAL INTEGRITY BROKEN")
    assert f"event {line} " in out["report.md"].split("# ", 1)[0]
    body = out["report.html"].split("<body>", 1)[1]
    assert body.lstrip().startswith('<div class="integrity" id="integrity"')
    junit = out["junit.xml"]
    assert 'name="gameday.journal_integrity" value="BROKEN' in junit
    assert junit.index("journal integrity") < junit.index("probe: errors")
    assert 'errors="1"' in junit
    assert "JOURNAL INTEGRITY BROKEN" in junit.split("</testcase>")[-1]  # suite system-out


def test_every_report_records_the_head_and_says_whether_the_journal_was_sealed(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness()
    h.run()
    out = reports(h.journal_path, tmp_path / "a")
    lines = h.journal_path.read_bytes().splitlines()
    head = hashlib.sha256(lines[-1]).hexdigest()
    for name in ("report.md", "report.html", "junit.xml"):
        assert head in out[name], name
    seal = json.loads(lines[-1])
    assert seal["type"] == "journal-sealed"
    assert f"- journal seal: sealed: seq {seal['seq']}" in out["report.md"]
    assert 'name="gameday.journal_sealed" value="yes"' in out["junit.xml"]
    assert "journal integrity: intact" in out["report.md"]
    h.journal_path.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # the seal cut away
    cut = reports(h.journal_path, tmp_path / "b")
    assert cut["report.md"].startswith("> **JOURNAL INTEGRITY BROKEN")
    assert "does not end in a seal" in cut["report.md"].split("# ", 1)[0]
    assert "not sealed" in cut["report.md"]
    assert 'name="gameday.journal_sealed" value="no"' in cut["junit.xml"]


def test_a_corrupt_line_in_the_middle_is_named_and_the_rest_is_still_reported(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness(script=broken_after(13))
    h.run()
    lines = h.journal_path.read_text().splitlines()
    middle = len(lines) // 2
    lines[middle] = "{not json at all"
    h.journal_path.write_text("\n".join(lines) + "\n")
    written = report.write(h.journal_path, tmp_path / "out")
    assert any(f"line {middle + 1}: not a gameday journal event" in p for p in written.integrity)
    md = (tmp_path / "out" / "report.md").read_text()
    assert "**Verdict: broken (exit 1)**" in md  # what could be read is still there


def test_a_torn_last_line_is_said_and_is_not_a_break(harness: Callable[..., Harness],
                                                    tmp_path: Path) -> None:
    h = harness()
    h.run()
    with h.journal_path.open("ab") as fh:
        fh.write(b'{"seq": 999, "type": "tick", "ph')
    written = report.write(h.journal_path, tmp_path / "out")
    assert written.integrity == ()
    assert "a torn last line, cut by a crash, was ignored" in (
        tmp_path / "out" / "report.md").read_text()
