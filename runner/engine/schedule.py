"""Tick schedules that end on the wall clock, not after a count of ticks.

A phase (baseline, fault window, recovery) lasts a number of *seconds*: its ticks sit on
a fixed grid ``start + k·tick`` and the phase ends at its deadline however slow the
reads were. Decisions:

- A tick that starts late (the previous read overran) still runs, and says by how much
  it is late; when a whole slot or more was missed, the missed slots are skipped (not
  crammed in back to back) and counted, so the journal shows them. Counter deltas cover
  the time since the last read, so nothing observed is lost by skipping.
- No tick starts after the deadline: a fault window of ``duration`` seconds holds its
  faults for at most ``duration`` plus one read (bounded by the read timeout).
- Sleeping goes through the injected clock in slices of at most one second, with the
  ``between`` callback (cancel token, sentinels) run before every slice, so a signal or
  an emergency stop reaches a sleeping run within a second.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

from runner import ports

#: A hard bound on any tick loop, whatever the durations say.
MAX_TICKS = 100_000
#: Longest single sleep, so that the ``between`` callback runs at least this often.
SLICE = 1.0


@dataclasses.dataclass(frozen=True)
class Tick:
    """One tick: its number on the grid (1-based), lateness and slots skipped before it."""

    k: int
    of: int
    late: float = 0.0
    skipped: int = 0


def slots(seconds: float, tick: float, minimum: int = 1) -> int:
    """Ticks on the grid within ``seconds`` (at least ``minimum``)."""
    return max(minimum, math.ceil(seconds / tick - 1e-9))


def sleep_until(clock: ports.Clock, deadline: float, between: Callable[[], None]) -> None:
    """Sleep on ``clock`` until ``deadline`` (monotonic), calling ``between`` each slice."""
    for _ in range(MAX_TICKS):
        between()
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            return
        clock.sleep(min(remaining, SLICE))
    between()


def grace(tick: float) -> float:
    """How late past its deadline the last tick may still start (jitter, not a read)."""
    return min(0.1 * tick, 0.5)


def ticks(clock: ports.Clock, tick: float, count: int,
          between: Callable[[], None]) -> Iterator[Tick]:
    """Yield up to ``count`` grid ticks ``start + k·tick``; late ones flagged, missed skipped.

    The deadline is ``start + count·tick``: no tick starts later than the deadline plus
    ``grace(tick)``, so a caller that stops reading when this ends holds a fault window
    for at most its duration, the grace and one read. The caller learns of slots lost at
    the end by comparing the last ``k`` with ``count``.
    """
    count = min(count, MAX_TICKS)
    start = clock.monotonic()
    deadline = start + count * tick
    k = 1
    while k <= count:
        sleep_until(clock, start + k * tick, between)
        now = clock.monotonic()
        if now > deadline + grace(tick):
            return
        due = min(count, int((now - start + 1e-9) // tick))
        skipped = max(0, due - k)
        k += skipped
        yield Tick(k, count, late=max(0.0, now - (start + k * tick)), skipped=skipped)
        k += 1
