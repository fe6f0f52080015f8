"""JUnit XML as CI parsers read it (Jenkins, GitLab, GitHub test reporters).

One ``<testsuites>`` with one ``<testsuite>`` per run, carrying ``tests``, ``failures``,
``errors``, ``skipped``, ``time``, ``timestamp`` (UTC, without a zone, as the common XSD
wants) and ``hostname`` ("localhost" when the journal does not record the host, as that
XSD prescribes), and ``<properties>`` that identify the run (run id, seed, experiment
hash, journal head).

Decision — failures versus errors, as CI users read them: a **failure** is a finding
(the steady state broke: a probe that was significant at the abort, a guardrail that
fired, an alert, a service that did not recover); an **error** is the run not being able
to say (refused before any fault, runner error, blind, interrupted, a fault that did
not take effect, a revert that failed or was not verified, a journal whose chain is
broken). Testcases: the journal's integrity, the run, preflight, baseline, each fault,
each probe, the recovery and each revert — the same set on every run of an experiment,
so CI trends line up; what could not be tested is ``skipped`` with the reason.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from runner.report import fmt, sections, series, summary, tables

FINDINGS = {"held", "broken", "not-recovered"}  # verdicts where the run itself worked


class _Suite:
    def __init__(self, facts: summary.Facts) -> None:
        self.facts = facts
        self.classname = "gameday." + (re.sub(r"[^A-Za-z0-9]+", "_", facts.title).strip("_")
                                       or "experiment")
        self.cases: list[ET.Element] = []
        self.counts = {"failure": 0, "error": 0, "skipped": 0}

    def case(self, name: str, seconds: float | None = None, *, outcome: str | None = None,
             message: str = "", out: str = "") -> None:
        node = ET.Element("testcase", name=name, classname=self.classname,
                          time=f"{max(0.0, seconds or 0.0):.3f}")
        if outcome is not None:
            self.counts[outcome] += 1
            child = ET.SubElement(node, outcome, message=message[:1000])
            if outcome != "skipped":
                child.set("type", "gameday." + outcome)
                child.text = message
        if out:
            ET.SubElement(node, "system-out").text = out
        self.cases.append(node)


def _span(facts: summary.Facts, phase: str) -> float | None:
    rows = facts.series.indices(phase)
    if not rows:
        return None
    return float(facts.series.ts[rows[-1]] - facts.series.ts[rows[0]]) + 0.0


def _probe(suite: _Suite, p: summary.Probe) -> None:
    facts = suite.facts
    name = f"probe: {p.name}"
    watch = facts.series.indices("watch")
    cal = p.calibration or {}
    seconds = _span(facts, "watch")
    if not watch:
        if cal.get("holds") is False:
            suite.case(name, _span(facts, "baseline"), outcome="error",
                       message=f"did not hold during the baseline (upper bound "
                       f"{fmt.num(cal.get('upper_bound'))} vs p0 {fmt.num(cal.get('p0'))}); "
                       "the run was refused before any fault")
        else:
            suite.case(name, outcome="skipped", message="not tested: no fault window ran ("
                       f"verdict {facts.verdict})")
        return
    idx = np.asarray(watch, dtype=np.int64)
    abort = facts.abort or {}
    evidence = abort.get("evidence") or {}
    if p.info.guardrail:
        fired = np.flatnonzero(tables.col(facts, p.name, "fired")[idx] == 1)
        if fired.size:
            i = watch[int(fired[0])]
            suite.case(name, seconds, outcome="failure", message=(
                f"guardrail fired at {tables.tick_name(facts, i)}: value "
                f"{fmt.num(tables.col(facts, p.name, 'value')[i])}, "
                f"{tables.summary_bounds(p)}"))
            return
        suite.case(name, seconds, out=f"stayed within {tables.summary_bounds(p)}")
        return
    log_e = tables.col(facts, p.name, "log_e")[idx]
    significant = np.flatnonzero(tables.col(facts, p.name, "significant")[idx] == 1)
    blamed = abort.get("kind") == "steady-state" and (
        p.name in (evidence.get("attribution") or ())
        or (not evidence.get("attribution") and evidence.get("leading") == p.name))
    known = log_e[~np.isnan(log_e)]
    final = f"final E {fmt.evalue(float(known[-1]) if known.size else None)}"
    if blamed or significant.size:
        when = tables.tick_name(facts, watch[int(significant[0])]) if significant.size else (
            f"the abort (watch tick {abort.get('tick')})")
        suite.case(name, seconds, outcome="failure", message=(
            f"steady state broken: significant from {when}; {final}; {p.info.describe()}"
            + ("" if significant.size else " (led the combined evidence)")))
        return
    blind = (evidence.get("no_data_streaks") or {}) if abort.get("kind") == "no-data" else {}
    if p.name in blind:
        suite.case(name, seconds, outcome="error", message=(
            f"no data for {blind[p.name]} tick(s): the run was blind and aborted"))
        return
    suite.case(name, seconds, out=f"held: {final}; {p.info.describe()}")


def _faults(suite: _Suite) -> None:
    for f in suite.facts.faults:
        name = f"fault #{f.index} {f.name}"
        effect = ("took effect: " if f.effect.ok else "did not take effect: ") + f.effect.detail \
            if f.effect else "effect not checked"
        if f.inject_ok is False:
            suite.case(name, f.inject_seconds, outcome="error",
                       message=f"failed to inject: {f.inject_error}")
        elif f.effect is not None and not f.effect.ok:
            suite.case(name, f.inject_seconds, outcome="error", message=effect)
        elif f.inject_ok is None:
            suite.case(name, outcome="error", message="no result journaled (the run died)")
        else:
            suite.case(name, f.inject_seconds, out=effect)


def _reverts(suite: _Suite) -> None:
    for f in suite.facts.faults:
        if not f.has_revert:
            continue
        name = f"revert #{f.index} {f.name}"
        verified = ("verified gone: " if f.verified.ok else "NOT verified gone: ") + \
            f.verified.detail if f.verified else "revert not verified (no check journaled)"
        if f.revert_ok is None:
            suite.case(name, outcome="error", message="PENDING: no revert result; run "
                       f"`gameday revert {suite.facts.path}` now")
        elif not f.revert_ok:
            suite.case(name, f.revert_seconds, outcome="error",
                       message=f"revert FAILED: {f.revert_error}; a human must act now")
        elif f.verified is not None and not f.verified.ok:
            suite.case(name, f.revert_seconds, outcome="error", message=verified)
        else:
            suite.case(name, f.revert_seconds, out=f"done by {f.revert_by}; {verified}")


def _run_cases(suite: _Suite) -> None:
    facts = suite.facts
    if facts.intact:
        suite.case("journal integrity", out=sections.head(facts))
    else:
        suite.case("journal integrity", outcome="error",
                   message="; ".join(sections.integrity(facts)))
    if facts.verdict in FINDINGS:
        suite.case("run", out=f"verdict {facts.verdict}: {facts.reason}")
    else:
        suite.case("run", outcome="error", message=f"{facts.verdict}: {facts.reason}")
    if facts.preflight_problems:
        suite.case("preflight", outcome="error", message="; ".join(facts.preflight_problems))
    else:
        suite.case("preflight")
    cal = facts.calibration
    if cal is None:
        suite.case("baseline", outcome="skipped", message="no baseline ran")
    elif cal.get("baseline_holds"):
        suite.case("baseline", _span(facts, "baseline"))
    else:
        suite.case("baseline", _span(facts, "baseline"), outcome="error", message=(
            "the steady state did not hold before any fault: "
            + ("; ".join(str(x) for x in cal.get("problems") or []) or "see the probes")))


def _recovery(suite: _Suite) -> None:
    rec = suite.facts.recovery
    abort = suite.facts.abort or {}
    if rec is None:
        suite.case("recovery", outcome="skipped", message="no recovery watch ran")
    elif rec.get("recovered"):
        suite.case("recovery", rec.get("seconds"), out=f"back {rec.get('seconds')} s after "
                   "the revert")
    else:
        suite.case("recovery", rec.get("seconds"), outcome="failure", message=(
            f"the steady state did not come back within {rec.get('seconds')} s"))
    if abort.get("kind") == "alert":
        suite.case("abort alerts", outcome="failure",
                   message=f"alert firing: {abort.get('reason')}")


def render(facts: summary.Facts) -> str:
    suite = _Suite(facts)
    _run_cases(suite)
    _faults(suite)
    for p in facts.probes:
        _probe(suite, p)
    _recovery(suite)
    _reverts(suite)
    duration = (facts.ended_at - facts.started_at) if facts.ended_at is not None \
        and facts.started_at is not None else 0.0
    started = facts.started_at if facts.started_at is not None else (
        facts.series.ts[0] if len(facts.series) else 0.0)
    attrs = {"name": f"gameday: {facts.title}", "tests": str(len(suite.cases)),
             "failures": str(suite.counts["failure"]), "errors": str(suite.counts["error"]),
             "skipped": str(suite.counts["skipped"]), "time": f"{duration:.3f}"}
    root = ET.Element("testsuites", attrs)
    node = ET.SubElement(root, "testsuite", {
        **attrs, "id": "0", "package": suite.classname, "hostname": facts.hostname or "localhost",
        "timestamp": datetime.datetime.fromtimestamp(started, tz=datetime.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S")})
    props = ET.SubElement(node, "properties")
    for key, value in _properties(facts).items():
        ET.SubElement(props, "property", name=key, value=value)
    node.extend(suite.cases)
    ET.SubElement(node, "system-out").text = "\n".join(
        [*sections.integrity(facts), f"verdict {facts.verdict}: {facts.reason}"])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _properties(facts: summary.Facts) -> dict[str, str]:
    h = facts.head
    out: dict[str, Any] = {
        "gameday.run_id": facts.run_id, "gameday.seed": facts.seed,
        "gameday.experiment_sha256": facts.sha256, "gameday.experiment": facts.source,
        "gameday.verdict": facts.verdict, "gameday.exit_code": facts.exit_code,
        "gameday.journal": facts.path,
        "gameday.journal_integrity": "intact" if facts.intact else "BROKEN: " + "; ".join(
            facts.integrity),
        "gameday.journal_head_sha256": h.sha256 if h else None,
        "gameday.journal_head_seq": h.seq if h else None,
        "gameday.journal_sealed": "yes" if facts.seal else "no",
        "gameday.timestamp_zone": "UTC",
        "gameday.ticks": len(facts.series),
        "gameday.phases": ", ".join(p for p in series.PHASES if facts.series.indices(p)),
    }
    return {k: "" if v is None else str(v) for k, v in out.items()}
