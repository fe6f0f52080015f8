"""The adversarial reliability suite: real runs on the real sandbox, attacked on purpose.

Every test asserts the same three things: nothing is left live, the journal verifies (or
its break is named), and the exit code and message are true. Faults that kill the
runner itself are real processes run by the fault (``sh -c 'kill -9 $PPID'``: the
parent of the shell is the `gameday` process), so the kill lands exactly at that point.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.journal import integrity, reader, recovery
from tests.e2e.conftest import (
    active_latency,
    left_no_dead_run,  # noqa: F401 - autouse: no module leaves a dead run behind
    ready,
    running,  # noqa: F401 - the fixture: runs stopped by PID
)
from tests.fixtures.experiments import sandbox_experiment

LATENCY = "{latency: {selector: app=demo, delay: 20ms}}"
KILL_ONE = "{pod-kill: {selector: app=demo, count: 1}}"


def shell_fault(name: str, act: str, undo: str) -> str:
    """A native action fault whose action and revert are shell commands."""
    def activity(label: str, script: str) -> str:
        return json.dumps({"type": "action", "name": label,
                           "provider": {"type": "process", "path": "sh",
                                        "arguments": ["-c", script]}})
    return f"{{action: {activity(name, act)}, revert: {activity('undo ' + name, undo)}}}"


def experiment(path: Path, *faults: str, duration: str = "40s", tick: str = "1s",
               baseline: str = "4s", recovery: str | None = None,
               prometheus_url: str = "sandbox", selector: str = "app=demo") -> Path:
    return sandbox_experiment(path, *faults, title=f"reliability {path.stem}",
                              duration=duration, tick=tick, timeout="900ms",
                              baseline=baseline, recovery=recovery,
                              prometheus_url=prometheus_url, selector=selector)


def phase_is(name: str) -> Any:
    return lambda e: e.get("type") == "phase" and e.get("phase") == name


def nothing_live(sandbox: Path) -> bool:
    return active_latency(sandbox) == [] and ready(sandbox) == 3


def journal_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def intact(path: Path) -> bool:
    """The journal reads, its chain verifies, and nothing is pending."""
    read = reader.read(path)
    found = integrity.check(read)
    assert found.problems == (), found.problems
    return recovery.pending_reverts(read) == []
