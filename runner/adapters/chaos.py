"""Chaos Toolkit activities as gameday faults: the ``ActivityRunner`` over chaoslib.

Any Chaos Toolkit extension action can be a fault because every fault, ours included,
is executed here through chaoslib's own ``run_activity`` (python, process and http
providers). chaoslib is validated structurally first (``ensure_activity_is_valid``), and
its failures are translated into ``errors.ActivityError`` with the activity named.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from runner import errors


def chaoslib_version() -> str:
    try:
        import chaoslib
    except ImportError:  # pragma: no cover - a mandated dependency
        return "missing"
    return str(getattr(chaoslib, "__version__", "unknown"))


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
        from chaoslib.activity import ensure_activity_is_valid, run_activity
        from chaoslib.exceptions import ChaosException

        body = dict(activity)
        name = body.get("name", "<unnamed activity>")
        try:
            ensure_activity_is_valid(body)
            return run_activity(body, self._configuration, self._secrets)
        except ChaosException as exc:
            raise errors.ActivityError(f"activity {name!r} failed: {exc}") from exc
        except Exception as exc:
            raise errors.ActivityError(
                f"activity {name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
