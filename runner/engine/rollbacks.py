"""A method's rollbacks as one revert group: registered first, run in order, on every exit.

Decisions:

- The whole group is registered before the method's first step (``register``): one
  ``fault-intent`` per rollback (``kind: rollback``, the activity as written, its
  ``${name}`` placeholders unresolved, so no secret enters the journal), fsynced, and
  pushed on the revert stack newest-last so the stack's LIFO runs them in their written
  order. A run killed mid-method leaves them pending for ``gameday revert JOURNAL``.
- Without a choice, gameday plays them always: on success, abort, error, SIGINT,
  SIGTERM. Chaos Toolkit's default skips them on a failed or interrupted run; that
  is the bug gameday fixes. An explicit strategy (``runtime.rollbacks.strategy`` or
  ``--rollback-strategy``) is honoured with ``chaos run``'s meaning, mapped onto how
  the run ended (``ending``): ``default`` skips them when the run was interrupted (a
  signal, a stop, a safeguard); ``deviated`` plays them only when the steady state
  was found broken before the reverts; ``never`` never (and says so, as a warning).
  The decision is journaled (``rollbacks``); skipped rollbacks stay pending in the
  journal, so a later ``gameday revert`` can still run them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from runner import ports
from runner.engine import abort as abort_mod
from runner.engine import context, reverts, verdicts
from runner.journal import events
from runner.model import experiment as model

GROUP = "rollbacks"


@dataclasses.dataclass(frozen=True)
class Ending:
    """How the run ended before its reverts, in Chaos Toolkit's words."""

    status: str  # completed, aborted, interrupted
    deviated: bool


def ending(found: abort_mod.Abort | None, outcome: verdicts.Outcome | None) -> Ending:
    if outcome is not None:
        return Ending("interrupted" if outcome.verdict == "interrupted" else "aborted", False)
    if found is None:
        return Ending("completed", False)
    if found.kind in verdicts.BROKEN_KINDS:
        return Ending("completed", True)
    return Ending("interrupted", False)


def plays(strategy: str | None, end: Ending) -> tuple[bool, str]:
    """Whether the group runs, and why (journaled)."""
    if strategy is None or strategy == "always":
        how = "gameday's default" if strategy is None else "strategy always"
        return True, f"{how}: rollbacks run on every exit path"
    if strategy == "never":
        return False, "strategy never: rollbacks were not run, as asked"
    if strategy == "deviated":
        if end.deviated:
            return True, "strategy deviated: the steady state deviated"
        return False, "strategy deviated: the steady state was not found to deviate"
    if end.status == "interrupted":
        return False, "strategy default: the run was interrupted, so (as chaos run does) " \
            "rollbacks were not run"
    return True, f"strategy default: the run {end.status}"


def register(ctx: context.RunContext, stack: reverts.RevertStack, method: model.Method,
             planned: Sequence[ports.PlannedFault]) -> None:
    """Journal every rollback's intent and push the group (before the first step)."""
    strategy = method.rollback_strategy
    ctx.log(events.ROLLBACKS, state="registered", count=len(planned),
            strategy=strategy or "always", chosen=strategy is not None)
    if strategy == "never" and planned:
        ctx.log(events.WARNING, phase="inject", message="rollback strategy 'never': the "
                f"{len(planned)} rollback(s) will not run after the method; whatever the "
                "method changes stays changed (run `gameday revert JOURNAL` to undo it)")
    for fault in planned:
        ctx.log(events.FAULT_INTENT, fault=fault.index, name=fault.name, kind="rollback",
                targets=list(fault.targets), description=fault.description,
                revert=dict(fault.revert or {}), expires_at=None, group=GROUP)
    for fault in reversed(planned):
        stack.push(reverts.RevertEntry(fault.index, fault.name, fault.revert or {}, GROUP))


def before_reverts(ctx: context.RunContext, stack: reverts.RevertStack, method: model.Method,
                   end: Ending) -> None:
    """Decide whether the group runs (journaled); wire the rollback-level controls."""
    play, reason = plays(method.rollback_strategy, end)
    ctx.log_safe(events.ROLLBACKS, state="decided", play=play, reason=reason,
                 strategy=method.rollback_strategy or "always", status=end.status,
                 deviated=end.deviated)
    if not play:
        stack.skip_group(GROUP, reason)
    runner = ctx.activities
    if isinstance(runner, ports.StepRunner):
        stack.around_group(GROUP, runner.control)

