"""The inject phase: journal each fault's intent, register its revert, act, judge, check.

Order per fault, never changed: checkpoint (stop, signals, lease) → ``fault-intent``
journaled and fsynced → revert pushed on the stack → the action runs → its outcome is
judged (the activity runner raises on an exception, a non-zero exit, an HTTP error) →
``fault-result`` → the platform checks the fault took effect (``fault-effect``: e.g. the
latency measured against the one requested, the named replicas gone).

A fault that failed or did not take effect ends the run: every fault registered so far
(this one included, its intent may have half-acted) is reverted and the run exits 4
saying "the fault did not take effect", never "held".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from runner import errors, ports
from runner.engine import context, reverts
from runner.journal import events


class FaultFailed(errors.RunnerError):
    """A fault could not be injected or did not take effect (exit 4, all reverted)."""


def planned_dict(fault: ports.PlannedFault) -> dict[str, Any]:
    return {
        "fault": fault.index,
        "name": fault.name,
        "kind": fault.kind,
        "targets": list(fault.targets),
        "description": fault.description,
        "action": dict(fault.action),
        "revert": dict(fault.revert) if fault.revert is not None else None,
        "expires_at": fault.expires_at,
    }


def jsonable(value: Any) -> Any:
    """A bounded JSON-able copy of an activity result (for the journal)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value if not isinstance(value, str) else value[:2000]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value][:100]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in list(value.items())[:100]}
    return repr(value)[:500]


@dataclasses.dataclass
class Injector:
    """Injects planned faults one by one onto a revert stack."""

    ctx: context.RunContext
    stack: reverts.RevertStack
    injected: int = 0

    def inject_all(self, planned: Sequence[ports.PlannedFault]) -> None:
        self.ctx.enter("inject", faults=len(planned))
        for fault in planned:
            self.inject(fault)

    def inject(self, fault: ports.PlannedFault) -> None:
        ctx = self.ctx
        ctx.checkpoint("inject", fault=fault.index)
        ctx.log(events.FAULT_INTENT, **planned_dict(fault))
        if fault.revert is not None:
            self.stack.push(reverts.RevertEntry(fault.index, fault.name, fault.revert))
        started = ctx.clock.monotonic()
        try:
            result = ctx.activities.run(fault.action)
        except Exception as exc:
            message = exc.message if isinstance(exc, errors.GamedayError) else repr(exc)
            evidence = exc.evidence if isinstance(exc, errors.ActivityError) else {}
            ctx.log(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=False,
                    seconds=round(ctx.clock.monotonic() - started, 6), error=message,
                    evidence=evidence)
            raise FaultFailed(
                f"fault #{fault.index} {fault.name!r} did not take effect: it failed to "
                f"inject ({message}). Every fault registered so far was reverted."
            ) from exc
        self.injected += 1
        ctx.log(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=True,
                seconds=round(ctx.clock.monotonic() - started, 6), result=jsonable(result))
        self._check_effect(fault, result)

    def _check_effect(self, fault: ports.PlannedFault, result: Any) -> None:
        ctx = self.ctx
        try:
            check = ctx.platform.check_effect(fault, result)
        except errors.GamedayError as exc:
            check = ports.EffectCheck(False, f"the check itself failed: {exc.message}")
        ctx.log(events.FAULT_EFFECT, fault=fault.index, name=fault.name, ok=check.ok,
                detail=check.detail, measured=jsonable(dict(check.measured)))
        if check.ok is False:
            raise FaultFailed(
                f"fault #{fault.index} {fault.name!r} did not take effect: {check.detail}. "
                "Every fault registered so far was reverted."
            )
