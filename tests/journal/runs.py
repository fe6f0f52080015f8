"""Journals of runs that died with faults live, written the way the engine writes them.

The experiment is a real file, loaded by the real loader, so ``run-started`` records
what a run records (the document as loaded, the file's sha256, its path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.journal import writer
from runner.model import loader

RUN_ID = "run-1"
SANDBOX = "/tmp/sandbox-of-run-1"
EXPERIMENT = """\
version: 1
title: latency and a scale-down
owner: test-sre
target: {platform: local, selector: app=demo}
prometheus: {url: sandbox, tick: 2s}
steady_state:
  alpha: 0.05
  baseline: 10s
  probes:
    - name: error ratio
      ratio: {errors: 'errors_total', total: 'requests_total'}
      max: 5%
faults:
  - latency: {selector: app=demo, delay: 400ms}
  - action: {provider: {type: python, module: ops.scale, func: down, arguments: {replicas: 1}}}
    revert: {provider: {type: python, module: ops.scale, func: up, arguments: {replicas: 3}}}
duration: 30s
"""


def latency_revert(injection_id: str | None = f"{RUN_ID}-0") -> dict[str, Any]:
    return {"type": "action", "name": "revert latency[0]",
            "provider": {"type": "python", "module": "gameday_local.actions",
                         "func": "remove_latency",
                         "arguments": {"sandbox": SANDBOX, "injection_id": injection_id}}}


def planned(action: dict[str, Any], revert: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan of the experiment above, as the local platform makes it."""
    return [
        {"fault": 0, "name": "latency", "kind": "latency", "targets": ["demo-0"],
         "description": "400 ms", "expires_at": None, "revert": latency_revert(),
         "action": {"type": "action", "name": "latency[0]", "provider": {
             "type": "python", "module": "gameday_local.actions", "func": "add_latency",
             "arguments": {"sandbox": SANDBOX, "delay": 0.4, "injection_id": f"{RUN_ID}-0"}}}},
        {"fault": 1, "name": "ops.scale", "kind": "action", "targets": [], "description": "",
         "expires_at": None, "action": action, "revert": revert},
    ]


def dead_run(path: Path, *, key: bytes | None = None, experiment: str = EXPERIMENT,
             edit_plan: Any = None) -> Path:
    """A run killed (SIGKILL) while both its faults were live: no verdict, no seal.

    The experiment file is written beside the journal (``experiment.yaml``).
    """
    source = path.parent / "experiment.yaml"
    source.write_text(experiment)
    exp = loader.load(source)
    action_fault = exp.faults[1]
    plan = planned(dict(action_fault.action), dict(action_fault.revert))  # type: ignore[attr-defined]
    if edit_plan is not None:
        edit_plan(plan)
    jw = writer.JournalWriter(path, now=lambda: 1_700_000_000.0, key=key, reserve_bytes=0)
    jw.append("run-started", run_id=RUN_ID, title=exp.title, source=str(source),
              experiment=dict(exp.document), experiment_sha256=exp.sha256, platform="local")
    jw.append("plan", faults=plan)
    for fault in plan:
        jw.append("fault-intent", **fault)
        jw.append("fault-result", fault=fault["fault"], name=fault["name"], ok=True)
    jw.close()
    return path
