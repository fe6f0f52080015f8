"""What every phase of a run shares: its ports, its journal, its safe points.

``RunContext`` is handed to each phase (``inject``, ``recovery``, the watch in ``run``).
Decisions:

- ``log`` journals or raises: before and during the fault window an unwritable journal
  ends the window (the faults are reverted). ``log_safe`` never raises: the revert path
  and the verdict use it, because reverting never depends on the journal being
  writable; what could not be recorded is kept in ``unrecorded`` for the command line.
- ``checkpoint`` is the one safe point: the cancel token (SIGINT/SIGTERM), the lease
  renewal (which also records the journal's head outside the journal) and every
  sentinel (emergency stop, Chaos Toolkit tolerances, burn rate...) are consulted there,
  each tick, before each fault, and in every slice of a sleep or a pause. A sentinel's
  ``Halt`` is raised as ``Halted`` for the phase in charge to turn into an abort.
- A journal whose disk filled up (the writer had to release its reserve) ends the fault
  window at the next checkpoint: kind ``journal``, exit 4, reverted while the reserve's
  room still holds the revert records.
- Lease renewals and sentinels are throttled to once per ``CHECK_EVERY`` seconds in
  sleep slices; explicit checkpoints (ticks, faults) always consult them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runner import errors, ports
from runner.engine import clock as clock_mod
from runner.engine import schedule
from runner.journal import events, writer
from runner.model import experiment as model

CHECK_EVERY = 1.0


class Halted(Exception):
    """A sentinel halted the run at a checkpoint."""

    def __init__(self, halt: ports.Halt, point: ports.Checkpoint) -> None:
        super().__init__(halt.reason)
        self.halt = halt
        self.point = point


@dataclasses.dataclass
class RunContext:
    """The shared, mutable state of one run (one per ``Run``)."""

    exp: model.Experiment
    run_id: str
    metrics: ports.MetricsSource
    platform: ports.Platform
    activities: ports.ActivityRunner
    clock: ports.Clock
    journal: writer.JournalWriter
    cancel: clock_mod.Cancel
    sentinels: Sequence[ports.Sentinel] = ()
    lease: ports.TargetLease | None = None
    unrecorded: list[str] = dataclasses.field(default_factory=list)
    journal_error: str | None = None
    phase: str = "preflight"
    _last_check: float = -1e18

    @property
    def tick(self) -> float:
        return self.exp.prometheus.tick

    # -- journal ----------------------------------------------------------------------

    def log(self, type_: str, **payload: Any) -> events.Event:
        return self.journal.append(type_, **payload)

    def log_safe(self, type_: str, **payload: Any) -> events.Event | None:
        """Journal if possible; never raises (the revert path and the verdict use it)."""
        try:
            return self.journal.append(type_, **payload)
        except (errors.GamedayError, OSError, ValueError) as exc:
            message = exc.message if isinstance(exc, errors.GamedayError) else str(exc)
            if self.journal_error is None:
                self.journal_error = message
            summary = ", ".join(f"{k}={v}" for k, v in payload.items()
                                if k in {"fault", "name", "ok", "verdict", "phase", "error"})
            self.unrecorded.append(f"{type_} {summary}".strip())
            return None

    def enter(self, phase: str, **detail: Any) -> None:
        self.phase = phase
        self.log(events.PHASE, phase=phase, **detail)

    def head(self) -> tuple[int, str] | None:
        """The journal's last line written (seq, chain hash), or None before the first."""
        head = self.journal.head
        return None if head is None else (head.seq, head.hash)

    def seal(self) -> None:
        """Seal the journal (its last event), if it can still be written."""
        if self.journal.sealed or self.journal.broken is not None:
            return
        try:
            self.journal.seal()
        except errors.GamedayError as exc:
            if self.journal_error is None:
                self.journal_error = exc.message
            self.unrecorded.append("journal-sealed")

    # -- safe points ------------------------------------------------------------------

    def checkpoint(self, phase: str | None = None, *, tick: int | None = None,
                   fault: int | None = None, light: bool = False) -> None:
        """Consult the cancel token, renew the lease and ask every sentinel."""
        if self.cancel.is_set():
            raise errors.Interrupted(f"interrupted by {self.cancel.reason}")
        now = self.clock.monotonic()
        if light and now - self._last_check < CHECK_EVERY:
            return
        self._last_check = now
        where = phase or self.phase
        if self.journal.reserve_released and where in ("inject", "watch", "pause"):
            # The disk under the journal is full: end the window while the revert records
            # still fit in what the released reserve freed.
            raise Halted(ports.Halt(
                "journal", f"the disk holding the journal {self.journal.path} is full (its "
                "reserve was used); ending the fault window while the revert records still "
                "fit"), ports.Checkpoint(phase=where, tick=tick, fault=fault))
        if self.lease is not None:
            self.lease.renew(where, self.head())
        if not self.sentinels:  # nobody to ask (a replayed window): no point to build
            return
        point = ports.Checkpoint(phase=where, tick=tick, fault=fault, record=self._record)
        for sentinel in self.sentinels:
            halt = sentinel.check(point)
            if halt is not None:
                raise Halted(halt, point)

    def _record(self, type_: str, payload: Mapping[str, Any]) -> None:
        self.log(type_, **dict(payload))

    def between(self) -> None:
        self.checkpoint(light=True)

    def sleep(self, seconds: float) -> None:
        """An interruptible wait (pauses): checkpoints in every slice."""
        schedule.sleep_until(self.clock, self.clock.monotonic() + seconds, self.between)

    def ticks(self, seconds: float, *, minimum: int = 1) -> Iterator[schedule.Tick]:
        """The phase's ticks on the wall-clock grid (see ``schedule.ticks``)."""
        count = schedule.slots(seconds, self.tick, minimum)
        yield from schedule.ticks(self.clock, self.tick, count, self.between)

    def tick_extra(self, t: schedule.Tick) -> dict[str, Any]:
        """Journal fields for a late tick or skipped slots (empty when on time)."""
        extra: dict[str, Any] = {}
        if t.late > 0.05 * self.tick:
            extra["late"] = round(t.late, 3)
        if t.skipped:
            extra["skipped"] = t.skipped
        return extra
