"""Reading pods and workloads as raw JSON: readiness, ownership, ready replicas.

Decision: lists are read with ``_preload_content=False`` and parsed as plain JSON into
``TypedDict`` views instead of the client's model classes. Deserialising 10 000 pods
into ``V1Pod`` objects takes seconds; ``json.loads`` takes milliseconds, and we only
need names, labels, phase, conditions and owners. Large lists are paged (``limit`` and
``continue``) like kubectl does, so a big namespace never arrives as one response.
"""



from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, TypedDict

from gameday_k8s import client as kclient

PAGE = 500
WorkloadKind = Literal["Deployment", "StatefulSet"]


class OwnerRef(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool


class ObjectMeta(TypedDict, total=False):
    name: str
    namespace: str
    uid: str
    labels: dict[str, str]
    annotations: dict[str, str]
    ownerReferences: list[OwnerRef]
    deletionTimestamp: str
    creationTimestamp: str


class Condition(TypedDict, total=False):
    type: str
    status: str


class PodStatus(TypedDict, total=False):
    phase: str
    conditions: list[Condition]


class Pod(TypedDict, total=False):
    metadata: ObjectMeta
    status: PodStatus


class Workload(TypedDict, total=False):
    kind: str
    metadata: ObjectMeta
    spec: dict[str, Any]
    status: dict[str, Any]


def is_ready(pod: Pod) -> bool:
    """Running, condition Ready=True, and not terminating."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def controller_of(pod: Pod) -> OwnerRef | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owning_workload(pod: Pod) -> tuple[WorkloadKind, str] | None:
    """The Deployment or StatefulSet that recreates this pod, or None (bare pod...).

    A Deployment owns its pods through a ReplicaSet named ``<deployment>-<hash>`` where
    the hash is the pod's ``pod-template-hash`` label: we read the name from that, so no
    ReplicaSet read (and no permission on ReplicaSets) is needed.
    """
    ref = controller_of(pod)
    if ref is None:
        return None
    kind, name = ref.get("kind"), ref.get("name") or ""
    if kind == "StatefulSet":
        return "StatefulSet", name
    if kind == "ReplicaSet":
        template_hash = ((pod.get("metadata") or {}).get("labels") or {}).get(
            "pod-template-hash", ""
        )
        suffix = f"-{template_hash}"
        if template_hash and name.endswith(suffix):
            return "Deployment", name[: -len(suffix)]
    return None


def _paged(fetch: Any, what: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    for _page in range(100_000):  # bounded: 50 M objects at PAGE=500
        extra = {"_continue": token} if token else {}
        body = kclient.call(what, fetch, limit=PAGE, **kwargs, **extra)
        yield from body.get("items") or []
        token = (body.get("metadata") or {}).get("continue") or None
        if not token:
            return
    raise kclient.ClientError(f"{what}: the API server kept paging; giving up")


def list_pods(api: Any, namespace: str, selector: str | None) -> list[Pod]:
    """Pods in ``namespace`` matching ``selector`` (server-side; re-check client-side)."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    kwargs: dict[str, Any] = {"label_selector": selector} if selector else {}
    pods: list[Pod] = list(
        _paged(core.list_namespaced_pod, f"listing pods in {namespace}", namespace=namespace,
               **kwargs)  # type: ignore[arg-type]
    )
    return pods


def list_workloads(api: Any, namespace: str, kind: WorkloadKind) -> list[Workload]:
    from kubernetes import client

    apps = client.AppsV1Api(api)
    fetch = apps.list_namespaced_deployment if kind == "Deployment" else (
        apps.list_namespaced_stateful_set
    )
    what = f"listing {kind.lower()}s in {namespace}"
    return list(_paged(fetch, what, namespace=namespace))  # type: ignore[arg-type]


def read_workload(api: Any, namespace: str, kind: WorkloadKind, name: str) -> Workload:
    from kubernetes import client

    apps = client.AppsV1Api(api)
    fetch = apps.read_namespaced_deployment if kind == "Deployment" else (
        apps.read_namespaced_stateful_set
    )
    body: Workload = kclient.call(f"reading {kind} {namespace}/{name}", fetch, name, namespace)
    return body


def replicas(workload: Workload) -> tuple[int, int]:
    """``(ready, desired)``; Kubernetes omits ``readyReplicas`` when it is zero."""
    status = workload.get("status") or {}
    spec = workload.get("spec") or {}
    desired = spec.get("replicas")
    return int(status.get("readyReplicas") or 0), int(1 if desired is None else desired)

