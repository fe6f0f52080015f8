"""The day's queue: run order from ``needs``, what may run next, and the day's exit code.

Pure. Decisions:

- Order is the file's order, except that an experiment always runs after those it
  ``needs`` (a stable topological sort: of the experiments whose needs are placed, the
  earliest in the file goes next). A cycle is a validation problem naming it.
- An experiment runs only when every experiment it needs *held*; otherwise it is
  skipped, saying which need did not hold and how it ended.
- ``on_broken: stop`` (the default) ends the day when that experiment breaks (exit 1):
  the rest is skipped. ``continue`` goes on with the experiments that do not need it.
  Whatever ``on_broken`` says, the day ends after an exit 4 (runner error, interrupted,
  stopped) or 5 (a revert failed: a human must act now).
- The day's exit code is the worst of its experiments by ``SEVERITY`` (5 > 4 > 2 > 1 >
  3 > 0): a failed revert outranks a runner error, which outranks a finding, which
  outranks a refusal. A skipped experiment adds nothing of its own (its cause is already
  counted) unless the day itself was stopped or interrupted before it: then it counts as
  refused (3), because it was refused the chance to run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

from runner.errors import ExitCode

State = Literal["queued", "gated", "running", "held", "broken", "refused", "skipped", "error"]
FINAL: frozenset[str] = frozenset({"held", "broken", "refused", "skipped", "error"})
#: Worst first: the day's exit code is the first of these any experiment has.
SEVERITY: tuple[int, ...] = (5, 4, 2, 1, 3, 0)


@dataclasses.dataclass(frozen=True)
class Node:
    id: str
    needs: tuple[str, ...]


def order(nodes: Sequence[Node]) -> tuple[list[str], list[list[str]]]:
    """``(run order, cycles)``; when there are cycles the order holds what could be placed."""
    placed: list[str] = []
    done: set[str] = set()
    known = {n.id for n in nodes}
    remaining = list(nodes)
    while remaining:
        ready = next((n for n in remaining
                      if all(need in done or need not in known for need in n.needs)), None)
        if ready is None:
            return placed, _cycles(remaining)
        placed.append(ready.id)
        done.add(ready.id)
        remaining.remove(ready)
    return placed, []


def _cycles(stuck: Sequence[Node]) -> list[list[str]]:
    """One cycle through each group of experiments that wait on each other."""
    needs = {n.id: [x for x in n.needs if x in {m.id for m in stuck}] for n in stuck}
    found: list[list[str]] = []
    covered: set[str] = set()
    for start in needs:
        if start in covered:
            continue
        path: list[str] = []
        at = start
        for _ in range(len(needs) + 1):  # bounded walk along "needs" edges
            if at in path:
                cycle = [*path[path.index(at):], at]
                if not covered & set(cycle):
                    found.append(cycle)
                covered.update(path)
                break
            path.append(at)
            following = needs.get(at) or []
            if not following:
                covered.update(path)
                break
            at = following[0]
    return found


@dataclasses.dataclass(frozen=True)
class Ended:
    """How an experiment ended, as the queue needs it."""

    state: str
    exit_code: int | None
    reason: str = ""


def unmet(needs: Sequence[str], ended: Mapping[str, Ended]) -> str | None:
    """Why an experiment may not run (a need that did not hold), or None."""
    for need in needs:
        result = ended.get(need)
        if result is None:
            return f"it needs {need!r}, which did not run"
        if result.state != "held":
            how = f"{result.state}" + (f", exit {result.exit_code}"
                                       if result.exit_code is not None else "")
            return f"it needs {need!r} to hold, and {need!r} ended {how}"
    return None


def ends_the_day(entry_id: str, on_broken: str, result: Ended) -> str | None:
    """Why the rest of the day is skipped after ``result``, or None to go on."""
    code = result.exit_code
    if code == ExitCode.REVERT_FAILED:
        return (f"{entry_id!r} ended with a failed revert (exit 5): a human must act "
                "before any more chaos")
    if code == ExitCode.RUNNER_ERROR:
        return f"{entry_id!r} ended with exit 4 ({result.reason or result.state})"
    if code == ExitCode.BROKEN and on_broken == "stop":
        return f"{entry_id!r} broke the steady state and its on_broken is stop"
    return None


def rank(code: int) -> int:
    return SEVERITY.index(code) if code in SEVERITY else 0


def worst(codes: Mapping[str, int | None]) -> tuple[int, str | None]:
    """The day's exit code and the experiment that set it (None: nothing to blame)."""
    best: tuple[int, str | None] = (int(ExitCode.HELD), None)
    for entry_id, code in codes.items():
        if code is None:
            continue
        if (best[1] is None and code == ExitCode.HELD) or rank(code) < rank(best[0]):
            best = (code, entry_id)
    return best
