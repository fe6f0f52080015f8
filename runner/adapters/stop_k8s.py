"""The emergency stop in a cluster: a ``gameday-stop`` ConfigMap in the namespace.

Runs inside a cluster (a CronJob'd game day) have no shared ``$GAMEDAY_HOME`` with the
person who wants them stopped; ``kubectl create configmap gameday-stop -n shop`` (or
``gameday stop --namespace shop``) is what they can reach. ``KillSwitch`` is the
``ports.Sentinel`` that reads it at every checkpoint (each tick, before each fault, once
a second in pauses): present → ``Halt(kind="stop")``, so a live run aborts and reverts
(exit 4) and a run not yet in its fault window refuses (exit 3). Decisions:

- Its *existence* is the switch; its ``data`` (``by``, ``reason``, ``at``) only explains.
- Every namespace the experiment may touch is watched (its target namespace and the
  blast radius's list): a stop in any of them stops the run.
- A kill switch that cannot be read is not silently "off": before any fault it refuses
  the run (the button must be known to work before anything is broken); in the window a
  run goes on through ``UNREADABLE_LIMIT`` - 1 failed reads in a row (an API server
  blip) and stops at the next, saying why. Each change of readability is journaled.
- Reads use ``gameday_k8s.client``: the cluster named by (kubeconfig, context) as for the
  faults, with a short timeout (``READ_TIMEOUT``: it sits on the tick path); the
  kubernetes package is imported inside functions only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from runner import errors, ports
from runner.model import experiment as model

NAME = "gameday-stop"
UNREADABLE_LIMIT = 3
#: (connect, read) seconds for a kill-switch read: short, as it sits on the tick path.
READ_TIMEOUT: tuple[float, float] = (2.0, 3.0)


def _core(kubeconfig: str | None, context: str | None) -> Any:
    from kubernetes import client

    from gameday_k8s import client as kclient

    try:
        return client.CoreV1Api(kclient.api_client(kubeconfig, context))
    except kclient.ClientError as exc:
        raise errors.PlatformError(f"Kubernetes: {exc}") from exc


def read(namespace: str, *, kubeconfig: str | None = None,
         context: str | None = None) -> dict[str, str] | None:
    """The kill switch's data in ``namespace`` ({} when it has none), or None when absent."""
    from gameday_k8s import client as kclient

    api = _core(kubeconfig, context)
    try:
        body = kclient.call(f"reading the kill switch ConfigMap {namespace}/{NAME}",
                            api.read_namespaced_config_map, NAME, namespace,
                            _request_timeout=READ_TIMEOUT)
    except kclient.ClientError as exc:
        if exc.status == 404:
            return None
        raise errors.PlatformError(f"Kubernetes: {exc}") from exc
    data = (body or {}).get("data") or {}
    return {str(k): str(v) for k, v in data.items()}


def engage(namespace: str, reason: str, *, by: str, kubeconfig: str | None = None,
           context: str | None = None) -> bool:
    """Create the kill switch; False when it was there already (kept as it is)."""
    from gameday_k8s import client as kclient

    api = _core(kubeconfig, context)
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "gameday"}},
            "data": {"by": by, "reason": reason, "at": f"{time.time():.3f}"}}
    try:
        kclient.call(f"creating the kill switch ConfigMap {namespace}/{NAME}",
                     api.create_namespaced_config_map, namespace, body)
    except kclient.ClientError as exc:
        if exc.status == 409:
            return False
        raise errors.PlatformError(f"Kubernetes: {exc}") from exc
    return True


def lift(namespace: str, *, kubeconfig: str | None = None, context: str | None = None) -> bool:
    """Delete the kill switch; False when it was not there."""
    from gameday_k8s import client as kclient

    api = _core(kubeconfig, context)
    try:
        kclient.call(f"deleting the kill switch ConfigMap {namespace}/{NAME}",
                     api.delete_namespaced_config_map, NAME, namespace)
    except kclient.ClientError as exc:
        if exc.status == 404:
            return False
        raise errors.PlatformError(f"Kubernetes: {exc}") from exc
    return True


def namespaces_of(exp: model.Experiment) -> tuple[str, ...]:
    """Where the kill switch of an experiment is looked for."""
    found = [exp.target.namespace] if exp.target.namespace else []
    found += [ns for ns in exp.blast_radius.namespaces if ns not in found]
    return tuple(found)


def explain(namespace: str, data: dict[str, str]) -> str:
    by = data.get("by") or "someone"
    why = f": {data['reason']}" if data.get("reason") else ""
    return f"the kill switch ConfigMap {namespace}/{NAME} exists (created by {by}{why})"


class KillSwitch:
    """``ports.Sentinel`` over the ``gameday-stop`` ConfigMaps of some namespaces."""

    name = "k8s-kill-switch"

    def __init__(self, namespaces: Sequence[str], *, kubeconfig: str | None = None,
                 context: str | None = None) -> None:
        self.namespaces = tuple(namespaces)
        self.kubeconfig = kubeconfig
        self.context = context
        self.failures = 0

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        problem = None
        for ns in self.namespaces:
            try:
                data = read(ns, kubeconfig=self.kubeconfig, context=self.context)
            except errors.PlatformError as exc:
                problem = exc.message
                continue
            if data is not None:
                return ports.Halt(kind="stop", reason=f"stopped because {explain(ns, data)}",
                                  evidence={"switch": f"{ns}/{NAME}", **data})
        return self._readable(point, problem)

    def _readable(self, point: ports.Checkpoint, problem: str | None) -> ports.Halt | None:
        before = self.failures
        self.failures = self.failures + 1 if problem else 0
        if point.record is not None and (before == 0) != (self.failures == 0):
            point.record("warning", {"phase": point.phase, "message": (
                f"the kill switch cannot be read: {problem}" if problem
                else "the kill switch can be read again")})
        if problem is None:
            return None
        if point.phase in ("preflight", "baseline") or self.failures >= UNREADABLE_LIMIT:
            return ports.Halt(kind="stop", reason=(
                f"the kill switch ({NAME} in {', '.join(self.namespaces)}) cannot be read "
                f"({self.failures} time(s) in a row: {problem}); a run that cannot see its "
                "emergency stop does not go on"),
                evidence={"failures": self.failures, "error": problem})
        return None
