"""The gameday_local extension works from a plain Chaos Toolkit run (`chaos run`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import gameday_local.probes as probes
from runner.sandbox import procs

EXTENSIONS = procs.package_root() / "extensions"


def _activity(kind: str, name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": kind, "name": name,
            "provider": {"type": "python", "module": f"gameday_local.{module}", "func": func,
                         "arguments": arguments}}


def test_a_plain_chaos_run_kills_a_replica_adds_latency_and_rolls_back(
        sandbox_dir: Path, tmp_path: Path) -> None:
    chaos = shutil.which("chaos")
    if chaos is None:
        pytest.skip("the `chaos` command (chaostoolkit) is not installed")
    sandbox = str(sandbox_dir)
    restarts_before = {r["name"]: r["restarts"] for r in probes.list_replicas(sandbox)}
    experiment = {
        "version": "1.0.0",
        "title": "The demo service survives losing one replica",
        "description": "gameday_local from plain Chaos Toolkit",
        "steady-state-hypothesis": {
            "title": "every replica is ready",
            "probes": [{**_activity("probe", "ready-replicas", "probes", "ready_replicas",
                                    sandbox=sandbox), "tolerance": 3}],
        },
        "method": [
            _activity("action", "kill-one-replica", "actions", "kill_replicas",
                      sandbox=sandbox, count=1, seed=4),
            _activity("action", "slow-down", "actions", "add_latency",
                      sandbox=sandbox, delay=0.01, ttl=30.0, injection_id="chaos-run"),
            _activity("probe", "latency-live", "probes", "active_latency", sandbox=sandbox),
            _activity("action", "wait-for-replicas", "actions", "restore_replicas",
                      sandbox=sandbox, timeout=10.0, wait_ready=True),
        ],
        "rollbacks": [
            _activity("action", "remove-latency", "actions", "remove_latency",
                      sandbox=sandbox, injection_id="chaos-run"),
        ],
    }
    (tmp_path / "exp.json").write_text(json.dumps(experiment), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(procs.package_root()), str(EXTENSIONS),
                                         env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [chaos, "run", "--journal-path", str(tmp_path / "journal.json"), "exp.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    journal = json.loads((tmp_path / "journal.json").read_text(encoding="utf-8"))
    assert journal["status"] == "completed"
    assert journal["steady_states"]["before"]["steady_state_met"] is True
    assert journal["steady_states"]["after"]["steady_state_met"] is True
    outputs = {run["activity"]["name"]: run for run in journal["run"]}
    assert all(run["status"] == "succeeded" for run in journal["run"])
    killed = outputs["kill-one-replica"]["output"]
    assert len(killed) == 1
    assert [i["id"] for i in outputs["latency-live"]["output"]] == ["chaos-run"]
    assert journal["rollbacks"][0]["output"] == 1
    # The effect is real: the killed replica was restarted, and the latency is gone.
    after = {r["name"]: r["restarts"] for r in probes.list_replicas(sandbox)}
    assert after[killed[0]] == restarts_before[killed[0]] + 1
    assert probes.active_latency(sandbox) == []
