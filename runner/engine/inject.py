"""The inject phase: journal each fault's intent, register its revert, act, judge, check.

Order per fault, never changed: checkpoint (stop, signals, lease) → ``fault-intent``
journaled and fsynced → revert pushed on the stack → the action runs → its outcome is
judged (the activity runner raises on an exception, a non-zero exit, an HTTP error) →
``fault-result`` → the platform checks the fault took effect (``fault-effect``: e.g. the
latency measured against the one requested, the named replicas gone).

``intend`` / ``failed`` / ``succeeded`` are the same steps one by one, for a method's
background actions (``runner.engine.method``): the intent is journaled in the run's own
thread before the action is handed to a worker, and its outcome when it is joined.

A fault that failed or did not take effect ends the run: every fault registered so far
(this one included, its intent may have half-acted) is reverted and the run exits 4
saying "the fault did not take effect", never "held".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

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
        """Intent, revert registered, act, judge, check (see the module docstring)."""
        self.intend(fault)
        started = self.ctx.clock.monotonic()
        try:
            result = self.ctx.activities.run(fault.action)
        except Exception as exc:  # noqa: BLE001 - every failure is journaled, then raised
            self.failed(fault, self.ctx.clock.monotonic() - started, exc)
        self.succeeded(fault, self.ctx.clock.monotonic() - started, result)

    def intend(self, fault: ports.PlannedFault) -> None:
        """Checkpoint, then journal the intent (fsynced) and register the revert."""
        ctx = self.ctx
        ctx.checkpoint("inject", fault=fault.index)
        ctx.log(events.FAULT_INTENT, **planned_dict(fault))
        if fault.revert is not None:
            self.stack.push(reverts.RevertEntry(fault.index, fault.name, fault.revert))

    def failed(self, fault: ports.PlannedFault, seconds: float, exc: BaseException) -> NoReturn:
        """Journal a failed action and end the run: it did not happen as written (exit 4)."""
        message = exc.message if isinstance(exc, errors.GamedayError) else repr(exc)
        evidence = exc.evidence if isinstance(exc, errors.ActivityError) else {}
        self.ctx.log(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=False,
                     seconds=round(seconds, 6), error=message, evidence=evidence)
        raise FaultFailed(
            f"fault #{fault.index} {fault.name!r} did not take effect: it failed to "
            f"inject ({message}). Every fault registered so far was reverted."
        ) from exc

    def succeeded(self, fault: ports.PlannedFault, seconds: float, result: Any) -> None:
        """Journal a completed action, then check that it took effect."""
        self.injected += 1
        self.ctx.log(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=True,
                     seconds=round(seconds, 6), result=jsonable(result))
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
