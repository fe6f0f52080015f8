"""Did a Kubernetes fault take effect, and is it gone after its revert? Observed, not assumed.

- Pod kill, after the inject: every pod named in the plan is gone under its UID (absent,
  replaced by a new pod of the same name, or terminating: the API accepted the delete).
  A pod still there under its UID and not terminating means the kill did not happen.
- Pod kill, after the revert: every workload the kill hit is back to the ready count it
  had at plan time (``status.readyReplicas``), within the window; the desired count is
  reported beside it.
- Latency, after the inject: the ``NetworkChaos`` exists; where Chaos Mesh runs (a live
  cluster) it reports ``AllInjected``: then the effect is confirmed, a ``False`` with a
  reason is a failed inject, and no status at all within a few seconds is reported as
  "exists, not confirmed" (``ok`` None): nothing claims a delay nobody saw injected.
- Latency, after the revert: the ``NetworkChaos`` is gone (Chaos Mesh's finalizer may
  keep it a moment while it recovers the pods; that is waited for, bounded).
Every wait is bounded in time and in looks; time and sleep are injectable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from gameday_k8s import workloads as wl
from runner import errors, ports
from runner.adapters.k8s import cluster as cluster_module

INJECT_WAIT = 5.0  # seconds to wait for Chaos Mesh to report a NetworkChaos injected
STEP = 0.25


class Effects:
    """The checks, on one cluster; ``clock``/``sleep`` injected for tests."""

    def __init__(self, cluster: Callable[[], cluster_module.Cluster], *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._cluster = cluster
        self._clock = clock
        self._sleep = sleep

    def _poll(self, seconds: float, look: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
        deadline = self._clock() + max(0.0, seconds)
        seen = look()
        for _ in range(int(seconds / STEP) + 2):
            if done(seen) or self._clock() >= deadline:
                return seen
            self._sleep(STEP)
            seen = look()
        return seen

    # -- after the inject ---------------------------------------------------------------
    def check(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        args = _args(fault.action)
        if fault.kind == "pod-kill":
            return self._killed(args)
        if fault.kind == "latency":
            return self._injected(str(args["ns"]), str(args["name"]))
        return ports.EffectCheck(None, "not checked: a generic action has no effect check")

    def _killed(self, args: Mapping[str, Any]) -> ports.EffectCheck:
        names, uids, ns = list(args["names"]), list(args.get("uids") or []), str(args["ns"])
        by_name = {str((p.get("metadata") or {}).get("name")): p
                   for p in self._cluster().pods(ns, "")}
        gone, terminating, alive = [], [], []
        for index, name in enumerate(names):
            meta = (by_name.get(name) or {}).get("metadata") or {}
            uid = uids[index] if index < len(uids) else None
            if not meta or (uid is not None and meta.get("uid") != uid):
                gone.append(name)
            elif meta.get("deletionTimestamp"):
                terminating.append(name)
            else:
                alive.append(name)
        measured = {"requested": names, "gone": gone, "terminating": terminating,
                    "still_running": alive}
        if alive:
            return ports.EffectCheck(False, f"{', '.join(alive)} still running under the "
                                     "UID the plan named", measured)
        detail = f"{len(gone)} of {len(names)} pod(s) gone under their UIDs"
        if terminating:
            detail += f", {len(terminating)} terminating ({', '.join(terminating)})"
        return ports.EffectCheck(True, detail, measured)

    def _injected(self, ns: str, name: str) -> ports.EffectCheck:
        cluster = self._cluster()
        body = self._poll(INJECT_WAIT, lambda: cluster.network_chaos(ns, name),
                          lambda b: b is None or _condition(b, "AllInjected") is not None)
        where = f"NetworkChaos {ns}/{name}"
        if body is None:
            return ports.EffectCheck(False, f"{where} does not exist after the inject")
        injected = _condition(body, "AllInjected")
        measured = {"exists": True, "all_injected": injected,
                    "records": len(((body.get("status") or {}).get("experiment") or {})
                                   .get("containerRecords") or [])}
        if injected is True:
            return ports.EffectCheck(True, f"{where} exists and Chaos Mesh reports it "
                                     f"injected ({measured['records']} record(s))", measured)
        if injected is False:
            why = _reason(body, "AllInjected")
            return ports.EffectCheck(False, f"{where} exists but Chaos Mesh reports it not "
                                     f"injected{': ' + why if why else ''}", measured)
        return ports.EffectCheck(None, f"{where} exists; Chaos Mesh reported no injection "
                                 f"within {INJECT_WAIT:g} s (is its controller running?)",
                                 measured)

    # -- after the revert ---------------------------------------------------------------
    def verify(self, fault: ports.PlannedFault, within: float) -> ports.RevertCheck:
        if fault.kind == "pod-kill" and fault.revert is not None:
            return self._healed(_args(fault.revert), within)
        if fault.kind == "latency":
            args = _args(fault.action)
            return self._removed(str(args["ns"]), str(args["name"]), within)
        return ports.RevertCheck(None, "not checked: a generic action's revert has no check")

    def _healed(self, args: Mapping[str, Any], within: float) -> ports.RevertCheck:
        cluster = self._cluster()
        targets = list(args.get("workloads") or [])

        def look() -> list[tuple[str, int, int, int]]:
            seen = []
            for t in targets:
                ready, desired = wl.replicas(cluster.workload(t["namespace"], t["kind"],
                                                              t["name"]))
                seen.append((f"{t['kind']} {t['namespace']}/{t['name']}", ready,
                             int(t["ready"]), desired))
            return seen

        def back(seen: list[tuple[str, int, int, int]]) -> bool:
            return all(ready >= wanted for _n, ready, wanted, _d in seen)

        try:
            seen = self._poll(within, look, back)
        except errors.PlatformError as exc:
            return ports.RevertCheck(False, f"the workloads cannot be read: {exc.message}")
        shown = "; ".join(f"{n}: {r}/{w} ready ({d} desired)" for n, r, w, d in seen)
        if back(seen):
            return ports.RevertCheck(True, f"back to their ready count: {shown}")
        return ports.RevertCheck(False, f"not back within {within:g} s: {shown}")

    def _removed(self, ns: str, name: str, within: float) -> ports.RevertCheck:
        cluster = self._cluster()
        body = self._poll(min(within, 60.0), lambda: cluster.network_chaos(ns, name),
                          lambda b: b is None)
        if body is None:
            return ports.RevertCheck(True, f"NetworkChaos {ns}/{name} is gone")
        recovered = _condition(body, "AllRecovered")
        return ports.RevertCheck(False, f"NetworkChaos {ns}/{name} still exists"
                                 + (" (Chaos Mesh reports it recovered, its finalizer "
                                    "pending)" if recovered else ""))


def _args(activity: Mapping[str, Any]) -> Mapping[str, Any]:
    return (activity.get("provider") or {}).get("arguments") or {}


def _conditions(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((body.get("status") or {}).get("conditions") or [])


def _condition(body: Mapping[str, Any], kind: str) -> bool | None:
    for c in _conditions(body):
        if c.get("type") == kind:
            return {"True": True, "False": False}.get(str(c.get("status")))
    return None


def _reason(body: Mapping[str, Any], kind: str) -> str:
    for c in _conditions(body):
        if c.get("type") == kind:
            return str(c.get("reason") or c.get("message") or "")
    return ""
