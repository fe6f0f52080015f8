"""What a ``gameday day resume`` has to do, from the day journal alone.

After the day runner died (SIGKILL, a node lost), its journal says which experiments
ended, which one was running, and which never started. Decisions:

- An experiment that ended keeps its state; it is not run again.
- The experiment that was running when the day died is finished, not repeated: its
  pending reverts are done first (through ``gameday revert``'s own path), then its run
  journal decides its state (its verdict, if the run reached one before the crash; else
  ``error``, exit 4 — or 5 if a revert failed). A "running" entry whose run journal was
  never created never started: it is queued again.
- Experiments still queued (or gated: the gates are evaluated again, now) run in order.
- A resume runs what the day started with: the day file must still have the sha256 the
  journal recorded, and a day whose chain is broken is not resumed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from runner.day import queue, records


@dataclasses.dataclass(frozen=True)
class Crashed:
    """An experiment that was running when the day died."""

    id: str
    run_id: str | None
    journal: Path


@dataclasses.dataclass(frozen=True)
class Plan:
    ended: dict[str, queue.Ended]
    crashed: list[Crashed]
    left: list[str]  # ids still to run, in order


def plan(summary: records.Summary) -> Plan:
    ended: dict[str, queue.Ended] = {}
    crashed: list[Crashed] = []
    left: list[str] = []
    for entry in summary.entries.values():
        if entry.state in queue.FINAL:
            ended[entry.id] = queue.Ended(entry.state, entry.exit_code, entry.reason)
        elif entry.state == "running" and entry.journal and Path(entry.journal).exists():
            crashed.append(Crashed(entry.id, entry.run_id, Path(entry.journal)))
        else:
            left.append(entry.id)
    return Plan(ended, crashed, left)


def after_crash(verdict: dict[str, object] | None, revert_code: int) -> tuple[str, int, str]:
    """``(state, exit code, reason)`` of a crashed experiment once its reverts ran."""
    if revert_code == 5:
        return ("error", 5, "the day runner died during this run and a pending revert failed "
                "in day resume: a human must act now")
    if verdict is not None and isinstance(verdict.get("exit_code"), int):
        code = int(verdict["exit_code"])  # type: ignore[call-overload]
        state = {0: "held", 1: "broken", 3: "refused"}.get(code, "error")
        return state, code, f"{verdict.get('verdict')}: {verdict.get('reason')}"
    return ("error", 4, "the day runner died during this run; its pending reverts were done "
            "by day resume (the run reached no verdict)")
