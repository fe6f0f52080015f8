"""The revert stack: every injected fault is undone, in reverse order, retried.

Used by a live run (``by="run"``) and by ``gameday revert JOURNAL`` (``by="gameday revert"``)
alike, so both follow one code path. A revert is retried with tenacity (bounded in count
and time, sleeping on the injected clock); "already gone" is the activity's business and
counts as success. Each revert's result, attempts and timing are journaled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import tenacity

from runner import errors, ports
from runner.journal import events, writer


@dataclasses.dataclass(frozen=True)
class RevertEntry:
    """What to undo: a fault index, its name and its revert activity."""

    fault: int
    name: str
    revert: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class RevertOutcome:
    fault: int
    name: str
    ok: bool
    attempts: int
    seconds: float
    error: str | None


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    max_seconds: float = 30.0
    first_wait: float = 0.1
    max_wait: float = 2.0


class RevertStack:
    """LIFO of reverts registered before each fault acts."""

    def __init__(
        self,
        activities: ports.ActivityRunner,
        journal: writer.JournalWriter,
        clock: ports.Clock,
        *,
        by: str = "run",
        policy: RetryPolicy | None = None,
    ) -> None:
        self._activities = activities
        self._journal = journal
        self._clock = clock
        self._by = by
        self._policy = policy or RetryPolicy()
        self._entries: list[RevertEntry] = []

    def push(self, entry: RevertEntry) -> None:
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def revert_all(self) -> list[RevertOutcome]:
        """Undo everything registered, newest first; never raises; journals each result."""
        outcomes: list[RevertOutcome] = []
        while self._entries:
            entry = self._entries.pop()
            outcome = self._revert_one(entry)
            self._journal.append(
                events.REVERT_RESULT,
                fault=outcome.fault,
                name=outcome.name,
                ok=outcome.ok,
                attempts=outcome.attempts,
                seconds=round(outcome.seconds, 6),
                error=outcome.error,
                by=self._by,
            )
            outcomes.append(outcome)
        return outcomes

    def _revert_one(self, entry: RevertEntry) -> RevertOutcome:
        policy = self._policy
        started = self._clock.monotonic()
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            self._activities.run(entry.revert)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.attempts)
            | tenacity.stop_after_delay(policy.max_seconds),
            wait=tenacity.wait_exponential(multiplier=policy.first_wait, max=policy.max_wait),
            sleep=self._clock.sleep,
            retry=tenacity.retry_if_exception_type(Exception),
            reraise=True,
        )
        error: str | None = None
        try:
            retrying(attempt)
        except errors.GamedayError as exc:
            error = exc.message
        except Exception as exc:  # noqa: BLE001 - a revert must never crash the stack
            error = f"{type(exc).__name__}: {exc}"
        return RevertOutcome(
            fault=entry.fault,
            name=entry.name,
            ok=error is None,
            attempts=attempts,
            seconds=self._clock.monotonic() - started,
            error=error,
        )
