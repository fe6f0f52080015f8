"""gameday_local: Chaos Toolkit actions and probes for gameday's local sandbox.

Usable from a plain ``chaos run`` as well as from gameday: every function is a Chaos
Toolkit python provider whose arguments are JSON values, and whose first argument
``sandbox`` is the sandbox's state directory (where ``gameday sandbox up`` wrote
``sandbox.json``; by default ``./.gameday/sandbox``). Example activity::

    {"type": "action", "name": "kill-one-replica",
     "provider": {"type": "python", "module": "gameday_local.actions",
                  "func": "kill_replicas",
                  "arguments": {"sandbox": ".gameday/sandbox", "count": 1, "seed": 7}}}

Decision: the extension is a thin layer over ``runner.sandbox.client`` (HTTP to the
sandbox's control APIs with timeouts), so gameday and a plain ``chaos run`` hit the
sandbox in exactly the same way.
"""

from __future__ import annotations

from typing import Any

from chaoslib.discovery import discover_actions, discover_probes, initialize_discovery_result

__version__ = "0.1.0"

__all__ = ["__version__", "discover"]


def discover(discover_system: bool = True) -> dict[str, Any]:
    """Chaos Toolkit discovery: the actions and probes this extension offers."""
    discovery: dict[str, Any] = initialize_discovery_result("gameday-local", __version__, "local")
    discovery["activities"].extend(discover_actions("gameday_local.actions"))
    discovery["activities"].extend(discover_probes("gameday_local.probes"))
    return discovery
