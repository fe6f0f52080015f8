"""Reports for a whole day: Markdown and HTML for people, JUnit for CI.

Built from the day journal and the run journals it links, with ``runner.report``'s own
pieces for each run (its scan, its facts, its JUnit testsuite), so a day's report and a
run's report cannot tell different stories. Decisions:

- The day journal's integrity comes first, as in a run's report; each linked run is
  checked against its link: the sha256 of the run journal's final line must still be
  what the day recorded (a run journal appended to later, by ``gameday revert``, or cut,
  shows as changed since the day linked it).
- A table of experiments (state, exit code, reason, links to each run's report.md and
  report.html, relative to the report), then each experiment's gates with their numbers.
- JUnit: one ``testsuite`` per experiment. An experiment that ran is its run's own
  testsuite (``runner.report.junit``) renamed after the day and the experiment, with a
  ``gates`` testcase first and properties linking the run's reports; one that did not
  run is a suite with its gates and a testcase that is an error (refused) or skipped.
"""

from __future__ import annotations

import dataclasses
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from runner import errors
from runner.day import records
from runner.journal import integrity, reader
from runner.report import fmt, junit, scan, summary

NAMES = ("day-report.md", "day-report.html", "day-junit.xml")


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    state: str
    exit_code: int | None
    reason: str
    journal: str | None
    reports: tuple[tuple[str, str], ...]  # (label, path relative to the report)
    gates: tuple[Mapping[str, Any], ...]
    link: str  # "intact", "changed since the day linked it", "not linked", ...
    junit: ET.Element | None


@dataclasses.dataclass(frozen=True)
class DayFacts:
    path: Path
    title: str
    source: str
    sha256: str
    started_at: float | None
    ended_at: float | None
    exit_code: int | None
    reason: str
    rows: tuple[Row, ...]
    problems: tuple[str, ...]
    resumed: int


def locate(path: Path | str) -> Path:
    candidate = Path(path)
    if candidate.is_dir():
        candidate = candidate / records.JOURNAL_NAME
    return reader.locate(candidate)


def gather(path: Path | str, *, key: bytes | None = None, out: Path | None = None) -> DayFacts:
    journal_path = locate(path)
    read = reader.read(journal_path, key=key)
    check = integrity.check(read, key=key)
    told = records.summarize(read.events)
    if told.started is None:
        raise errors.InputError(f"{journal_path} is not a day journal (no day-started event); "
                                "`gameday report` writes a run's reports.")
    here = out or journal_path.parent
    rows = tuple(_row(entry, here, key) for entry in told.entries.values())
    verdict = told.verdict or {}
    started = told.started
    return DayFacts(
        path=journal_path, title=str(started.get("title")), source=str(started.get("source")),
        sha256=str(started.get("day_sha256")), started_at=_ts(started),
        ended_at=_ts(verdict) if verdict else None,
        exit_code=verdict.get("exit_code") if verdict else None,
        reason=str(verdict.get("reason") or "the day has not ended (still running, or it "
                   "died: `gameday day resume` finishes it)"),
        rows=rows, problems=tuple(check.problems), resumed=told.resumed)


def _ts(event: Mapping[str, Any]) -> float | None:
    value = event.get("ts")
    return float(value) if isinstance(value, int | float) else None


def _row(entry: records.Entry, here: Path, key: bytes | None) -> Row:
    linked = entry.linked or {}
    journal = str(linked.get("journal") or entry.journal or "") or None
    reports: list[tuple[str, str]] = []
    link = "no run" if journal is None else "not linked (the run did not end in this day)"
    suite: ET.Element | None = None
    if journal is not None and Path(journal).exists():
        run_dir = Path(journal).parent
        for name in ("report.md", "report.html", "junit.xml"):
            if (run_dir / name).exists():
                reports.append((name, os.path.relpath(run_dir / name, here)))
        try:
            found = scan.scan(journal, key=key)
            facts = summary.summarize(found)
            # our own JUnit text, just rendered: not untrusted input
            suite = ET.fromstring(junit.render(facts)).find("testsuite")  # noqa: S314
            if linked:
                now = found.head.sha256 if found.head else None
                link = "intact" if now == linked.get("final_line_sha256") else \
                    "CHANGED since the day linked it (appended or cut later)"
        except errors.GamedayError as exc:
            link = f"unreadable: {exc.message}"
    elif journal is not None:
        link = "MISSING: the run journal is gone"
    return Row(entry.id, entry.state, entry.exit_code, entry.reason, journal, tuple(reports),
               entry.gates, link, suite)


# -- Markdown -------------------------------------------------------------------------

def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(facts: DayFacts) -> str:
    lines: list[str] = []
    if facts.problems:
        lines += ["> **The day journal's integrity is NOT intact:**", ">",
                  *[f"> - {_cell(p)}" for p in facts.problems], ""]
    code = "-" if facts.exit_code is None else str(facts.exit_code)
    lines += [f"# Game day: {facts.title}", "", f"**Day exit {code}** — {facts.reason}", "",
              f"- source: {facts.source} (sha256 {facts.sha256[:16]})",
              f"- started: {fmt.stamp(facts.started_at)}; ended: {fmt.stamp(facts.ended_at)}",
              f"- journal: {facts.path}" + (f" (resumed {facts.resumed} time(s))"
                                            if facts.resumed else ""), "",
              "## Experiments", "", "| # | experiment | state | exit | reason | reports | "
              "run journal |", "|---|---|---|---|---|---|---|"]
    for number, row in enumerate(facts.rows, start=1):
        links = " ".join(f"[{label}]({target})" for label, target in row.reports) or "-"
        exit_text = "-" if row.exit_code is None else str(row.exit_code)
        lines.append(f"| {number} | {_cell(row.id)} | **{row.state}** | {exit_text} | "
                     f"{_cell(row.reason)} | {links} | {_cell(row.link)} |")
    lines += ["", "## Gates", ""]
    for row in facts.rows:
        for gate in row.gates:
            mark = "open" if gate.get("ok") else "**CLOSED**"
            lines.append(f"- {_cell(row.id)} · {gate.get('gate')}: {mark} — "
                         f"{_cell(gate.get('sentence'))}")
    if not any(row.gates for row in facts.rows):
        lines.append("No gate was evaluated.")
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gameday day: {{ f.title }}</title>
<style>
 body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1120px;
        padding: 0 1rem; }
 .integrity { background: #c5221f; color: #fff; padding: .8rem 1rem; border-radius: 6px; }
 .verdict { padding: .8rem 1rem; border-radius: 6px; margin: 1rem 0; }
 .ok { background: #e6f4ea; border-left: 6px solid #188038; }
 .bad { background: #fce8e6; border-left: 6px solid #c5221f; }
 table { border-collapse: collapse; width: 100%; font-size: 13px; }
 th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 7px; text-align: left;
          vertical-align: top; }
 th { background: #f5f5f7; }
</style></head><body>
{% if f.problems %}<div class="integrity" role="alert"><strong>The day journal's integrity
is NOT intact</strong><ul>{% for p in f.problems %}<li>{{ p }}</li>{% endfor %}</ul></div>
{% endif %}
<h1>Game day: {{ f.title }}</h1>
<div class="verdict {{ 'ok' if f.exit_code == 0 else 'bad' }}"><strong>Day exit
{{ '-' if f.exit_code is none else f.exit_code }}</strong> — {{ f.reason }}</div>
<p>{{ f.source }} (sha256 {{ f.sha256[:16] }}) · started {{ started }} · ended {{ ended }}</p>
<h2>Experiments</h2>
<table><thead><tr><th>#</th><th>experiment</th><th>state</th><th>exit</th><th>reason</th>
<th>reports</th><th>run journal</th></tr></thead><tbody>
{% for r in f.rows %}<tr><td>{{ loop.index }}</td><td>{{ r.id }}</td><td><strong>{{ r.state }}
</strong></td><td>{{ '-' if r.exit_code is none else r.exit_code }}</td><td>{{ r.reason }}</td>
<td>{% for label, target in r.reports %}<a href="{{ target }}">{{ label }}</a> {% endfor %}
</td><td>{{ r.link }}</td></tr>
{% endfor %}</tbody></table>
<h2>Gates</h2><ul>
{% for r in f.rows %}{% for g in r.gates %}<li>{{ r.id }} · {{ g.gate }}:
{{ 'open' if g.ok else 'CLOSED' }} — {{ g.sentence }}</li>{% endfor %}{% endfor %}
</ul></body></html>
"""


def html(facts: DayFacts) -> str:
    env = jinja2.Environment(autoescape=jinja2.select_autoescape(default_for_string=True),
                             undefined=jinja2.StrictUndefined)
    return env.from_string(_HTML).render(f=facts, started=fmt.stamp(facts.started_at),
                                         ended=fmt.stamp(facts.ended_at))


# -- JUnit --------------------------------------------------------------------------

def _case(suite: ET.Element, name: str, classname: str, outcome: str | None = None,
          message: str = "") -> ET.Element:
    node = ET.Element("testcase", name=name, classname=classname, time="0.000")
    if outcome is not None:
        child = ET.SubElement(node, outcome, message=message[:1000])
        if outcome != "skipped":
            child.set("type", f"gameday.{outcome}")
            child.text = message
    return node


def junit_xml(facts: DayFacts) -> str:
    root = ET.Element("testsuites", name=f"gameday day: {facts.title}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for index, row in enumerate(facts.rows):
        classname = f"gameday.day.{row.id}"
        closed = [g for g in row.gates if not g.get("ok")]
        gates_case = _case(ET.Element("x"), "gates", classname,
                           "error" if closed else None,
                           "; ".join(str(g.get("sentence")) for g in closed))
        if row.junit is not None:
            suite = row.junit
            suite.set("name", f"{facts.title} / {row.id}")
            suite.set("id", str(index))
            suite.insert(1, gates_case)
        else:
            suite = ET.Element("testsuite", name=f"{facts.title} / {row.id}", id=str(index),
                               time="0.000", hostname="localhost")
            suite.append(gates_case)
            outcome = "skipped" if row.state in ("skipped", "queued") else \
                None if row.state == "held" else "error"
            suite.append(_case(suite, "run", classname, outcome, row.reason or row.state))
        props = suite.find("properties")
        if props is None:
            props = ET.Element("properties")
            suite.insert(0, props)
        for name, value in (("gameday.day.experiment", row.id),
                            ("gameday.day.state", row.state),
                            ("gameday.day.link", row.link),
                            *((f"gameday.day.report.{label}", target)
                              for label, target in row.reports)):
            ET.SubElement(props, "property", name=name, value=value)
        cases = suite.findall("testcase")
        counts = {k: sum(1 for c in cases if c.find(k) is not None)
                  for k in ("failure", "error", "skipped")}
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(counts["failure"]))
        suite.set("errors", str(counts["error"]))
        suite.set("skipped", str(counts["skipped"]))
        totals["tests"] += len(cases)
        totals["failures"] += counts["failure"]
        totals["errors"] += counts["error"]
        totals["skipped"] += counts["skipped"]
        root.append(suite)
    for total, count in totals.items():
        root.set(total, str(count))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(path: Path | str, out: Path | None = None, *, key: bytes | None = None) -> list[Path]:
    """Write the three day reports (beside the day journal by default); their paths."""
    journal_path = locate(path)
    target = out or journal_path.parent
    facts = gather(journal_path, key=key, out=target)
    written = []
    for name, text in zip(NAMES, (markdown(facts), html(facts), junit_xml(facts)),
                          strict=True):
        try:
            target.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise errors.InputError(f"Cannot write the report {target / name}: "
                                    f"{exc.strerror}. Choose a writable --out.") from exc
        written.append(target / name)
    return written
