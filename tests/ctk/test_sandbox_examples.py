"""The shipped Chaos Toolkit examples (experiments/ctk/) against the real local sandbox.

The replica kill runs under ``chaos run`` and ``gameday run`` alike (same activities,
same rollbacks, nothing deviates); the latency example uses the gameday extension
(a sequential p99 test on the sandbox's Prometheus, a 20 s window after the method)
and must hold, its injection removed by its rollback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ctk import conftest as ctk
from tests.e2e import conftest as e2e

EXAMPLES = ctk.ROOT / "experiments" / "ctk"
pytestmark = [pytest.mark.slow, pytest.mark.prometheus, pytest.mark.timeout(600)]


def test_the_replica_kill_example_means_the_same_to_chaos_run_and_gameday(
        sandbox: Path, tmp_path: Path) -> None:
    env = {"GAMEDAY_SANDBOX": str(sandbox)}
    path = EXAMPLES / "sandbox-replica-kill.json"
    (tmp_path / "g").mkdir()
    (tmp_path / "c").mkdir()
    ours = ctk.run_gameday(path, tmp_path / "g", "-", env=env)
    assert e2e.wait_until(lambda: e2e.ready(sandbox) == 3, timeout=30)
    theirs = ctk.run_chaos(path, tmp_path / "c", "-", env=env)
    assert e2e.wait_until(lambda: e2e.ready(sandbox) == 3, timeout=30)
    assert ours.code == 0, ours.out + ours.err
    assert ours.journal is not None and theirs.journal is not None
    for journal in (ours.journal, theirs.journal):
        assert journal["deviated"] is False
        assert [r["activity"]["name"] for r in journal["run"]] == [
            "kill-one-replica", "replicas-after-the-kill"]
        assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [
            ("restart-replicas", "succeeded")]


def test_the_latency_example_holds_under_gameday_statistics_and_removes_its_injection(
        sandbox: Path, tmp_path: Path) -> None:
    ran = ctk.run_gameday(EXAMPLES / "sandbox-latency-slo.yaml", tmp_path, "-",
                          env={"GAMEDAY_SANDBOX": str(sandbox)})
    assert ran.code == 0, ran.out + ran.err
    assert ran.of("calibration") and ran.of("tick")  # the extension's sequential test ran
    assert [e["when"] for e in ran.of("tolerance")][:1] == ["before"]
    assert ran.of("observation")[0]["name"] == "watch-the-injection"
    assert e2e.active_latency(sandbox) == []
