"""The revert stack: every injected fault is undone, in reverse order, retried, verified.

Used by a live run (``by="run"``) and by ``gameday revert JOURNAL`` (``by="gameday revert"``)
alike, so both follow one code path. Decisions:

- A revert is retried with tenacity (bounded in count and time, sleeping on the injected
  clock); "already gone" is the activity's business and counts as success. Its outcome
  is judged by the activity runner (exit status, HTTP status, exception).
- After a revert that reported success, ``verify`` (the platform's check that the fault
  is really gone) runs; a fault still there is retried like a failure, and one still
  there after the retries is a failed revert. ``ok`` is True only when success was
  observed; a revert whose verification could not be done says ``verified: None``.
- Reverting never depends on the journal: every outcome is kept in memory and returned;
  journaling each one is attempted with ``log`` (which must not raise), after the revert
  ran, never before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import tenacity

from runner import errors, ports
from runner.journal import events

Log = Callable[..., object]
Verify = Callable[["RevertEntry"], ports.RevertCheck]


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
    verified: bool | None = None
    verification: str = ""
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    max_seconds: float = 30.0
    first_wait: float = 0.1
    max_wait: float = 2.0


class _StillThere(Exception):
    """The revert reported success but the fault is still there."""


class RevertStack:
    """LIFO of reverts registered before each fault acts."""

    def __init__(
        self,
        activities: ports.ActivityRunner,
        log: Log,
        clock: ports.Clock,
        *,
        by: str = "run",
        policy: RetryPolicy | None = None,
        verify: Verify | None = None,
    ) -> None:
        self._activities = activities
        self._log = log
        self._clock = clock
        self._by = by
        self._policy = policy or RetryPolicy()
        self._verify = verify
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
            self._log(
                events.REVERT_RESULT,
                fault=outcome.fault,
                name=outcome.name,
                ok=outcome.ok,
                attempts=outcome.attempts,
                seconds=round(outcome.seconds, 6),
                error=outcome.error,
                evidence=dict(outcome.evidence),
                by=self._by,
            )
            if outcome.verification:
                self._log(events.REVERT_VERIFIED, fault=outcome.fault, name=outcome.name,
                          ok=outcome.verified, detail=outcome.verification, by=self._by)
            outcomes.append(outcome)
        return outcomes

    def _revert_one(self, entry: RevertEntry) -> RevertOutcome:
        policy = self._policy
        started = self._clock.monotonic()
        attempts = 0
        check: ports.RevertCheck | None = None

        def attempt() -> None:
            nonlocal attempts, check
            attempts += 1
            self._activities.run(entry.revert)
            if self._verify is not None:
                try:
                    check = self._verify(entry)
                except errors.GamedayError as exc:
                    check = ports.RevertCheck(None, f"the check itself failed: {exc.message}")
                if check.ok is False:
                    raise _StillThere(check.detail)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.attempts)
            | tenacity.stop_after_delay(policy.max_seconds),
            wait=tenacity.wait_exponential(multiplier=policy.first_wait, max=policy.max_wait),
            sleep=self._clock.sleep,
            retry=tenacity.retry_if_exception_type(Exception),
            reraise=True,
        )
        error: str | None = None
        evidence: Mapping[str, Any] = {}
        try:
            retrying(attempt)
        except _StillThere as exc:
            error = f"the revert ran but the fault is still there: {exc}"
        except errors.GamedayError as exc:
            error = exc.message
            if isinstance(exc, errors.ActivityError):
                evidence = exc.evidence
        except Exception as exc:  # noqa: BLE001 - a revert must never crash the stack
            error = f"{type(exc).__name__}: {exc}"
        return RevertOutcome(
            fault=entry.fault,
            name=entry.name,
            ok=error is None,
            attempts=attempts,
            seconds=self._clock.monotonic() - started,
            error=error,
            verified=None if check is None else check.ok,
            verification="" if check is None else check.detail,
            evidence=evidence,
        )
