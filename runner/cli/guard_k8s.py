"""The cluster side of ``gameday guard``: run Leases whose lease expired, reverted from the Lease.

The runner's journal lives on its pod's volume, out of a guard's reach; the run Lease
carries the pending reverts (mirrored before each fault acted), so that is what a guard
reverts, on the same revert stack ``gameday revert`` uses (retried, judged, never cut
short by a signal), journaled in a guard journal of its own and kept in a ConfigMap.

Decisions:
- A takeover is a CAS write on the run Lease (state ``reverting``, with the guard's own
  lease on it): of two guards, or a guard and a sweeping runner, exactly one reverts; a
  guard that dies mid-way leaves a lease that runs out, and another guard takes over.
- A Lease is data anyone with ``patch leases`` can write, so the guard only runs reverts
  it recognises: python providers of ``gameday_k8s.actions`` and ``chaosk8s.*`` (plus
  ``--allow-module`` prefixes). Anything else is not run, named, and the run's Lease says
  ``revert-failed``: a human must act. gameday's own activities are pointed at the
  guard's cluster (its kubeconfig/context), the one the Lease lives in.
- The outcome goes back into the Lease (state ``reverted`` or ``revert-failed``, a note
  "reverted by the guard after the lease expired at ...", what is still pending), so the
  next run on those targets decides from it.
"""

from __future__ import annotations

import base64
import gzip
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import errors, ports
from runner.adapters.k8s import leases as wire
from runner.engine import clock as clock_mod
from runner.engine import reverts
from runner.guard import policy
from runner.guard import watch as watch_mod
from runner.journal import events, writer

POLL = 2.0
TAKEOVER_SECONDS = 600  # the guard's own lease on a run it reverts
ALLOWED = ("gameday_k8s.actions", "chaosk8s.")
Say = Callable[[str], None]


class KubeStore:
    """gameday run Leases in some namespaces, as watched leases."""

    def __init__(self, api: wire.LeaseApi, namespaces: Sequence[str],
                 run_id: str | None = None) -> None:
        self.api = api
        self.namespaces = list(namespaces)
        self.run_id = run_id

    def scan(self) -> list[policy.Watched]:
        found = []
        for ns in self.namespaces:
            for lease in self.api.list(ns, "run"):
                notes = wire.notes_of(lease)
                if self.run_id is not None and notes.get("run-id") != self.run_id:
                    continue
                meta = lease.get("metadata") or {}
                found.append(policy.Watched(
                    run_id=notes.get("run-id", "?"), where=f"{ns}/{meta.get('name')}",
                    state=notes.get("state", "live"), expires_at=wire.expires_at(lease),
                    alive=None, journal=notes.get("journal")))
        return found


def refusal(activity: Mapping[str, Any], allow: Sequence[str]) -> str | None:
    """Why a revert from a Lease is not run, or None when it may run."""
    provider = activity.get("provider")
    if not isinstance(provider, Mapping) or provider.get("type") != "python":
        return "only python providers are run from a Lease"
    module = str(provider.get("module") or "")
    if not any(module == p or (p.endswith(".") and module.startswith(p)) for p in allow):
        return (f"module {module!r} is not one the guard runs from a Lease (allowed: "
                f"{', '.join(allow)}; add --allow-module)")
    return None


def aimed(activity: Mapping[str, Any], kubeconfig: str | None,
          context: str | None) -> dict[str, Any]:
    """gameday's own activities pointed at the guard's cluster (the Lease's cluster)."""
    provider = dict(activity["provider"])
    if provider.get("module") == "gameday_k8s.actions":
        provider["arguments"] = {**dict(provider.get("arguments") or {}),
                                 "kubeconfig": kubeconfig, "context": context}
    return {**dict(activity), "provider": provider}


class Takeover:
    """Reverts a dead run's pending faults from its Lease; one per guard (or sweep)."""

    def __init__(self, api: wire.LeaseApi, *, by: str, journal_dir: Path,
                 kubeconfig: str | None, context: str | None,
                 allow: Sequence[str] = ALLOWED, activities: ports.ActivityRunner | None = None,
                 clock: ports.Clock | None = None, now: Callable[[], float] = time.time,
                 say: Say = print) -> None:
        self.api, self.by, self.journal_dir = api, by, journal_dir
        self.kubeconfig, self.context = kubeconfig, context
        self.allow = tuple(allow)
        self._activities = activities
        self.clock = clock or clock_mod.SystemClock()
        self.now, self.say = now, say

    def __call__(self, seen: policy.Watched) -> policy.Outcome | None:
        ns, _, name = seen.where.partition("/")
        return self.run(ns, name, note=policy.reason(seen))

    def run(self, ns: str, name: str, *, note: str, dead_only: bool = True
            ) -> policy.Outcome | None:
        lease = self.api.read(ns, name)
        if lease is None:
            return None
        notes = wire.notes_of(lease)
        state, expiry = notes.get("state", "live"), wire.expires_at(lease)
        if state not in policy.OPEN_STATES or (dead_only and self.now() < expiry):
            return None
        version = (lease.get("metadata") or {}).get("resourceVersion")
        try:
            claimed = self.api.patch(ns, name, {
                "metadata": {"annotations": wire.encode(
                    {"state": "reverting", "note": f"{note}; {self.by} is reverting"})},
                "spec": {"holderIdentity": self.by, "leaseDurationSeconds": TAKEOVER_SECONDS,
                         "renewTime": wire.micro_time(self.now())}}, version=version)
        except wire.Conflict:
            return None  # another guard (or a sweeping run) moved first
        if claimed is None:
            return None
        return self._revert(ns, name, lease, expiry, note)

    def _revert(self, ns: str, name: str, lease: wire.Lease, expiry: float,
                note: str) -> policy.Outcome:
        notes = wire.notes_of(lease)
        run_id = notes.get("run-id", "?")
        pending = wire.json_note(lease, "pending", [])
        runnable: list[tuple[dict[str, Any], str | None]] = []
        refused: list[tuple[dict[str, Any], str | None]] = []
        for item in pending if isinstance(pending, list) else []:
            why = refusal(item.get("revert") or {}, self.allow)
            (refused if why else runnable).append((item, why))
        path = self.journal_dir / run_id / "guard-journal.jsonl"
        activities = self._activities or _activities()
        with writer.JournalWriter(path, now=time.time) as jw:
            jw.append(policy.TAKEOVER_EVENT, run_id=run_id, by=self.by, note=note,
                      lease=f"{ns}/{name}", lease_expires_at=expiry,
                      runner_journal=notes.get("journal"), runner_host=notes.get("host"),
                      pending=[p.get("fault") for p, _ in runnable],
                      not_run=[{"fault": p.get("fault"), "why": w} for p, w in refused])
            stack = reverts.RevertStack(activities, jw.append, self.clock, by="gameday guard")
            for item, _why in runnable:
                stack.push(reverts.RevertEntry(int(item["fault"]), str(item.get("name")),
                                               aimed(item["revert"], self.kubeconfig,
                                                     self.context)))
            outcomes = stack.revert_all()
            failed = [o for o in outcomes if not o.ok]
            jw.append(events.REVERT_SESSION, state="finished", run_id=run_id,
                      reverted=len(outcomes) - len(failed), failed=len(failed),
                      not_run=len(refused))
        left_faults = {o.fault for o in failed} | {int(p["fault"]) for p, _ in refused}
        left = [p for p in pending if int(p["fault"]) in left_faults]
        kept = self._keep(ns, run_id, path)
        ok = not left
        self.api.patch(ns, name, {"metadata": {"annotations": wire.encode({
            "state": "reverted" if ok else "revert-failed", "pending": left,
            "note": f"{note}; {self.by}" + ("" if ok else f"; {len(left)} NOT reverted"),
            "guard-journal": kept})}})
        for o in failed:
            self.say(f"gameday guard: revert of fault #{o.fault} {o.name} of run {run_id} "
                     f"FAILED: {o.error}. A human must act now.")
        for p, why in refused:
            self.say(f"gameday guard: revert of fault #{p.get('fault')} {p.get('name')} of run "
                     f"{run_id} NOT RUN: {why}. A human must act now.")
        detail = (f"{note}: reverted {len(outcomes) - len(failed)} fault(s) from Lease "
                  f"{ns}/{name}" + ("" if ok else f", {len(left)} left for a human")
                  + f"; guard journal {path}")
        return policy.Outcome(run_id, int(errors.ExitCode.HELD if ok
                                          else errors.ExitCode.REVERT_FAILED), detail)

    def _keep(self, ns: str, run_id: str, path: Path) -> str:
        name = wire.run_lease_name(run_id).replace("gameday-run-", "gameday-guard-", 1)
        try:
            packed = base64.b64encode(gzip.compress(path.read_bytes())).decode()
            self.api.keep_journal(ns, name, run_id, {"guard-journal.jsonl.gz": packed})
        except (OSError, errors.GamedayError) as exc:
            return f"not kept in the cluster ({exc}); on the guard's disk at {path}"
        return f"{ns}/{name}"


def _activities() -> ports.ActivityRunner:
    from runner.cli import compose

    return compose.build_activities()


def lease_api(kubeconfig: str | None, context: str | None) -> wire.LeaseApi:
    from gameday_k8s import client as kclient

    try:
        info = kclient.resolve(kubeconfig, context)
        api = kclient.api_client(info.kubeconfig, info.context)
    except kclient.ClientError as exc:
        raise errors.PlatformError(f"Kubernetes: {exc}") from exc
    return wire.LeaseApi(api, f"kube context {info.context or 'in-cluster'}")


def sweeper(run_id: str, *, kubeconfig: str | None, context: str | None,
            journal_dir: Path) -> Callable[[wire.Lease], bool]:
    """``--sweep-leftovers`` for a Kubernetes run: revert a dead run from its Lease first."""
    def sweep(lease: wire.Lease) -> bool:
        meta = lease.get("metadata") or {}
        takeover = Takeover(lease_api(kubeconfig, context),
                            by=f"run {run_id} (--sweep-leftovers)", journal_dir=journal_dir,
                            kubeconfig=kubeconfig, context=context)
        done = takeover.run(str(meta.get("namespace")), str(meta.get("name")),
                            note=f"reverted by run {run_id} (--sweep-leftovers) after the "
                                 f"lease expired at {policy.iso(wire.expires_at(lease))}")
        return done is not None and done.code == errors.ExitCode.HELD
    return sweep


def watch_cluster(namespaces: Sequence[str], *, kubeconfig: str | None, context: str | None,
                  clock: ports.Clock, once: bool, poll: float, grace: float,
                  max_seconds: float, journal_dir: Path, allow: Sequence[str] = (),
                  run_id: str | None = None,
                  stop: Callable[[Sequence[policy.Watched]], bool] | None = None,
                  say: Say = print) -> list[policy.Outcome]:
    """Watch the run Leases of ``namespaces`` (only ``run_id``'s, when given)."""
    api = lease_api(kubeconfig, context)
    takeover = Takeover(api, by=f"gameday guard {os.environ.get('POD_NAME') or os.getpid()}",
                        journal_dir=journal_dir, kubeconfig=kubeconfig, context=context,
                        allow=(*ALLOWED, *allow), clock=clock, say=say)
    return watch_mod.watch(KubeStore(api, namespaces, run_id), takeover, clock, poll=poll,
                           grace=grace, max_seconds=max_seconds, once=once, stop=stop, say=say)
