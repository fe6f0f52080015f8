"""Chaos Toolkit probes of the local sandbox: replicas and live latency injections.

Probes only read (the supervisor's and the proxy's control APIs); a sandbox that does
not answer makes the probe fail with ``ActivityFailed`` and the sandbox's own message.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from runner import errors
from runner.sandbox import client, state

__all__ = ["active_latency", "list_replicas", "ready_replicas", "url"]


def ready_replicas(sandbox: str) -> int:
    """How many replicas of the demo service are alive and answering ``/healthz``."""
    return sum(1 for r in list_replicas(sandbox) if r["ready"])


def list_replicas(sandbox: str) -> list[dict[str, Any]]:
    """Every replica: ``{name, pid, port, ready, restarts}`` (pid None while restarting)."""
    try:
        return [dict(r) for r in client.replicas(state.load_state(sandbox))]
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc


def active_latency(sandbox: str) -> list[dict[str, Any]]:
    """Live latency injections: ``{id, delay, jitter, ttl, remaining, expires_at}``."""
    try:
        return [dict(i) for i in client.active_latency(state.load_state(sandbox))]
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc


def url(sandbox: str, role: str = "proxy") -> str:
    """The base URL of a sandbox process (``proxy``, ``supervisor``, ``prometheus``).

    A Chaos Toolkit experiment reads it as a configuration probe (the ports are chosen
    when the sandbox starts): ``"proxy": {"type": "probe", "provider": {"type":
    "python", "module": "gameday_local.probes", "func": "url", ...}}``.
    """
    try:
        return state.url_of(state.load_state(sandbox), role)
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc
