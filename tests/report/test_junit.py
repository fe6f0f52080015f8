"""JUnit as CI parsers read it: counts, times, properties, errors versus failures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import junitparser

from runner.model import experiment as model
from tests.engine.conftest import Harness, make_experiment
from tests.report.conftest import broken_after

Build = Callable[..., tuple[Harness, dict[str, str]]]


def _suite(text: str, tmp_path: Path) -> junitparser.TestSuite:
    path = tmp_path / "parsed.xml"
    path.write_text(text, encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    return suites[0]


def _outcomes(suite: junitparser.TestSuite) -> dict[str, str]:
    out: dict[str, str] = {}
    for case in suite:
        kinds = {type(r).__name__ for r in case.result}
        out[case.name] = ("failure" if "Failure" in kinds else "error" if "Error" in kinds
                          else "skipped" if "Skipped" in kinds else "passed")
    return out


def _properties(suite: junitparser.TestSuite) -> dict[str, Any]:
    return {p.name: p.value for p in suite.properties()}


def test_a_broken_steady_state_is_a_failure_of_the_probe_that_broke(
        run_reports: Build, tmp_path: Path) -> None:
    exp = make_experiment(recovery=model.Recovery(within=30.0))
    h, out = run_reports(exp=exp, script=broken_after(13))
    suite = _suite(out["junit.xml"], tmp_path)
    outcomes = _outcomes(suite)
    assert outcomes["probe: errors"] == "failure"
    assert outcomes["probe: ready"] == "passed"
    assert outcomes["revert #0 kill"] == outcomes["revert #1 slow"] == "passed"
    assert outcomes["journal integrity"] == outcomes["run"] == "passed"
    assert "recovery" in outcomes
    assert suite.failures == sum(v == "failure" for v in outcomes.values()) >= 1
    assert suite.errors == 0 and suite.tests == len(outcomes)
    assert suite.timestamp is not None and suite.timestamp.startswith("2023-11-14T22:13:20")
    assert suite.hostname == "localhost"  # the journal does not record the host
    assert suite.time is not None and suite.time > 0
    props = _properties(suite)
    assert props["gameday.run_id"] == "test-run" and props["gameday.seed"] == "3"
    assert "gameday.experiment_sha256" in props
    assert props["gameday.journal_integrity"] == "intact"
    last = h.journal_path.read_bytes().splitlines()[-1]
    import hashlib

    assert props["gameday.journal_head_sha256"] == hashlib.sha256(last).hexdigest()


def test_a_run_refused_at_the_baseline_is_an_error_not_a_failure(
        run_reports: Build, tmp_path: Path) -> None:
    _h, out = run_reports(script=broken_after(0))
    suite = _suite(out["junit.xml"], tmp_path)
    outcomes = _outcomes(suite)
    assert suite.failures == 0 and suite.errors >= 2
    assert outcomes["run"] == outcomes["baseline"] == "error"
    assert outcomes["probe: errors"] == "error"  # it is why the baseline did not hold
    assert outcomes["probe: ready"] == "skipped"
    assert outcomes["recovery"] == "skipped"


def test_a_held_run_passes_every_testcase(run_reports: Build, tmp_path: Path) -> None:
    exp = make_experiment(recovery=model.Recovery(within=30.0))
    _h, out = run_reports(exp=exp)
    suite = _suite(out["junit.xml"], tmp_path)
    outcomes = _outcomes(suite)
    assert set(outcomes.values()) == {"passed"}, outcomes
    assert outcomes.keys() >= {"fault #0 kill", "fault #1 slow", "recovery", "probe: errors"}


def test_a_failed_revert_is_an_error_that_names_it(run_reports: Build, tmp_path: Path) -> None:
    exp = dataclasses.replace(make_experiment(), duration=10.0)
    _h, out = run_reports(exp=exp, failures={"revert-1": 99})
    suite = _suite(out["junit.xml"], tmp_path)
    outcomes = _outcomes(suite)
    assert outcomes["revert #1 slow"] == "error" and outcomes["revert #0 kill"] == "passed"
    assert outcomes["run"] == "error"  # exit 5: a human must act
    case = next(c for c in suite if c.name == "revert #1 slow")
    assert "revert FAILED" in case.result[0].message
