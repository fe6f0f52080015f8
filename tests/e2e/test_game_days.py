"""Whole game days through the `gameday` command on the real local sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.journal import reader, recovery
from tests.e2e.conftest import ROOT, active_latency, gameday, ready, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


def _journal(journal_dir: Path) -> reader.Journal:
    (path,) = list(journal_dir.glob("*/journal.jsonl"))
    return reader.read(path)


def test_a_replica_kill_the_service_survives_holds(sandbox: Path, tmp_path: Path) -> None:
    done = gameday("run", ROOT / "experiments/local-replica-kill.yaml", "--sandbox", sandbox,
                   "--journal-dir", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    journal = _journal(tmp_path)
    verdict = journal.last("verdict")
    assert verdict is not None and verdict["verdict"] == "held"
    assert reader.verify(journal) == []
    assert recovery.pending_reverts(journal) == []
    intent = journal.first("fault-intent")
    assert intent is not None and len(intent["targets"]) == 1
    report = (journal.path.parent / "report.md").read_text()
    assert "Verdict: held" in report and intent["targets"][0] in report
    effect = journal.first("fault-effect")
    assert effect is not None and effect["ok"] is True
    assert effect["measured"]["killed"] == intent["targets"]
    verified = journal.first("revert-verified")
    assert verified is not None and verified["ok"] is True and "run again" in verified["detail"]
    assert wait_until(lambda: ready(sandbox) == 3)


def test_latency_that_breaks_the_p99_slo_aborts_within_a_few_ticks_and_is_reverted(
        sandbox: Path, tmp_path: Path) -> None:
    done = gameday("run", ROOT / "experiments/local-latency-p99.yaml", "--sandbox", sandbox,
                   "--journal-dir", tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    journal = _journal(tmp_path)
    abort = journal.last("abort")
    assert abort is not None and abort["kind"] == "steady-state"
    assert abort["tick"] <= 5
    if "p99 latency" not in abort["reason"]:  # the probes' combined evidence decided first
        rejecting = [e for e in journal.of_type("tick") if (e.get("stats") or {}).get("reject")]
        assert rejecting and rejecting[0]["stats"]["leading"] == "p99 latency", abort
    assert active_latency(sandbox) == []
    reverted = [e for e in journal.of_type("revert-result") if e["ok"]]
    assert len(reverted) == 1
    effect = journal.first("fault-effect")
    assert effect is not None and effect["ok"] is True, effect
    requested = effect["measured"]["requested_s"]
    assert 0.5 * requested <= effect["measured"]["added_s"] <= 3 * requested
    verified = journal.first("revert-verified")
    assert verified is not None and verified["ok"] is True
    report = (journal.path.parent / "report.md").read_text()
    assert "Abort decision to all faults reverted" in report
    junit = (journal.path.parent / "junit.xml").read_text()
    assert 'failures="1"' in junit


def test_plan_shows_the_replicas_a_run_would_hit_and_touches_nothing(sandbox: Path) -> None:
    before = ready(sandbox)
    runs: list[str] = []

    def planned_with_traffic() -> bool:  # a young sandbox has no rate over 1 m yet
        done = gameday("plan", ROOT / "experiments/local-replica-kill.yaml", "--sandbox", sandbox)
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout)
        return "events per tick now" in done.stdout

    assert wait_until(planned_with_traffic, timeout=60), runs[-1]
    out = runs[-1]
    assert "targets: demo-" in out
    assert "preflight: ok" in out
    assert "power check: 'error ratio': ~" in out  # today's traffic, from Prometheus
    assert "tick(s) of the 10-tick window" in out
    assert ready(sandbox) == before and active_latency(sandbox) == []


def test_report_regenerates_the_same_markdown_from_the_journal(sandbox: Path,
                                                               tmp_path: Path) -> None:
    done = gameday("run", ROOT / "experiments/local-latency-p99.yaml", "--sandbox", sandbox,
                   "--journal-dir", tmp_path)
    assert done.returncode == 1
    journal = _journal(tmp_path)
    original = (journal.path.parent / "report.md").read_text()
    out = tmp_path / "again"
    regen = gameday("report", journal.path, "--out", out)
    assert regen.returncode == 0, regen.stderr
    assert (out / "report.md").read_text() == original
    shown = gameday("journal", "show", journal.path)
    assert shown.returncode == 0 and "hash chain intact" in shown.stdout
    assert json.loads(journal.path.read_text().splitlines()[0])["type"] == "run-started"
