"""Every Chaos Toolkit tolerance kind, met and not met, checked by chaoslib's own code.

``runner.adapters.ctk.activities.within`` hands the tolerance to chaoslib's
``within_tolerance`` (on a copy); the hypothesis sentinel turns "not met" into a broken
halt. The values are what the providers return (an HTTP answer is a mapping with
``status``, ``headers`` and ``body``; a process one has ``status``, ``stdout``, ``stderr``).
"""

from __future__ import annotations

from typing import Any

import pytest

from runner import ports
from runner.adapters.ctk import activities, sentinel, session
from runner.model import loader

HTTP = {"status": 200, "headers": {}, "body": {"status": "ok", "items": [1, 2, 3],
                                               "version": "1.2.3"}}
TEXT = {"status": 200, "headers": {}, "body": "service is up (v1.2.3)"}
PROC = {"status": 0, "stdout": "42\n", "stderr": ""}
PROBE = {"type": "probe", "name": "judge", "provider": {
    "type": "python", "module": "tests.ctk.stub", "func": "healthy_body", "arguments": {}}}

CASES: list[tuple[str, Any, Any, bool]] = [
    ("bool met", True, True, True),
    ("bool not met", True, False, False),
    ("int met", 0, 0, True),
    ("int on an HTTP status", 200, HTTP, True),
    ("int not met", 200, {**HTTP, "status": 500}, False),
    ("str met", "ok", "ok", True),
    ("str not met", "ok", "ko", False),
    ("list as a pair of bounds", [0, 10], 5, True),
    ("list bounds not met", [0, 10], 11, False),
    ("list of statuses", [200, 503], HTTP, True),
    ("list of statuses not met", [200, 503], {**HTTP, "status": 500}, False),
    ("list membership", ["a", "b", "c"], "b", True),
    ("list membership not met", ["a", "b", "c"], "z", False),
    ("range met", {"type": "range", "range": [0, 100], "target": "stdout"}, PROC, True),
    ("range not met", {"type": "range", "range": [0, 10], "target": "stdout"}, PROC, False),
    ("range on no number", {"type": "range", "range": [0, 10]}, "many", False),
    ("regex met", {"type": "regex", "pattern": r"v1\.2\.\d+", "target": "body"}, TEXT, True),
    ("regex not met", {"type": "regex", "pattern": r"v2\.", "target": "body"}, TEXT, False),
    ("regex with a placeholder", {"type": "regex", "pattern": "${release}", "target": "body"},
     TEXT, True),
    ("jsonpath expect met", {"type": "jsonpath", "path": "$.status", "expect": "ok",
                             "target": "body"}, HTTP, True),
    ("jsonpath expect not met", {"type": "jsonpath", "path": "$.status", "expect": "down",
                                 "target": "body"}, HTTP, False),
    ("jsonpath count met", {"type": "jsonpath", "path": "$.items[*]", "count": 3,
                            "target": "body"}, HTTP, True),
    ("jsonpath count not met", {"type": "jsonpath", "path": "$.items[*]", "count": 2,
                                "target": "body"}, HTTP, False),
    ("jsonpath presence", {"type": "jsonpath", "path": "$.version", "target": "body"},
     HTTP, True),
    ("jsonpath absence", {"type": "jsonpath", "path": "$.missing", "target": "body"},
     HTTP, False),
    ("probe met", PROBE, {"body": {"healthy": True}}, True),
    ("probe not met", PROBE, {"body": {"healthy": False}}, False),
    ("a regex on a mapping cannot be checked", {"type": "regex", "pattern": "x"}, HTTP,
     False),
]


@pytest.fixture(scope="module")
def ctk_session() -> session.Session:
    exp = loader.load_text('{"title": "t", "description": "d", "method": [], '
                           '"configuration": {"release": "v1\\\\.2"}}', "<test>")
    found = session.Session(exp)
    found.resolve()
    return found


@pytest.mark.parametrize(("tolerance", "value", "met"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_tolerance_kind_is_judged_by_chaoslib(tolerance: Any, value: Any, met: bool,
                                                   ctk_session: session.Session) -> None:
    found, detail = activities.within(tolerance, value, ctk_session)
    assert found is met, detail
    assert detail


def test_the_tolerance_given_is_never_changed_by_the_check(
        ctk_session: session.Session) -> None:
    tolerance = {"type": "probe", "name": "judge", "provider": dict(PROBE["provider"])}
    activities.within(tolerance, {"body": {"healthy": True}}, ctk_session)
    assert "value" not in tolerance["provider"]["arguments"]  # type: ignore[operator]


def _exp(tolerance: Any) -> session.Session:
    import json

    doc = {"title": "t", "description": "d", "method": [], "steady-state-hypothesis": {
        "title": "echo", "probes": [{"type": "probe", "name": "echo", "tolerance": tolerance,
                                     "provider": {"type": "process", "path": "echo",
                                                  "arguments": "42"}}]}}
    found = session.Session(loader.load_text(json.dumps(doc), "<test>"))
    found.resolve()
    return found


@pytest.mark.parametrize(("tolerance", "met"), [
    ({"type": "range", "range": [40, 50], "target": "stdout"}, True),
    ({"type": "range", "range": [0, 1], "target": "stdout"}, False),
])
def test_the_hypothesis_sentinel_halts_as_broken_when_a_tolerance_is_not_met(
        tolerance: Any, met: bool) -> None:
    checks = sentinel.Hypothesis(_exp(tolerance))
    recorded: list[tuple[str, Any]] = []
    halt = checks.check(ports.Checkpoint("baseline", tick=0,
                                         record=lambda t, p: recorded.append((t, p))))
    assert (halt is None) is met
    assert recorded[0][0] == "tolerance" and recorded[0][1]["met"] is met
    if halt is not None:
        assert halt.kind == "tolerance" and halt.broken
        assert "before the method" in halt.reason and "'echo'" in halt.reason


@pytest.mark.parametrize(("strategy", "phases"), [
    (None, ["before", "during", "during", "after"]),
    ("default", ["before", "after"]),
    ("before-method-only", ["before"]),
    ("after-method-only", ["after"]),
    ("during-method-only", ["during", "during"]),
    ("continuously", ["before", "during", "during", "after"]),
])
def test_each_strategy_checks_at_its_moments(strategy: str | None, phases: list[str]) -> None:
    now = [0.0]
    checks = sentinel.Hypothesis(_exp({"type": "range", "range": [40, 50],
                                       "target": "stdout"}), strategy, 5.0,
                                 monotonic=lambda: now[0])
    for phase, at in (("baseline", 0.0), ("baseline", 0.5), ("inject", 1.0), ("pause", 2.0),
                      ("watch", 3.0), ("watch", 4.0), ("after", 5.0)):
        now[0] = at
        assert checks.check(ports.Checkpoint(phase)) is None
    assert [when for when, _state in checks.states] == phases
