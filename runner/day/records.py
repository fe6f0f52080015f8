"""The day journal's events (persisted shapes) and how to read a day back from them.

The day journal is an ordinary gameday journal (``JournalWriter``: fsynced lines, hash
chain, seal), so ``gameday journal show`` and ``reader.verify`` work on it unchanged. Its
events:

- ``day-started``: the day as loaded (document, sha256), each experiment (id, source,
  sha256, needs, on_broken, expected seconds) and the run order;
- ``day-experiment``: one experiment entering a state (queued → gated → running → held /
  broken / refused / skipped / error), with the reason, and once running its run id and
  journal path (written *before* the run starts, so a crash of the day is recoverable);
- ``gate``: one gate evaluated before one experiment, ``ok``, the sentence and numbers;
- ``run-linked``: a finished run's journal, by path and by the sha256 of its final line
  (and its chain head), so the day's own chain covers every run's chain;
- ``day-resumed``: a ``gameday day resume`` session began (what it reverted first);
- ``day-verdict``: the day's exit code, the experiment that set it, every final state.

``summarize`` folds the events into the last state of each experiment: resume and the
reports read the day through it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypedDict

DAY_STARTED: Final = "day-started"
EXPERIMENT: Final = "day-experiment"  # also what the telemetry sink counts
GATE: Final = "gate"
RUN_LINKED: Final = "run-linked"
DAY_RESUMED: Final = "day-resumed"
DAY_VERDICT: Final = "day-verdict"
JOURNAL_NAME: Final = "day.jsonl"


class PlannedEntry(TypedDict):
    id: str
    source: str
    sha256: str
    needs: list[str]
    on_broken: str
    expected_seconds: float


class DayStarted(TypedDict):
    day_id: str
    title: str
    source: str
    day_sha256: str
    experiments: list[PlannedEntry]
    order: list[str]


class ExperimentState(TypedDict):
    id: str
    state: str
    reason: str


class RunLinked(TypedDict):
    id: str
    run_id: str
    journal: str
    final_line_sha256: str | None
    verdict: str | None
    exit_code: int | None


class DayVerdict(TypedDict):
    exit_code: int
    worst: str | None
    reason: str
    states: dict[str, str]


def final_line_sha256(path: Path) -> tuple[str | None, str | None, int | None]:
    """``(sha256 of the last complete line, its chain hash, its seq)`` of a journal."""
    import json

    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            tail = handle.read()
    except OSError:
        return None, None, None
    lines = [line for line in tail.split(b"\n") if line.strip()]
    if not tail.endswith(b"\n") and lines:
        lines = lines[:-1]  # a torn last line is not the final line
    if not lines:
        return None, None, None
    last = lines[-1]
    try:
        event = json.loads(last)
    except ValueError:
        event = {}
    return (hashlib.sha256(last).hexdigest(), event.get("hash"),
            event.get("seq") if isinstance(event.get("seq"), int) else None)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One experiment of a day as its journal tells it so far."""

    id: str
    state: str = "queued"
    reason: str = ""
    exit_code: int | None = None
    run_id: str | None = None
    journal: str | None = None
    linked: Mapping[str, Any] | None = None
    gates: tuple[Mapping[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class Summary:
    """The day as its journal tells it: the start, each experiment's last state, the end."""

    started: Mapping[str, Any] | None
    entries: Mapping[str, Entry]
    verdict: Mapping[str, Any] | None
    resumed: int


def summarize(events: Sequence[Mapping[str, Any]]) -> Summary:
    started = next((e for e in events if e.get("type") == DAY_STARTED), None)
    order = [str(i) for i in (started or {}).get("order", [])]
    entries: dict[str, Entry] = {i: Entry(i) for i in order}
    verdict = None
    resumed = 0
    for event in events:
        kind = event.get("type")
        key = str(event.get("id", ""))
        entry = entries.get(key, Entry(key))
        if kind == EXPERIMENT:
            entries[key] = dataclasses.replace(
                entry, state=str(event.get("state")), reason=str(event.get("reason") or ""),
                exit_code=event.get("exit_code", entry.exit_code),
                run_id=event.get("run_id", entry.run_id),
                journal=event.get("journal", entry.journal))
        elif kind == GATE:
            entries[key] = dataclasses.replace(entry, gates=(*entry.gates, event))
        elif kind == RUN_LINKED:
            entries[key] = dataclasses.replace(entry, linked=event)
        elif kind == DAY_VERDICT:
            verdict = event
        elif kind == DAY_RESUMED:
            resumed += 1
            verdict = None  # a resumed day's earlier verdict (if any) is superseded
    return Summary(started, entries, verdict, resumed)
