"""Fault-effect and revert-verification results: rendered when journaled, "not checked"
when not (never "ok" by default), and a failed check is an error in JUnit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.engine.conftest import Harness
from tests.report.conftest import append, reports


def test_without_checks_in_the_journal_every_format_says_not_checked(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness()
    h.run()
    out = reports(h.journal_path, tmp_path / "out")
    faults = out["report.md"].split("## Faults", 1)[1].split("## Probes", 1)[0]
    # the fake platform cannot check effects (ok None) but verifies its reverts
    assert faults.count("not checked") == 2
    assert "NO: not checked" not in faults
    assert faults.count("gone (fake)") == 2
    assert "effect not checked" in out["junit.xml"]


def test_journaled_checks_are_shown_with_what_was_measured(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness()
    h.run()
    append(h.journal_path,
           ("fault-effect", {"fault": 1, "name": "slow", "ok": True,
                             "detail": "added latency seen by clients",
                             "measured": {"added_ms": 412, "requested_ms": 400}}),
           ("fault-effect", {"fault": 0, "name": "kill", "ok": False,
                             "detail": "the pod UID is still running"}),
           ("revert-verified", {"fault": 1, "name": "slow", "ok": True,
                                "detail": "the proxy lists no injection"}),
           ("revert-verified", {"fault": 0, "name": "kill", "ok": False,
                                "detail": "2 of 3 replicas after 60 s"}))
    out = reports(h.journal_path, tmp_path / "out")
    md = out["report.md"]
    assert "yes: added latency seen by clients (added_ms 412, requested_ms 400)" in md
    assert "**NO: the pod UID is still running**" in md
    assert "gone: the proxy lists no injection" in md
    assert "**NOT GONE: 2 of 3 replicas after 60 s**" in md
    assert "fault #0 kill DID NOT take effect as requested" in md  # the timeline too
    assert "revert of fault #0 kill NOT verified gone" in out["report.html"]
    junit = out["junit.xml"]
    assert 'message="did not take effect: the pod UID is still running"' in junit
    assert 'message="NOT verified gone: 2 of 3 replicas after 60 s"' in junit
    assert "took effect: added latency seen by clients" in junit


def test_an_effect_the_platform_could_not_check_is_not_shown_as_failed(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = harness()
    h.run()
    out = reports(h.journal_path, tmp_path / "out")
    md = out["report.md"]
    assert "effect not checked" in md
    assert "DID NOT take effect" not in md
