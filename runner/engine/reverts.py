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
- Entries may belong to a named group (a Chaos Toolkit method's rollbacks,
  ``runner.engine.rollbacks``): a group may be skipped as a whole (its strategy said
  so; nothing runs, nothing is claimed), and a group's ``around`` hook runs before its
  first entry and after its last (rollback-level controls); a failing hook is
  journaled as a warning and never stops a revert.
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
    group: str | None = None


Around = Callable[[str, str, Any], None]


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
        self._skipped: dict[str, str] = {}
        self._around: dict[str, Around] = {}

    def skip_group(self, group: str, reason: str) -> None:
        """Do not run the entries of ``group`` (``reason`` is journaled once)."""
        self._skipped[group] = reason

    def around_group(self, group: str, hook: Around) -> None:
        """``hook(level, "before"|"after", state)`` around the entries of ``group``."""
        self._around[group] = hook

    def push(self, entry: RevertEntry) -> None:
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def revert_all(self) -> list[RevertOutcome]:
        """Undo everything registered, newest first; never raises; journals each result."""
        outcomes: list[RevertOutcome] = []
        open_group: str | None = None
        group_outcomes: list[RevertOutcome] = []
        for _ in range(len(self._entries)):
            entry = self._entries.pop()
            if entry.group != open_group:
                self._hook(open_group, "after", group_outcomes)
                open_group, group_outcomes = entry.group, []
                self._hook(open_group, "before", None)
            if entry.group is not None and entry.group in self._skipped:
                continue
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
            group_outcomes.append(outcome)
        self._hook(open_group, "after", group_outcomes)
        return outcomes

    def _hook(self, group: str | None, scope: str, done: list[RevertOutcome] | None) -> None:
        hook = self._around.get(group) if group is not None else None
        if hook is None or group in self._skipped:
            return
        state = None if done is None else [
            {"name": o.name, "status": "succeeded" if o.ok else "failed", "error": o.error}
            for o in done]
        try:
            hook("rollback", scope, state)
        except Exception as exc:  # noqa: BLE001 - a control never stops a revert
            self._log(events.WARNING, phase="revert", message=f"the {scope}-rollback "
                      f"controls failed ({type(exc).__name__}: {exc}); the reverts go on")

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
