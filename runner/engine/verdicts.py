"""From what happened to a verdict and an exit code (DESIGN.md §5), in one place.

The in-memory ``Outcome`` is the run's result; the journal's ``verdict`` event is its
record. Decisions:

- A failed (or unverified-and-failed) revert outranks everything: exit 5, and the
  message names each fault and the command that retries.
- Anything before the first fault was registered is a refusal (exit 3) or invalid
  input (exit 2): nothing was touched.
- Inside the fault window an abort is "broken" (exit 1) when it is evidence about the
  steady state (the sequential test, a guardrail, an alert, a Chaos Toolkit tolerance,
  a burn rate), "blind" (exit 4) on no data, and "stopped" (exit 4) on an operational
  halt (emergency stop, a lost lease).
- A journal that could not record everything turns a clean exit into 4 and says what
  is missing; it never hides a revert failure.
"""

from __future__ import annotations

import dataclasses

from runner import errors
from runner.engine import abort as abort_mod
from runner.engine import reverts
from runner.errors import ExitCode

#: Abort kinds that are evidence the steady state broke (exit 1).
BROKEN_KINDS = frozenset({"steady-state", "guardrail", "alert", "tolerance", "burn-rate"})


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The in-memory result of a run (the journal's ``verdict`` event is its record)."""

    run_id: str
    verdict: str
    exit_code: ExitCode
    reason: str
    faults_injected: int = 0
    reverts_failed: int = 0
    unrecorded: tuple[str, ...] = ()
    dry: bool = False


def for_error(run_id: str, exc: errors.GamedayError, *, registered: bool,
              injected: int) -> Outcome:
    """The outcome of a run that ended by an exception (before or after faults)."""
    if isinstance(exc, errors.Interrupted):
        return Outcome(run_id, "interrupted", exc.exit_code, exc.message, injected)
    if isinstance(exc, errors.RefusedError):
        return Outcome(run_id, "refused", exc.exit_code, exc.message, injected)
    if isinstance(exc, errors.InputError):
        return Outcome(run_id, "invalid", exc.exit_code, exc.message, injected)
    if isinstance(exc, errors.PlatformError) and not registered:
        return Outcome(run_id, "refused", exc.exit_code, exc.message, injected)
    code = ExitCode.RUNNER_ERROR if exc.exit_code == ExitCode.REFUSED else exc.exit_code
    return Outcome(run_id, "error", code, exc.message, injected)


def revert_failed(run_id: str, failed: list[reverts.RevertOutcome], journal: str,
                  injected: int) -> Outcome:
    names = ", ".join(f"#{r.fault} {r.name}: {r.error}" for r in failed)
    return Outcome(
        run_id, "revert-failed", ExitCode.REVERT_FAILED,
        f"a revert failed; a human must act now ({names}). "
        f"`gameday revert {journal}` retries the pending reverts.",
        injected, len(failed),
    )


def after_abort(run_id: str, found: abort_mod.Abort, recovery: str, injected: int,
                dry: bool) -> Outcome:
    """The outcome of a fault window that an abort ended."""
    reverted = "nothing was injected (dry run)" if dry else "all faults were reverted"
    if found.kind == "no-data":
        return Outcome(run_id, "blind", ExitCode.RUNNER_ERROR,
                       f"aborted: {found.reason}. {reverted.capitalize()}.", injected, dry=dry)
    if found.kind not in BROKEN_KINDS:
        return Outcome(run_id, "stopped", ExitCode.RUNNER_ERROR,
                       f"stopped: {found.reason}. {reverted.capitalize()}.", injected, dry=dry)
    after = f"; after the revert: {recovery}" if recovery else ""
    prefix = "a dry run would have aborted" if dry else "aborted"
    return Outcome(run_id, "broken", ExitCode.BROKEN,
                   f"{prefix}: {found.reason}. {reverted.capitalize()}{after}.", injected,
                   dry=dry)


def after_window(run_id: str, recovered: bool, recovery: str, injected: int,
                 dry: bool) -> Outcome:
    """The outcome of a fault window that ended on time."""
    if not recovered:
        return Outcome(run_id, "not-recovered", ExitCode.BROKEN,
                       "the fault window ended without an abort, but the steady state was not "
                       f"shown to come back after the revert: {recovery}", injected, dry=dry)
    held = ("dry run: the window ended without an abort, no fault was injected" if dry
            else "steady state held: the fault window ended without an abort")
    return Outcome(run_id, "held", ExitCode.HELD, held + (f"; {recovery}" if recovery else ""),
                   injected, dry=dry)


def with_journal_gaps(outcome: Outcome, journal_error: str | None,
                      unrecorded: list[str]) -> Outcome:
    """A clean outcome whose journal missed events becomes exit 4, saying what is missing."""
    if journal_error is None:
        return outcome
    code = max(outcome.exit_code, ExitCode.RUNNER_ERROR)
    missing = "; ".join(unrecorded[:10]) or "events"
    return dataclasses.replace(
        outcome, exit_code=ExitCode(code), unrecorded=tuple(unrecorded),
        reason=f"{outcome.reason} — but the journal could not record everything "
        f"({journal_error}); missing: {missing}",
    )
