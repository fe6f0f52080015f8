"""Reports stay readable and complete on long, wide runs: summaries and decisive ticks in
the reports, every number in ticks.csv, the plot limited to the probes that matter; the
plot drawn in a helper process (``gameday report``) changes no byte."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report_bench
from runner import report
from runner.report import aside, plots, tables
from tests.report.conftest import reports

TICKS, PROBES = 200, 26


def test_a_long_wide_run_is_summarised_and_the_full_data_goes_to_the_csv(
        tmp_path: Path) -> None:
    journal = tmp_path / "run" / "journal.jsonl"
    report_bench.generate(journal, ticks=TICKS, probes=PROBES)
    out = reports(journal, tmp_path / "out")
    md = out["report.md"]
    for title in ("Baseline (before any fault): 20 ticks", "Fault window: 160 ticks",
                  "Recovery (after the revert): 20 ticks"):
        assert f"### {title}" in md
    ticks_section = md.split("## Ticks", 1)[1]
    rows = [line for line in ticks_section.splitlines() if line.startswith("| ")][1:]
    assert len(rows) < 3 * 2 * tables.EDGE + tables.MAX_DECISIVE
    assert "tick(s) not shown (all in ticks.csv and the journal)" in ticks_section
    assert "| stand out |" in ticks_section  # 30 probes: no column per probe
    abort_rows = [r for r in rows if "abort" in r]
    assert len(abort_rows) == 1 and "| **watch** | **160** |" in abort_rows[0]
    with (tmp_path / "out" / "ticks.csv").open(newline="") as fh:
        table = list(csv.reader(fh))
    assert len(table) == TICKS + 1
    header = table[0]
    assert {h.split(":")[0] for h in header[6:]} == {report_bench._name(i)
                                                      for i in range(PROBES)}
    assert [r[2] for r in table[1:]].count("watch") == 160
    hidden = PROBES - plots.MAX_PANELS
    assert f"{hidden} probe(s) with less evidence (and guardrails" in out["report.html"]
    assert out["report.html"].count("<tr") < 600


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_the_plot_drawn_aside_gives_the_same_files_byte_for_byte(tmp_path: Path) -> None:
    journal = tmp_path / "run" / "journal.jsonl"
    report_bench.generate(journal, ticks=60, probes=7)
    report.write(journal, tmp_path / "here")
    report.write(journal, tmp_path / "aside", plot_aside=True)
    assert _files(tmp_path / "aside") == _files(tmp_path / "here")


def test_a_helper_that_fails_or_dies_leaves_the_plot_to_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = tmp_path / "run" / "journal.jsonl"
    report_bench.generate(journal, ticks=30, probes=3)
    report.write(journal, tmp_path / "here")
    monkeypatch.setattr(aside.threading, "active_count", lambda: 1)  # fork even under xdist
    for name, helper in (("fails", _failing), ("dies", _dying)):
        monkeypatch.setattr(aside, "_serve", helper)
        report.write(journal, tmp_path / name, plot_aside=True)
        assert _files(tmp_path / name) == _files(tmp_path / "here"), name


def _failing(conn: Any) -> None:
    conn.recv()
    conn.send((False, None))


def _dying(conn: Any) -> None:
    os._exit(9)
