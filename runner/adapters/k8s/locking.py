"""Lock Leases on resolved targets: take, judge the holder, take over, refuse in words.

A run's ``KubeLease`` claims each key (``platform.lock_keys``) with one lock Lease that
names the run Lease holding it. Decisions:
- Creating a lock Lease is atomic (409 if it exists). An existing lock is judged by its
  holder's run Lease: live and renewed (held), over (free: finished, reverted,
  abandoned, or gone), or dead with reverts pending or failed or being reverted by a
  guard (a leftover: refused, or swept first by ``leftovers``). A dead run with nothing
  pending is closed ``abandoned`` on the way (CAS), so nobody waits on it again.
- Taking over a free lock is a CAS write (``resourceVersion``); a 409 means someone
  else moved first: read again, decide again, at most ``ATTEMPTS`` times, then refuse.
- ``<ns>/*`` (a fault that names nothing) conflicts with every live lock of its
  namespace, both ways, checked after all locks are taken: two racing runs refuse each
  other rather than overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner import errors
from runner.adapters.k8s import leases as wire

FREE, OURS, HELD, LEFTOVER = "free", "ours", "held", "leftover"
ATTEMPTS = 4
#: Called with a dead run's Lease while this run holds its other locks; True = reverted.
Leftovers = Callable[[wire.Lease], bool]


class Locks:
    """The lock Leases one run takes (``taken``: (namespace, name) pairs)."""

    def __init__(self, api: wire.LeaseApi, *, run_id: str, run_lease: str, seconds: float,
                 now: Callable[[], float], leftovers: Leftovers | None) -> None:
        self.api = api
        self.run_id = run_id
        self.run_lease = run_lease
        self.lease_seconds = seconds
        self._now = now
        self._leftovers = leftovers
        self.taken: list[tuple[str, str]] = []

    def claim(self, key: str) -> None:
        ns, name = wire.namespace_of(key), wire.lock_lease_name(key)
        mine = wire.body(name, ns, kind="lock", run_id=self.run_id, holder=self.run_id,
                         seconds=self.lease_seconds, now=self._now(),
                         notes={"key": key, "run-id": self.run_id,
                                "run-lease": self.run_lease})
        for _attempt in range(ATTEMPTS):
            try:
                self.api.create(mine)
                self.taken.append((ns, name))
                return
            except wire.Conflict:
                pass
            existing = self.api.read(ns, name)
            if existing is None:
                continue  # deleted in between: create again
            verdict, holder_lease = self.holder(existing)
            if verdict == OURS:
                return
            if verdict in (HELD, LEFTOVER) and not (
                    verdict == LEFTOVER and holder_lease is not None
                    and self._leftovers is not None and self._leftovers(holder_lease)):
                raise self.refusal(key, verdict, holder_lease)
            version = (existing.get("metadata") or {}).get("resourceVersion")
            turns = int((existing.get("spec") or {}).get("leaseTransitions") or 0) + 1
            try:
                taken = self.api.patch(ns, name, {
                    "metadata": {"labels": mine["metadata"]["labels"],
                                 "annotations": mine["metadata"]["annotations"]},
                    "spec": {**mine["spec"], "leaseTransitions": turns}}, version=version)
            except wire.Conflict:
                continue  # someone moved first: look again
            if taken is not None:
                self.taken.append((ns, name))
                return
        raise errors.PreflightRefused(
            f"The lock on {key} kept changing while this run tried to take it (another "
            f"runner is claiming it right now); nothing was injected. Try again.")

    def holder(self, lock: Mapping[str, Any]) -> tuple[str, wire.Lease | None]:
        """Who holds a lock Lease, judged by the holder's run Lease."""
        notes = wire.notes_of(lock)
        if notes.get("run-id") == self.run_id:
            return OURS, None
        ns, _, name = notes.get("run-lease", "").partition("/")
        run = self.api.read(ns, name) if ns and name else None
        if run is None:
            return FREE, None
        state = wire.notes_of(run).get("state", "live")
        if state in ("revert-failed", "reverting"):
            return LEFTOVER, run
        if state != "live":
            return FREE, run
        if self._now() < wire.expires_at(run):
            return HELD, run
        if wire.json_note(run, "pending", []):
            return LEFTOVER, run
        meta = run.get("metadata") or {}
        try:  # dead with nothing pending: close it, so nobody waits on it again
            self.api.patch(ns, name, {"metadata": {"annotations": wire.encode({
                "state": "abandoned",
                "note": f"its runner stopped renewing with no revert pending; closed by run "
                        f"{self.run_id}"})}}, version=meta.get("resourceVersion"))
        except wire.Conflict:
            return HELD, run  # it just moved (renewed, or a guard took it): not free
        return FREE, run

    def cross_check(self, spaces: Sequence[str], wanted: Sequence[str]) -> None:
        """``<ns>/*`` conflicts with any other live lock in that namespace, both ways."""
        for ns in spaces:
            mine_wild = any(k.endswith("/*") and wire.namespace_of(k) == ns for k in wanted)
            for lock in self.api.list(ns, "lock"):
                notes = wire.notes_of(lock)
                if notes.get("run-id") == self.run_id:
                    continue
                if not (mine_wild or notes.get("key", "").endswith("/*")):
                    continue
                verdict, run = self.holder(lock)
                if verdict in (HELD, LEFTOVER):
                    raise self.refusal(notes.get("key", "?"), verdict, run)

    def refusal(self, key: str, verdict: str, run: wire.Lease | None) -> errors.PreflightRefused:
        notes = wire.notes_of(run or {})
        who = (f"run {notes.get('run-id', '?')} (host {notes.get('host', '?')}, journal "
               f"{notes.get('journal', '?')})")
        where = (run or {}).get("metadata") or {}
        if verdict == HELD:
            return errors.PreflightRefused(
                f"Another gameday run holds what this run would touch ({key}): {who}. Wait "
                "for it to finish; nothing was injected.")
        return errors.PreflightRefused(
            f"{who} stopped renewing its lease and left reverts pending on what this run "
            f"would touch ({key}). Finish them with `gameday guard --namespace "
            f"{where.get('namespace', '?')} --once` (reverts from its Lease "
            f"{where.get('namespace', '?')}/{where.get('name', '?')}) or `gameday revert "
            "<its journal>` where the journal is, or run again with --sweep-leftovers; "
            "nothing was injected.")
