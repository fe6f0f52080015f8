"""Chaos Toolkit probes of gameday's Kubernetes extension (python provider).

They read, never write, and name their cluster with ``kubeconfig``/``context`` like the
actions do. ``ready_replicas`` is the same reading the runner's ``ready_replicas``
guardrail makes, so a plain Chaos Toolkit experiment can use it as a probe.
"""



from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from gameday_k8s import chaosmesh
from gameday_k8s import client as kclient
from gameday_k8s import workloads as wl

__all__ = ["leftover_network_chaos", "ready_replicas"]


def ready_replicas(
    name: str,
    ns: str,
    *,
    kind: wl.WorkloadKind = "Deployment",
    kubeconfig: str | None = None,
    context: str | None = None,
) -> int:
    """``status.readyReplicas`` of a Deployment or StatefulSet (0 when absent)."""
    try:
        api = kclient.api_client(kubeconfig, context)
        ready, _desired = wl.replicas(wl.read_workload(api, ns, kind, name))
    except kclient.ClientError as exc:
        raise ActivityFailed(str(exc)) from exc
    return ready


def leftover_network_chaos(
    ns: str, *, kubeconfig: str | None = None, context: str | None = None
) -> list[dict[str, Any]]:
    """Every gameday ``NetworkChaos`` in ``ns`` (label ``gameday.io/run-id``)."""
    from kubernetes import client

    try:
        custom = client.CustomObjectsApi(kclient.api_client(kubeconfig, context))
        body = kclient.call(
            f"listing NetworkChaos in {ns}", custom.list_namespaced_custom_object,
            chaosmesh.GROUP, chaosmesh.VERSION, ns, chaosmesh.PLURAL,
            label_selector=chaosmesh.RUN_ID_LABEL,
        )
    except kclient.ClientError as exc:
        raise ActivityFailed(str(exc)) from exc
    found: list[dict[str, Any]] = []
    for item in body.get("items") or []:
        meta = item.get("metadata") or {}
        labels = meta.get("labels") or {}
        if chaosmesh.RUN_ID_LABEL not in labels:  # the server may ignore the selector
            continue
        run_id = (meta.get("annotations") or {}).get(chaosmesh.RUN_ID_LABEL)
        found.append({"name": meta.get("name"), "namespace": meta.get("namespace") or ns,
                      "run_id": run_id or labels[chaosmesh.RUN_ID_LABEL]})
    return found
