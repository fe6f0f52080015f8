"""Chaos Toolkit activities as gameday faults: the ``ActivityRunner`` over chaoslib.

Any Chaos Toolkit extension action can be a fault because every fault, ours included,
is executed here through chaoslib's own ``run_activity`` (python, process and http
providers). chaoslib is validated structurally first (``ensure_activity_is_valid``), and
its failures are translated into ``errors.ActivityError`` with the activity named.

Decision: an activity's outcome is *judged*, never assumed. chaoslib returns a process
that exited non-zero and an HTTP answer of 404 as plain results (it only logs a
warning); gameday treats them as failures, with the evidence kept:

- python provider: an exception is a failure (chaoslib raises it);
- process provider: exit status ≠ 0 is a failure (a negative status: killed by a signal);
  a timeout is a failure;
- http provider: status ≥ 400 is a failure, unless the provider declares
  ``expected_status`` (an int or a list of ints), in which case any other status is;
  connection errors and timeouts are failures.

The evidence (status, the tail of stderr/stdout or of the body, the exception) is
bounded so a chatty activity cannot bloat the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from runner import errors

#: Characters of stdout/stderr/body kept as evidence.
TAIL = 2000


def chaoslib_version() -> str:
    try:
        import chaoslib
    except ImportError:  # pragma: no cover - a mandated dependency
        return "missing"
    return str(getattr(chaoslib, "__version__", "unknown"))


def tail(value: Any) -> Any:
    """A bounded copy of an output for the journal (the tail of long text)."""
    return _tail(value)


def _tail(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value if len(value) <= TAIL else "…" + value[-TAIL:]
    if isinstance(value, Mapping | list):
        text = repr(value)
        return value if len(text) <= TAIL else "…" + text[-TAIL:]
    return value


def judge(activity: Mapping[str, Any], result: Any) -> tuple[str | None, dict[str, Any]]:
    """``(why it failed or None, evidence)`` for a completed activity's result."""
    provider = activity.get("provider") or {}
    kind = provider.get("type")
    if kind == "process" and isinstance(result, Mapping) and "status" in result:
        status = result.get("status")
        evidence = {"provider": "process", "status": status,
                    "stderr": _tail(result.get("stderr") or ""),
                    "stdout": _tail(result.get("stdout") or "")}
        if not isinstance(status, int) or status == 0:
            return None, evidence
        if status < 0:
            return f"the process was killed by signal {-status}", evidence
        return f"the process exited with status {status}", evidence
    if kind == "http" and isinstance(result, Mapping) and "status" in result:
        status = result.get("status")
        evidence = {"provider": "http", "status": status, "body": _tail(result.get("body"))}
        expected = provider.get("expected_status")
        if expected is not None:
            allowed = [expected] if isinstance(expected, int) else list(expected)
            if status not in allowed:
                return (f"the HTTP answer was {status}, expected "
                        f"{' or '.join(str(a) for a in allowed)}"), evidence
            return None, evidence
        if isinstance(status, int) and status >= 400:
            return f"the HTTP answer was {status}", evidence
        return None, evidence
    return None, {"provider": kind}


class ChaosToolkitActivities:
    """Runs Chaos Toolkit activities (with optional configuration and secrets)."""

    def __init__(
        self,
        configuration: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
    ) -> None:
        self._configuration = dict(configuration or {})
        self._secrets = dict(secrets or {})
        # chaoslib logs every failure with a traceback at DEBUG/ERROR; the journal has ours.
        logging.getLogger("chaostoolkit").setLevel(logging.CRITICAL)
        logging.getLogger("logzero_default").setLevel(logging.CRITICAL)

    def run(self, activity: Mapping[str, Any]) -> Any:
        """Run one activity; its result, or ``ActivityError`` with the evidence."""
        from chaoslib.activity import ensure_activity_is_valid, run_activity
        from chaoslib.exceptions import ChaosException

        body = dict(activity)
        name = body.get("name", "<unnamed activity>")
        try:
            ensure_activity_is_valid(body)
            result = run_activity(body, self._configuration, self._secrets)
        except ChaosException as exc:
            raise errors.ActivityError(
                f"activity {name!r} failed: {exc}",
                {"exception": type(exc).__name__, "message": _tail(str(exc))},
            ) from exc
        except Exception as exc:
            raise errors.ActivityError(
                f"activity {name!r} failed: {type(exc).__name__}: {exc}",
                {"exception": type(exc).__name__, "message": _tail(str(exc))},
            ) from exc
        why, evidence = judge(body, result)
        if why is not None:
            detail = evidence.get("stderr") or evidence.get("body") or ""
            tail = f" ({str(detail).strip()[-200:]})" if detail else ""
            raise errors.ActivityError(f"activity {name!r} failed: {why}{tail}", evidence)
        return result
