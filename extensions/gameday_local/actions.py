"""Chaos Toolkit actions on the local sandbox: kill replicas, add and remove latency.

Each action fails with ``chaoslib.exceptions.ActivityFailed`` (a clean failure in the
Chaos Toolkit journal, no traceback) carrying the sandbox's own message. Reverts are
idempotent: removing latency that is gone (removed or expired) succeeds, and restoring
replicas only waits for the supervisor to have brought them back.
"""

from __future__ import annotations

import time

from chaoslib.exceptions import ActivityFailed

from runner import errors
from runner.sandbox import client, selection, state

__all__ = ["add_latency", "kill_replicas", "remove_latency", "restore_replicas"]


def kill_replicas(sandbox: str, replicas: list[str] | None = None, count: int | None = None,
                  fraction: float | None = None, seed: int | None = None) -> list[str]:
    """Kill replicas of the demo service with SIGKILL; the supervisor restarts them.

    ``replicas`` names them (``["demo-1"]``); without names, ``count`` (or ``fraction``,
    rounded down, at least one; default one replica) are chosen at random with ``seed``.
    Returns the names of the replicas that were killed (a replica that was already
    restarting is not running, so it is not killed again).
    """
    try:
        st = state.load_state(sandbox)
        known = [r["name"] for r in st["replicas"]]
        if replicas is None:
            k = selection.resolve_count(len(known), count, fraction)
            replicas = selection.choose(known, k, seed)
        unknown = sorted(set(replicas) - set(known))
        if unknown:
            raise errors.InputError(
                f"No replica named {', '.join(unknown)}; the sandbox has {', '.join(known)}.")
        return [name for name in replicas if client.kill(st, name)]
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc


def restore_replicas(sandbox: str, timeout: float = 10.0, wait_ready: bool = False) -> int:
    """Undo a kill: start every replica that is down now, without the restart delay.

    Idempotent: replicas already running are left alone. With ``wait_ready``, also wait
    (at most ``timeout`` seconds) until every replica answers its health check; without
    it, readiness is left to the run's recovery watch and guardrails, so the revert itself
    takes milliseconds. Returns the number of replicas running.
    """
    try:
        st = state.load_state(sandbox)
        seen = client.replicas(st)
        running = [client.start(st, r["name"]) if r["pid"] is None else r for r in seen]
        if not wait_ready:
            return sum(1 for r in running if r["pid"] is not None)
        deadline = time.monotonic() + timeout
        while True:
            seen = client.replicas(st)
            ready = sum(1 for r in seen if r["ready"])
            if ready == len(seen):
                return ready
            if time.monotonic() >= deadline:
                missing = ", ".join(r["name"] for r in seen if not r["ready"])
                raise errors.PlatformError(
                    f"Replicas {missing} are not ready {timeout:g} s after the restore began; "
                    f"read their logs in {st['dir']}.")
            for r in seen:
                if r["pid"] is None:
                    client.start(st, r["name"])
            time.sleep(0.1)
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc


def add_latency(sandbox: str, delay: float, jitter: float = 0.0, ttl: float = 60.0,
                injection_id: str | None = None) -> str:
    """Add ``delay`` ± ``jitter`` seconds to every request through the sandbox proxy.

    The injection expires by itself after ``ttl`` seconds, so a dead runner cannot leave
    it behind. Adding an ``injection_id`` that is live replaces it. Returns the id.
    """
    try:
        st = state.load_state(sandbox)
        return client.add_latency(st, injection_id, float(delay), float(jitter), float(ttl))["id"]
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc


def remove_latency(sandbox: str, injection_id: str | None = None) -> int:
    """Remove the latency injection ``injection_id`` (all of them when None).

    Idempotent: an injection already removed or expired counts as done. Returns how
    many injections were live and are now removed.
    """
    try:
        st = state.load_state(sandbox)
        return client.remove_latency(st, injection_id)
    except errors.GamedayError as exc:
        raise ActivityFailed(exc.message) from exc
