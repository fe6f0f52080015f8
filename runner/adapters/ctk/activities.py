"""The ``ports.StepRunner`` of a Chaos Toolkit run: chaoslib's activities, judged by gameday.

Decisions:

- ``run`` (actions, rollbacks, probes without a tolerance) is chaoslib's ``run_activity``
  wrapped in the activity-level controls exactly as chaoslib's ``execute_activity``
  wraps it (``controls(level="activity")`` with the run record as state), then judged
  by ``runner.adapters.chaos.judge``: an exception, a process exit status ≠ 0 or an
  HTTP status ≥ 400 (unless ``expected_status`` says otherwise) is a failure, raised
  as ``errors.ActivityError`` with the evidence. Chaos Toolkit records such an action
  as run and carries on; gameday says the method did not happen as written.
- ``observe`` (a probe whose tolerance decides) is the same call without the judging:
  a 404 a tolerance expects is not a failure.
- ``judge`` is chaoslib's ``within_tolerance`` on a copy of the tolerance (a probe
  tolerance gets its ``value`` argument there), a text tolerance ``${}``-substituted first,
  as ``run_steady_state_hypothesis`` does. A tolerance that raises (a regex on a
  mapping...) is "not met", with the error, where chaos run would crash.
- ``seconds`` substitutes a pause as chaoslib does, and refuses a value that is not a
  number of seconds. ``control`` applies the method- and rollback-level controls.
- Placeholders (``${name}``) are substituted by chaoslib's providers themselves, from
  the session's configuration and secrets; nothing substituted is ever journaled.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from typing import Any

from runner import errors, ports
from runner.adapters import chaos
from runner.adapters.ctk import session as session_mod

DETAIL = 300


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= DETAIL else text[:DETAIL] + "…"


class Activities:
    """Runs a Chaos Toolkit run's activities through chaoslib (see the module docstring)."""

    def __init__(self, session: session_mod.Session) -> None:
        self.session = session

    def _execute(self, activity: Mapping[str, Any]) -> Any:
        from chaoslib.activity import run_activity
        from chaoslib.control import controls
        from chaoslib.exceptions import InterruptExecution

        body = copy.deepcopy(dict(activity))
        name = body.get("name", "<unnamed activity>")
        s = self.session
        record: dict[str, Any] = {"activity": copy.deepcopy(body), "output": None,
                                  "start": datetime.datetime.now(datetime.UTC).isoformat()}
        try:
            with controls(level="activity", experiment=s.document, context=body,
                          configuration=s.configuration, secrets=s.secrets) as control:
                try:
                    record["output"] = run_activity(body, s.configuration, s.secrets)
                    record["status"] = "succeeded"
                except Exception as exc:
                    record["status"] = "failed"
                    record["exception"] = [f"{type(exc).__name__}: {exc}"]
                    raise
                finally:
                    record["end"] = datetime.datetime.now(datetime.UTC).isoformat()
                    control.with_state(record)
        except InterruptExecution as exc:
            raise errors.Interrupted(f"interrupted by a control around {name!r}: {exc}") from exc
        except Exception as exc:
            raise errors.ActivityError(
                f"activity {name!r} failed: {type(exc).__name__}: {exc}",
                {"exception": type(exc).__name__, "message": _short(str(exc))},
            ) from exc
        return record["output"]

    def run(self, activity: Mapping[str, Any]) -> Any:
        result = self._execute(activity)
        why, evidence = chaos.judge(activity, result)
        if why is not None:
            detail = evidence.get("stderr") or evidence.get("body") or ""
            tail = f" ({str(detail).strip()[-200:]})" if detail else ""
            raise errors.ActivityError(f"activity {activity.get('name')!r} failed: {why}{tail}",
                                       evidence)
        return result

    def observe(self, activity: Mapping[str, Any]) -> Any:
        return self._execute(activity)

    def judge(self, activity: Mapping[str, Any], output: Any) -> ports.Judgement:
        ok, detail = within(activity.get("tolerance"), output, self.session)
        return ports.Judgement(ok, detail, {"output": chaos.tail(output),
                                            "tolerance": chaos.tail(activity.get("tolerance"))})

    def seconds(self, value: float | str) -> float:
        from chaoslib import substitute

        resolved = substitute(value, self.session.configuration, self.session.secrets) \
            if isinstance(value, str) else value
        if not isinstance(resolved, int | float) or isinstance(resolved, bool) or resolved < 0:
            raise errors.RunnerError(f"the pause {value!r} is {resolved!r}, not a number of "
                                     "seconds (chaoslib sleeps only on numbers); give the "
                                     "configuration value a number (env_var_type: float)")
        return float(resolved)

    def control(self, level: str, scope: str, state: Any = None) -> None:
        self.session.control(level, scope, state)


def within(tolerance: Any, output: Any, session: session_mod.Session) -> tuple[bool, str]:
    """``(met, sentence)``: chaoslib's ``within_tolerance`` on a copy of the tolerance."""
    from chaoslib import substitute
    from chaoslib.hypothesis import within_tolerance

    checked = copy.deepcopy(tolerance)
    if isinstance(checked, str):
        checked = substitute(checked, session.configuration, session.secrets)
    if isinstance(checked, dict) and checked.get("type") == "probe":
        provider = checked.setdefault("provider", {})
        if not isinstance(provider.get("arguments"), dict):
            provider["arguments"] = {}
    try:
        met = bool(within_tolerance(checked, output, configuration=session.configuration,
                                    secrets=session.secrets))
    except Exception as exc:  # noqa: BLE001 - a tolerance that cannot be checked is not met
        return False, f"the tolerance could not be checked ({type(exc).__name__}: {exc})"
    shown = _short(tolerance)
    if met:
        return True, f"{_short(output)} is within the tolerance {shown}"
    return False, f"{_short(output)} is not within the tolerance {shown}"
