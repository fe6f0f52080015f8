"""JUnit XML for CI: one test suite per run, one test case for the steady state and
one per fault revert, so a CI dashboard shows which part failed."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from runner.report import summary


def render(facts: summary.Facts) -> str:
    suite = ET.Element("testsuite", name=f"gameday: {facts.title}")
    cases = 0
    failures = 0
    steady = ET.SubElement(suite, "testcase", classname="gameday.steady_state",
                           name=facts.title)
    cases += 1
    if facts.verdict != "held":
        failures += 1
        tag = "failure" if facts.exit_code == 1 else "error"
        node = ET.SubElement(steady, tag, message=f"{facts.verdict}: {facts.reason}"[:1000])
        node.text = facts.reason
    for f in facts.faults:
        if not f.has_revert:
            continue
        case = ET.SubElement(suite, "testcase", classname="gameday.revert",
                             name=f"revert #{f.index} {f.name}")
        cases += 1
        if not f.revert_ok:
            failures += 1
            ET.SubElement(case, "failure", message=f.revert_error or "revert not done")
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
