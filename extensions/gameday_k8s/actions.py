"""Chaos Toolkit actions of gameday's Kubernetes faults (python provider, JSON-able args).

Every function names its cluster with ``kubeconfig``/``context`` and its targets
exactly, so the journal alone is enough to run it again (``gameday revert``) and a
plain ``chaos run`` can use it too. Every one is idempotent where it reverts: a thing
already gone is success.

Decision: pod kill deletes the pods chosen (and journaled) at plan time by name, with
the pod's UID as a delete precondition, instead of chaosk8s's ``terminate_pods``: that
one re-selects pods at action time (so the journal would not name the victims), fails
on a pod that is already gone, binds its cluster through environment variables and has
no request timeout. The UID precondition means a StatefulSet pod recreated under the
same name is never killed twice by a retry.
"""



from __future__ import annotations

import time
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed

from gameday_k8s import chaosmesh
from gameday_k8s import client as kclient
from gameday_k8s import selectors as sel
from gameday_k8s import workloads as wl

__all__ = ["add_latency", "delete_pods", "remove_latency", "wait_for_workloads"]


class WorkloadTarget(TypedDict):
    """A workload whose pods a fault killed and how many ready pods it must get back."""

    kind: wl.WorkloadKind
    name: str
    namespace: str
    ready: int


def _api(kubeconfig: str | None, context: str | None) -> Any:
    try:
        return kclient.api_client(kubeconfig, context)
    except kclient.ClientError as exc:
        raise ActivityFailed(str(exc)) from exc


def delete_pods(
    names: list[str],
    ns: str,
    *,
    grace_period: int | None = None,
    uids: list[str] | None = None,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> dict[str, list[str]]:
    """Delete exactly the pods ``names`` in ``ns``; returns deleted and already-gone names.

    ``uids`` (same order as ``names``) are delete preconditions: a pod that was replaced
    by a new one with the same name counts as already gone.
    """
    from kubernetes import client

    core = client.CoreV1Api(_api(kubeconfig, context))
    if uids is not None and len(uids) != len(names):
        raise ActivityFailed("delete_pods: uids must list one UID per pod name")
    deleted: list[str] = []
    gone: list[str] = []
    for index, name in enumerate(names):
        options: dict[str, Any] = {}
        if grace_period is not None:
            options["grace_period_seconds"] = int(grace_period)
        if uids is not None:
            options["preconditions"] = client.V1Preconditions(uid=uids[index])
        try:
            kclient.call(
                f"deleting pod {ns}/{name}",
                core.delete_namespaced_pod,
                name,
                ns,
                body=client.V1DeleteOptions(**options),
            )
        except kclient.ClientError as exc:
            if exc.status in (404, 409):  # gone, or a new pod under that name
                gone.append(name)
                continue
            raise ActivityFailed(str(exc)) from exc
        deleted.append(name)
    return {"deleted": deleted, "already_gone": gone}


def add_latency(
    name: str,
    ns: str,
    selector: str,
    delay: float,
    *,
    duration: float,
    run_id: str,
    jitter: float = 0.0,
    correlation: float = 0.0,
    direction: chaosmesh.Direction = "to",
    mode: chaosmesh.Mode = "all",
    value: str | None = None,
    fault: str = "latency",
    kubeconfig: str | None = None,
    context: str | None = None,
) -> dict[str, Any]:
    """Create a Chaos Mesh ``NetworkChaos`` delaying the selected pods' traffic.

    It expires by itself after ``duration`` seconds (``spec.duration``). Creating it
    twice for the same run (a retry) is success; a same-named object of another run
    is an error.
    """
    from kubernetes import client

    try:
        parsed = sel.parse(selector)
    except sel.SelectorError as exc:
        raise ActivityFailed(f"add_latency: {exc}") from exc
    if parsed.is_empty:
        raise ActivityFailed("add_latency: a label selector is required")
    body = chaosmesh.network_delay(
        name=name, namespace=ns, run_id=run_id, labels=parsed.equality_labels(),
        expressions=parsed.expressions(), delay=delay, jitter=jitter,
        correlation=correlation, direction=direction, duration=duration, mode=mode,
        value=value, fault=fault,
    )
    custom = client.CustomObjectsApi(_api(kubeconfig, context))
    where = f"NetworkChaos {ns}/{name}"
    try:
        kclient.call(f"creating {where}", custom.create_namespaced_custom_object,
                     chaosmesh.GROUP, chaosmesh.VERSION, ns, chaosmesh.PLURAL, body)
    except kclient.ClientError as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"creating {where} failed: the API has no {chaosmesh.PLURAL}."
                f"{chaosmesh.GROUP} resource. {chaosmesh.INSTALL_HINT}"
            ) from exc
        if exc.status != 409:
            raise ActivityFailed(str(exc)) from exc
        existing = kclient.call(f"reading {where}", custom.get_namespaced_custom_object,
                                chaosmesh.GROUP, chaosmesh.VERSION, ns, chaosmesh.PLURAL, name)
        owner = ((existing.get("metadata") or {}).get("annotations") or {}).get(
            chaosmesh.RUN_ID_LABEL
        )
        if owner != run_id:
            raise ActivityFailed(
                f"{where} already exists and belongs to run {owner!r}, not {run_id!r}"
            ) from exc
    return {"name": name, "namespace": ns, "duration": body["spec"]["duration"],
            "selector": str(parsed)}


def remove_latency(
    name: str, ns: str, *, kubeconfig: str | None = None, context: str | None = None
) -> str:
    """Delete the ``NetworkChaos``; one that is already gone (404) is success."""
    from kubernetes import client

    custom = client.CustomObjectsApi(_api(kubeconfig, context))
    try:
        kclient.call(f"deleting NetworkChaos {ns}/{name}",
                     custom.delete_namespaced_custom_object,
                     chaosmesh.GROUP, chaosmesh.VERSION, ns, chaosmesh.PLURAL, name)
    except kclient.ClientError as exc:
        if exc.status == 404:
            return "already gone"
        raise ActivityFailed(str(exc)) from exc
    return "deleted"


def _ready_replacements(api: Any, target: WorkloadTarget, killed: set[str]) -> tuple[int, int]:
    """``(status.readyReplicas, ready pods that are not among the killed ones)``."""
    body = wl.read_workload(api, target["namespace"], target["kind"], target["name"])
    ready, _desired = wl.replicas(body)
    selector = sel.from_label_selector((body.get("spec") or {}).get("selector"))
    if selector.is_empty:
        return ready, 0
    pods = wl.list_pods(api, target["namespace"], str(selector))
    fresh = [
        p for p in pods
        if selector.matches((p.get("metadata") or {}).get("labels"))
        and wl.is_ready(p)
        and (p.get("metadata") or {}).get("uid") not in killed
    ]
    return ready, len(fresh)


def wait_for_workloads(
    workloads: list[WorkloadTarget],
    *,
    killed_uids: list[str] | None = None,
    timeout: float = 300.0,
    interval: float = 2.0,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> dict[str, Any]:
    """Wait (bounded by ``timeout``) until every workload has its ready pods back.

    Back means: ``status.readyReplicas`` reached the target's ``ready`` count AND that
    many ready pods exist that are not among ``killed_uids`` (the status alone can lag
    behind a deletion for a moment). Raises ``ActivityFailed`` on timeout, naming what
    is still missing, because a workload that does not heal needs a human.
    """
    api = _api(kubeconfig, context)
    killed = set(killed_uids or [])
    deadline = time.monotonic() + timeout
    attempts = max(1, int(timeout / max(interval, 0.01)) + 2)
    missing: list[str] = []
    for _attempt in range(attempts):
        missing = []
        for target in workloads:
            try:
                ready, fresh = _ready_replacements(api, target, killed)
            except kclient.ClientError as exc:
                missing.append(f"{target['kind']} {target['namespace']}/{target['name']}: {exc}")
                continue
            if min(ready, fresh) < target["ready"]:
                missing.append(
                    f"{target['kind']} {target['namespace']}/{target['name']} has "
                    f"{min(ready, fresh)} of {target['ready']} ready pods"
                )
        if not missing:
            return {"ready": [t["name"] for t in workloads]}
        if time.monotonic() + interval > deadline:
            break
        time.sleep(interval)
    raise ActivityFailed(
        f"workloads did not get their ready pods back within {timeout:g} s: "
        + "; ".join(missing)
    )
