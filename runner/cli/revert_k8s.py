"""After ``gameday revert`` finished a Kubernetes run's reverts: close its run Lease.

A Kubernetes run keeps a run Lease in the cluster with its pending reverts (the guard's
copy of them). A next run on those targets decides from that Lease, not from a journal
it cannot see, so reverting from the journal alone left the Lease saying "reverts
pending" and the next run refused, pointing at `gameday revert` again. Once every
revert was observed to succeed, this writes the Lease ``reverted`` (nothing pending,
a note naming who reverted and from which journal).

Decisions:
- The cluster is the one the run's own reverts named (their ``kubeconfig``/``context``
  arguments, recorded in the plan), the Lease the one the run claimed (its name from the
  run id, its namespace among the run's lock keys and its target namespace).
- A Lease still renewed is a runner still alive somewhere: with ``--force`` on such a
  run the Lease is left for the runner (it reverts too, reverts are idempotent) and
  this says so. Without ``--force``, the run's journal was free to write, so its runner
  is gone.
- The write is a compare-and-swap; a conflict (a guard or a sweeping run moved first)
  or an unreachable cluster is said in one line, never an error: the faults are reverted
  either way, and ``gameday guard --namespace NS --once`` closes the Lease later.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner import errors
from runner.journal import events, reader

Say = Callable[[str], None]
OPEN = frozenset({"live", "revert-failed", "reverting"})


def _cluster(read: reader.Journal) -> tuple[str | None, str | None] | None:
    """The (kubeconfig, context) the run's reverts were aimed at, if any revert names one."""
    plan = read.last(events.PLAN) or {}
    for fault in plan.get("faults") or []:
        revert = fault.get("revert") if isinstance(fault, Mapping) else None
        args = ((revert or {}).get("provider") or {}).get("arguments") or {}
        if isinstance(args, Mapping) and ("kubeconfig" in args or "context" in args):
            return args.get("kubeconfig"), args.get("context")
    return None


def _namespaces(read: reader.Journal) -> list[str]:
    from runner.adapters.k8s import leases as wire

    found: list[str] = []
    target = ((read.events[0].get("experiment") or {}).get("target") or {})
    if isinstance(target, Mapping) and isinstance(target.get("namespace"), str):
        found.append(target["namespace"])
    for key in (read.last(events.LOCK) or {}).get("keys") or []:
        try:
            ns = wire.namespace_of(str(key))
        except errors.GamedayError:
            continue
        if ns not in found:
            found.append(ns)
    return found or ["default"]


def close_run_lease(path: Path, *, forced: bool, say: Say,
                    now: Callable[[], float] = time.time) -> str | None:
    """Write the run Lease of ``path``'s Kubernetes run ``reverted``; what was done, or None
    when the journal is not a Kubernetes run's (or its Lease is not there)."""
    read = reader.read(path)
    started = read.events[0]
    if started.get("platform") != "kubernetes":
        return None
    where = _cluster(read)
    if where is None:
        return None
    from runner.adapters.k8s import leases as wire
    from runner.cli import guard_k8s

    run_id = str(started.get("run_id"))
    name = wire.run_lease_name(run_id)
    try:
        api = guard_k8s.lease_api(*where)
        for ns in _namespaces(read):
            lease = api.read(ns, name)
            if lease is not None:
                return _close(api, ns, name, lease, path, forced=forced, say=say, now=now)
    except (errors.GamedayError, wire.Conflict) as exc:
        text = exc.message if isinstance(exc, errors.GamedayError) else str(exc)
        say(f"gameday revert: the run Lease {name} could not be closed ({text}); the faults "
            "are reverted, and `gameday guard --namespace NS --once` closes it later.")
        return None
    return None


def _close(api: Any, ns: str, name: str, lease: Mapping[str, Any], path: Path, *,
           forced: bool, say: Say, now: Callable[[], float]) -> str | None:
    from runner.adapters.k8s import leases as wire

    notes = wire.notes_of(lease)
    if notes.get("state", "live") not in OPEN:
        return None
    if forced and now() < wire.expires_at(lease):
        say(f"gameday revert: the run Lease {ns}/{name} is still renewed (its runner may be "
            "alive), so it is left as it is; that runner reverts too when it ends.")
        return None
    version = (lease.get("metadata") or {}).get("resourceVersion")
    note = (f"reverted by gameday revert on {socket.gethostname()} (pid {os.getpid()}) "
            f"from journal {path}")
    api.patch(ns, name, {"metadata": {"annotations": wire.encode(
        {"state": "reverted", "pending": [], "note": note})}}, version=version)
    say(f"run Lease {ns}/{name}: closed as reverted.")
    return f"{ns}/{name}"
