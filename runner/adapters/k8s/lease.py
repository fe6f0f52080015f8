"""``KubeLease``: ``ports.TargetLease`` on Kubernetes Leases, the cluster's dead man's switch.

A run claims its resolved targets (``platform.lock_keys``) with one lock Lease each and
keeps a run Lease renewed at every checkpoint; the run Lease carries what a guard needs
to revert without the runner's pod: the pending reverts as Chaos Toolkit activities,
mirrored from the journal (``observe`` is a journal listener) *before* each fault acts.

Decisions:
- Two runners anywhere in the cluster cannot hit the same pods (``locking``): creating a
  lock Lease is atomic (409 if it exists). A lock held by another run is taken over only when that
  run is over: finished, reverted, or dead (lease expired) with nothing pending. A dead
  run with reverts pending refuses the run (exit 3) naming its journal and the command
  that finishes it, unless ``leftovers`` (``--sweep-leftovers``) reverts them first.
  Takeovers are CAS writes; a 409 means someone else moved first: read again, decide
  again (bounded), then refuse.
- ``<endpoint>/*`` (a fault that names nothing) conflicts with every lock in its
  namespace: after taking its locks a run lists the namespace's lock Leases and backs
  off (refuses) on any conflict with a live holder, so two racing runs refuse each other
  rather than overlap.
- If the Lease cannot be written before a fault acts, the fault does not act (the
  listener raises, the engine reverts what is registered): the guard never misses a
  fault. A lease that cannot be renewed for a whole lease duration, or that a guard has
  taken over, ends the run (exit 4) at the next checkpoint: the runner reverts too
  (reverts are idempotent).
- A keepalive thread renews ``renewTime`` between checkpoints (long activities, the
  revert phase), but only up to ``max_silence`` after the engine's last renewal: a
  runner that died stops renewing at once; one that hung stops after ``max_silence``.
- At release the sealed journal is kept in a ConfigMap ``gameday-journal-<run>`` (gzip,
  when it fits), so a reviewer gets it after the pod and its volume are gone.
"""

from __future__ import annotations

import base64
import gzip
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import errors
from runner.adapters.k8s import leases as wire
from runner.adapters.k8s import locking
from runner.journal import events
from runner.model import experiment as model

log = logging.getLogger("gameday.k8s.lease")
CONFIGMAP_LIMIT = 900 * 1024  # a ConfigMap holds 1 MiB; leave room for the rest
Leftovers = locking.Leftovers


class KubeLease:
    """Leases for one run, on the cluster ``api`` (a ``gameday_k8s`` ApiClient) reaches."""

    def __init__(self, api: Callable[[], Any], *, where: str, namespace: str,
                 lease_seconds: float, now: Callable[[], float] = time.time,
                 leftovers: Leftovers | None = None, max_silence: float = 600.0,
                 keepalive: bool = True) -> None:
        self._api_factory = api
        self._where = where
        self.home = namespace
        self.lease_seconds = lease_seconds
        self._now = now
        self._leftovers = leftovers
        self._max_silence = max_silence
        self._keepalive = keepalive
        self._api: wire.LeaseApi | None = None
        self.run_id = ""
        self.name = ""
        self.journal = ""
        self._claim: locking.Locks | None = None
        self.pending: dict[int, dict[str, Any]] = {}
        self._renewed_ok = 0.0
        self._engine_renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write = threading.Lock()

    @property
    def _locks(self) -> list[tuple[str, str]]:
        """The lock Leases this run holds (namespace, name)."""
        return [] if self._claim is None else self._claim.taken

    @property
    def api(self) -> wire.LeaseApi:
        if self._api is None:
            self._api = wire.LeaseApi(self._api_factory(), self._where)
        return self._api

    # -- claim -----------------------------------------------------------------------
    def acquire(self, run_id: str, keys: Sequence[str], journal: str) -> None:
        self.run_id, self.journal = run_id, journal
        self.name = wire.run_lease_name(run_id)
        wanted = sorted(set(keys))
        spaces = sorted({wire.namespace_of(k) for k in wanted})
        self.home = self.home if self.home in spaces or not spaces else spaces[0]
        now = self._now()
        self.api.create(wire.body(
            self.name, self.home, kind="run", run_id=run_id, holder=holder(),
            seconds=self.lease_seconds, now=now,
            notes={"run-id": run_id, "state": "live", "phase": "preflight", "keys": wanted,
                   "journal": journal, "host": holder(), "pending": [],
                   "expires-at": f"{now + self.lease_seconds:.3f}"}))
        self._renewed_ok = now
        if self._keepalive:  # from now on: a slow claim must not look like a dead runner
            self._thread = threading.Thread(target=self._beat, name="gameday-lease",
                                            daemon=True)
            self._thread.start()
        self._claim = locking.Locks(self.api, run_id=run_id,
                                    run_lease=f"{self.home}/{self.name}",
                                    seconds=self.lease_seconds, now=self._now,
                                    leftovers=self._leftovers)
        try:
            for key in wanted:
                self._claim.claim(key)
            self._claim.cross_check(spaces, wanted)
        except BaseException:
            self._unclaim()
            raise

    def _unclaim(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        for ns, name in self._locks:
            with _quiet():
                self.api.delete(ns, name)
        self._locks.clear()
        with _quiet():
            self.api.delete(self.home, self.name)

    # -- the lease -------------------------------------------------------------------
    def renew(self, phase: str, head: tuple[int, str] | None) -> None:
        if not self.name:
            return
        self._engine_renewed = time.monotonic()
        notes: dict[str, object] = {"phase": phase}
        if head is not None:
            notes["head"] = f"{head[0]}:{head[1]}"
        self._renew(notes, strict=True)

    def _renew(self, notes: Mapping[str, object], *, strict: bool) -> None:
        now = self._now()
        patch = {"metadata": {"annotations": wire.encode(
                     {**notes, "expires-at": f"{now + self.lease_seconds:.3f}"})},
                 "spec": {"renewTime": wire.micro_time(now)}}
        try:
            with self._write:
                got = self.api.patch(self.home, self.name, patch)
        except errors.GamedayError as exc:
            if strict and now - self._renewed_ok > self.lease_seconds:
                raise errors.RunnerError(
                    f"The run's Lease {self.home}/{self.name} could not be renewed for "
                    f"{now - self._renewed_ok:.0f} s ({exc.message}); a guard may be "
                    "reverting it, so the run stops here and reverts too.") from exc
            log.warning("lease renewal failed, will retry: %s", exc.message)
            return
        self._renewed_ok = now
        state = wire.notes_of(got or {}).get("state", "gone" if got is None else "live")
        if strict and state != "live":
            raise errors.RunnerError(
                f"The run's Lease {self.home}/{self.name} is {state} "
                f"({wire.notes_of(got or {}).get('note', 'deleted')}); the run stops here "
                "and reverts too (reverts are idempotent).")

    def _beat(self) -> None:
        interval = max(0.25, self.lease_seconds / 4)  # a slow API call still leaves room
        while not self._stop.wait(interval):
            if time.monotonic() - self._engine_renewed > self._max_silence:
                continue  # the engine is silent: let the lease run out
            try:
                self._renew({}, strict=False)
            except Exception as exc:  # noqa: BLE001 - the keepalive must outlive any hiccup
                log.warning("lease keepalive failed, will retry: %s", exc)

    def observe(self, event: Mapping[str, Any]) -> None:
        """Journal listener: mirror pending reverts into the Lease as they change."""
        kind = event.get("type")
        if not self.name or kind not in (events.FAULT_INTENT, events.REVERT_RESULT):
            return
        index = int(event.get("fault", -1))
        if kind == events.FAULT_INTENT:
            if not event.get("revert"):
                return
            self.pending[index] = {"fault": index, "name": event.get("name"),
                                   "revert": event.get("revert"), "seq": event.get("seq")}
        elif event.get("ok") is True and self.pending.pop(index, None) is None:
            return
        patch = {"metadata": {"annotations": wire.encode(
            {"pending": sorted(self.pending.values(), key=lambda p: p["fault"])})}}
        try:
            with self._write:
                self.api.patch(self.home, self.name, patch)
        except errors.GamedayError as exc:
            if kind == events.FAULT_INTENT:  # the fault must not act unmirrored
                raise errors.RunnerError(
                    f"The pending revert of fault #{index} could not be mirrored into the "
                    f"Lease {self.home}/{self.name} ({exc.message}), so the guard would not "
                    "know it; the fault was not injected.") from exc
            log.warning("could not mirror a revert into the Lease: %s", exc.message)

    def release(self, head: tuple[int, str] | None) -> None:
        if not self.name:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        left = sorted(self.pending.values(), key=lambda p: p["fault"])
        notes: dict[str, object] = {"state": "revert-failed" if left else "finished",
                                    "phase": "finished", "pending": left}
        if head is not None:
            notes["head"] = f"{head[0]}:{head[1]}"
        notes["journal-configmap"] = self._keep_journal()
        with _quiet():
            self.api.patch(self.home, self.name, {"metadata": {"annotations":
                                                               wire.encode(notes)}})
        if not left:
            for ns, name in self._locks:
                with _quiet():
                    self.api.delete(ns, name)
            self._locks.clear()

    def _keep_journal(self) -> str:
        path = Path(self.journal)
        try:
            packed = gzip.compress(path.read_bytes())
        except OSError as exc:
            return f"not kept: {exc.strerror}"
        if len(packed) > CONFIGMAP_LIMIT:
            return (f"not kept: {len(packed)} bytes gzipped is over a ConfigMap's room; the "
                    f"journal is on the volume at {path}")
        name = wire.run_lease_name(self.run_id).replace("gameday-run-", "gameday-journal-", 1)
        try:
            self.api.keep_journal(self.home, name, self.run_id,
                                  {"journal.jsonl.gz": base64.b64encode(packed).decode()})
        except errors.GamedayError as exc:
            return f"not kept: {exc.message}"
        return f"{self.home}/{name}"


class _quiet:
    """Best effort: a failed cleanup call is logged, never raised."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, _tb: object) -> bool:
        if isinstance(exc, errors.GamedayError):
            log.warning("lease cleanup failed: %s", exc.message)
            return True
        return False


def holder() -> str:
    return os.environ.get("POD_NAME") or socket.gethostname()


def build(exp: model.Experiment, *, kubeconfig: str | None, context: str | None,
          lease_seconds: float, leftovers: Leftovers | None = None) -> KubeLease:
    """The lease of a Kubernetes run; nothing is contacted until ``acquire``."""
    from gameday_k8s import client as kclient

    chosen = context or exp.target.context

    def api() -> Any:
        try:
            info = kclient.resolve(kubeconfig, chosen)
            return kclient.api_client(info.kubeconfig, info.context)
        except kclient.ClientError as exc:
            raise errors.PreflightRefused(f"Kubernetes: {exc}; nothing was injected.") from exc

    return KubeLease(api, where=f"kube context {chosen or '(current)'}",
                     namespace=exp.target.namespace or "default", lease_seconds=lease_seconds,
                     leftovers=leftovers)
