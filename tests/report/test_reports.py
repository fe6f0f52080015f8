"""Reports are pure functions of a journal: Markdown, HTML with a plot, JUnit."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from runner import ports, report
from runner.journal import reader
from runner.model import experiment as model
from tests.engine.conftest import Harness, make_experiment


def _broken(call: int, probe: model.Probe) -> ports.Sample:
    if isinstance(probe, model.GaugeProbe):
        return ports.Value(3.0)
    return ports.Counts(n=200, e=60 if call > 13 else 0)


def _reports(h: Harness, tmp_path: Path) -> dict[str, str]:
    h.run()
    paths = report.write_all(h.journal_path, tmp_path / "out")
    return {p.name: p.read_text() for p in paths}


def test_an_aborted_run_reports_the_abort_and_its_revert_latency_in_every_format(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    out = _reports(harness(script=_broken), tmp_path)
    assert "**Verdict: broken (exit 1)**" in out["report.md"]
    assert "Abort decision to all faults reverted" in out["report.md"]
    assert "Verdict: broken (exit 1)" in out["report.html"]
    assert 'src="data:image/png;base64,' in out["report.html"]
    root = ET.fromstring(out["junit.xml"].split("?>", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("errors") == "0"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["probe: errors"]


def test_html_escapes_whatever_the_journal_holds(harness: Callable[..., Harness],
                                                tmp_path: Path) -> None:
    exp = dataclasses.replace(make_experiment(), title="<script>alert(1)</script>")
    out = _reports(harness(exp=exp), tmp_path)
    assert "<script>alert(1)</script>" not in out["report.html"]
    assert "&lt;script&gt;" in out["report.html"]


def test_a_run_that_died_reports_pending_reverts_and_how_to_finish_them(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness()
    h.run()
    lines = h.journal_path.read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if '"type":"revert-result"' in line)
    h.journal_path.write_text("\n".join(lines[:cut]) + "\n")  # as if SIGKILLed here
    paths = report.write_all(h.journal_path, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Verdict: incomplete" in md and "gameday revert" in md
    assert "**PENDING: run `gameday revert` on this journal**" in md
    assert reader.verify(reader.read(h.journal_path)) == []
    assert [p.name for p in paths] == ["report.md", "report.html", "junit.xml",
                                       "chaostoolkit-journal.json", "ticks.csv"]


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_html_report_renders_in_a_real_browser_with_the_break_on_top(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness(script=_broken)
    h.run()
    lines = h.journal_path.read_text().splitlines()
    lines[7] = lines[7].replace('"tick":', '"edited":1,"tick":', 1)  # break the chain
    h.journal_path.write_text("\n".join(lines) + "\n")
    report.write_all(h.journal_path, tmp_path / "out")
    page = tmp_path / "out" / "report.html"
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'id="verdict"' in dom and "Verdict: broken" in dom
    assert dom.index('id="integrity"') < dom.index("<h1>")  # the break comes first
    assert "JOURNAL INTEGRITY BROKEN" in dom and "event 8 (seq 7, tick)" in dom
    for section in ('id="facts"', 'id="timeline"', 'id="faults"', 'id="probes"', 'id="ticks"'):
        assert section in dom, section
    assert 'src="data:image/png;base64,' in dom and "ABORT (steady-state)" in dom


def test_the_chaos_toolkit_journal_lists_faults_as_run_and_reverts_as_rollbacks(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    import json

    out = _reports(harness(script=_broken), tmp_path)
    ctk = json.loads(out["chaostoolkit-journal.json"])
    assert ctk["status"] == "completed" and ctk["deviated"] is True
    assert ctk["steady_states"]["before"]["steady_state_met"] is True
    assert [a["activity"]["name"] for a in ctk["run"]] == ["inject-0", "inject-1"]
    assert [a["activity"]["name"] for a in ctk["rollbacks"]] == ["revert-1", "revert-0"]
    assert all(a["status"] == "succeeded" for a in ctk["run"] + ctk["rollbacks"])
