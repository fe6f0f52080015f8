"""``gameday plan`` on a local experiment loads only what a plan needs.

Its start-up is most of its cost (README "Benchmarks", ``benchmarks/tick_bench.py``), so
what it does not use stays unimported: numpy and the sequential tests (the power check
runs on plain math at the sandbox's traffic), the other commands' modules (click
resolves them lazily), the sandbox's servers and manager, and the run records. Checked
in a fresh interpreter, through the real CLI, against the session's live sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import json, sys
from runner.cli import main
try:
    main.main(["plan", *sys.argv[1:]])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

#: Modules (and packages, with everything under them) a plan must not import.
NOT_FOR_PLAN = (
    "numpy", "scipy", "tenacity", "prometheus_client", "kubernetes", "chaoslib",
    "runner.stats.monitor", "runner.stats.betting", "runner.stats.negbin",
    "runner.cli.day", "runner.cli.guard", "runner.cli.journals", "runner.cli.k8s",
    "runner.cli.replay", "runner.cli.stopping", "runner.cli.live", "runner.cli.runs",
    "runner.sandbox.manager", "runner.sandbox.supervisor", "runner.adapters.locks",
    "runner.journal", "runner.engine", "runner.day", "runner.report",
)


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_plan_of_a_local_experiment_imports_only_what_it_uses(cli_sandbox: Path) -> None:
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")])}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(ROOT / "experiments" / "local-latency-p99.yaml"),
         "--sandbox", str(cli_sandbox), "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    plan = json.loads(done.stdout[:done.stdout.rindex("\n{")])
    assert result["code"] == 0 and plan["ok"] is True, plan["problems"]
    assert [row["decided_at"] for row in plan["power"]] == [None, None]  # the check ran
    assert [m for m in NOT_FOR_PLAN if _loaded(result["modules"], m)] == []
    assert "runner.stats.power" in result["modules"]
