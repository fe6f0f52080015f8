"""A real HTTP Kubernetes API on loopback for tests: kmock plus a thin harness.

kmock's ``KubernetesEmulator`` stores objects and serves list/get/create/patch/delete
over real HTTP, so the official client (and chaosk8s) talk to it exactly as to a
cluster. What kmock does not do, the harness adds, in front of it and in its event loop:

- label-selector filtering on lists (kmock ignores ``labelSelector``);
- a Deployment controller: each Deployment owns a ReplicaSet ``<name>-<hash>`` whose
  pods it recreates when deleted, Pending first and Running+Ready after ``ready_after``
  seconds, and it keeps ``status.readyReplicas`` up to date;
- RBAC in miniature: SelfSubjectAccessReview answers (allowed unless listed in
  ``denied``), and the denied calls themselves answer 403;
- the Chaos Mesh ``NetworkChaos`` CRD, which can be "not installed" (404 everywhere);
- optimistic concurrency on Leases and ConfigMaps: every write gets a new
  ``metadata.resourceVersion``, a merge patch naming a stale one answers 409 Conflict,
  and ``conflicts`` makes the next patches of an object lose a race on purpose (as if
  another writer got there first: its version moves, the patch answers 409).

Decision: kmock is asyncio; the clients under test are synchronous. The emulator runs
its own loop in a daemon thread; tests seed and read state through ``_run`` (a
coroutine handed to that loop), never by touching kmock's dicts from another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import kmock
import yaml

PODS = kmock.resource("", "v1", "pods")
DEPLOYMENTS = kmock.resource("apps", "v1", "deployments")
REPLICASETS = kmock.resource("apps", "v1", "replicasets")
STATEFULSETS = kmock.resource("apps", "v1", "statefulsets")
NETWORKCHAOS = kmock.resource("chaos-mesh.org", "v1alpha1", "networkchaos")
SSAR = kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews")
CONFIGMAPS = kmock.resource("", "v1", "configmaps")
LEASES = kmock.resource("coordination.k8s.io", "v1", "leases")
_VERSIONED = (LEASES, CONFIGMAPS)
_versions = itertools.count(1000)

_uids = itertools.count(1)


def _uid() -> str:
    return f"00000000-0000-4000-8000-{next(_uids):012d}"


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """An independent, small implementation of the kubectl selector grammar."""
    for raw_clause in re.split(r",(?![^()]*\))", selector):
        clause = raw_clause.strip()
        if not clause:
            continue
        if m := re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", clause):
            key, op, raw = m.groups()
            values = {v.strip() for v in raw.split(",")}
            if (op == "in") != (key in labels and labels[key] in values):
                return False
        elif m := re.fullmatch(r"(\S+?)\s*(!=|==|=)\s*(\S*)", clause):
            key, op, value = m.groups()
            if (op == "!=") == (labels.get(key) == value):
                return False
        elif clause.startswith("!"):
            if clause[1:].strip() in labels:
                return False
        elif clause not in labels:
            return False
    return True


_VERBS = {kmock.action.LIST: "list", kmock.action.FETCH: "get", kmock.action.CREATE: "create",
          kmock.action.DELETE: "delete", kmock.action.UPDATE: "patch",
          kmock.action.WATCH: "watch"}


def _is_collection(request: Any) -> bool:
    """A list of a resource (not an API discovery document like ``/apis/g/v``)."""
    return bool(request.resource is not None and request.resource.plural)


_ONLY_COLLECTIONS = kmock.FnCriteria(_is_collection)  # type: ignore[attr-defined]


class _Emulator(kmock.KubernetesEmulator):
    """kmock's emulator with two requests short-circuited before its object store."""

    harness: EmulatedCluster

    async def _handle(self, request: Any) -> Any:
        if request.resource == SSAR:  # reviews are answers, not stored objects
            return await kmock.RawHandler._handle(self, request)
        verb = _VERBS.get(request.action)
        resource = request.resource
        if verb and resource is not None and resource.plural and (
            (verb, resource.group or "", resource.plural) in self.harness.denied
        ):
            raise kmock.KubernetesError(
                status=403, reason="Forbidden",
                message=f'{resource.plural} is forbidden: User "tester" cannot {verb} '
                        f'resource "{resource.plural}" in namespace "{request.namespace}"')
        if request.resource == NETWORKCHAOS and not self.harness.crd_installed:
            raise kmock.KubernetesResourceNotFoundError()
        if request.resource in (PODS, DEPLOYMENTS):
            self.harness.dirty = True
        if request.resource in _VERSIONED:
            if request.action == kmock.action.UPDATE and request.name is not None:
                return await kmock.RawHandler._handle(self, request)  # _patch_versioned
            if request.action == kmock.action.CREATE and isinstance(request.data, dict):
                meta = request.data.setdefault("metadata", {})
                meta["resourceVersion"] = str(next(_versions))
                meta.setdefault("uid", _uid())
                meta.setdefault("creationTimestamp", _now())
        return await super()._handle(request)


class EmulatedCluster:
    """Start with ``start()``, stop with ``stop()``; write a kubeconfig with ``kubeconfig``."""

    def __init__(self, *, ready_after: float = 0.3, crd_installed: bool = True,
                 controller: bool = True, chaos_mesh: bool = False) -> None:
        self.ready_after = ready_after
        self.crd_installed = crd_installed
        self.controller = controller
        self.chaos_mesh = chaos_mesh  # a Chaos Mesh controller in miniature (status only)
        self.denied: set[tuple[str, str, str]] = set()  # (verb, group, resource)
        self.conflicts: dict[tuple[str, str, str], int] = {}  # (plural, ns, name) -> count
        self.namespaces: dict[str, dict[str, str]] = {}  # name -> labels
        self.dirty = True
        self.url = ""
        self._emu: _Emulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="k8s-emulator", daemon=True)
        self._pending: dict[tuple[str, str], float] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> EmulatedCluster:
        self._thread.start()
        if not self._ready.wait(15.0) or self._error is not None:
            raise RuntimeError(f"the Kubernetes emulator did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15.0)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        emu = _Emulator()
        emu.harness = self
        async with emu, kmock.Server(emu) as server:
            self._emu = emu
            self.url = str(server.url).rstrip("/")
            emu.resources["v1/pods"] = kmock.ResourceInfo(kind="Pod", namespaced=True)
            emu.resources["apps/v1/deployments"] = kmock.ResourceInfo(
                kind="Deployment", namespaced=True)
            emu.resources["apps/v1/statefulsets"] = kmock.ResourceInfo(
                kind="StatefulSet", namespaced=True)
            emu.resources["v1/configmaps"] = kmock.ResourceInfo(  # the gameday-stop switch
                kind="ConfigMap", namespaced=True)
            emu.resources["coordination.k8s.io/v1/leases"] = kmock.ResourceInfo(
                kind="Lease", namespaced=True)
            for versioned in _VERSIONED:
                emu[kmock.action.UPDATE, versioned] << self._patch_versioned
            if self.crd_installed:
                emu.resources["chaos-mesh.org/v1alpha1/networkchaos"] = kmock.ResourceInfo(
                    kind="NetworkChaos", namespaced=True, singular="networkchaos",
                    verbs={"get", "list", "create", "delete", "patch", "watch"})
            emu[kmock.action.LIST, _ONLY_COLLECTIONS] << self._list
            emu[kmock.method.POST, SSAR] << self._review
            emu[kmock.method.GET, re.compile(r"^/api/v1/namespaces/[^/]+$")] << self._namespace
            emu["get /version/"] << emu._serve_server_version  # the client adds the slash
            task = asyncio.create_task(self._control_loop())
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _run(self, coro: Any, timeout: float = 30.0) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- reactions ---------------------------------------------------------------------
    async def _list(self, request: Any) -> Any:
        if request.resource == NETWORKCHAOS and not self.crd_installed:
            raise kmock.KubernetesResourceNotFoundError()
        assert self._emu is not None
        payload = cast(dict[str, Any], await self._emu._serve_list(request))
        selector = request.params.get("labelSelector")
        if selector:
            payload["items"] = [
                item for item in payload["items"]
                if _selector_matches(selector, (item.get("metadata") or {}).get("labels") or {})
            ]
        return payload

    async def _patch_versioned(self, request: Any) -> Any:
        """A merge patch with optimistic concurrency, as the API server does it."""
        assert self._emu is not None
        async with self._emu._lock:
            key = (request.resource, request.namespace, request.name)
            try:
                obj = self._emu.objects[key]
            except KeyError:
                raise kmock.KubernetesObjectNotFoundError() from None
            if obj.deleted:
                raise kmock.KubernetesObjectNotFoundError()
            data = dict(request.data or {})
            meta = dict(data.get("metadata") or {})
            have = (obj.raw.get("metadata") or {}).get("resourceVersion")
            race = (request.resource.plural, request.namespace, request.name)
            if self.conflicts.get(race, 0) > 0:
                self.conflicts[race] -= 1
                obj.patch({"metadata": {"resourceVersion": str(next(_versions))}})
                have = "moved"
            wanted = meta.get("resourceVersion")
            if have == "moved" or (wanted is not None and wanted != have):
                raise kmock.KubernetesError(
                    status=409, reason="Conflict",
                    message=f'Operation cannot be fulfilled on {request.resource.plural} '
                            f'"{request.name}": the object has been modified; please apply '
                            "your changes to the latest version and try again")
            meta["resourceVersion"] = str(next(_versions))
            data["metadata"] = meta
            obj.patch(data)
            return obj.raw

    async def _namespace(self, request: Any) -> Any:
        """kmock reads ``/api/v1/namespaces/NAME`` as a namespace scope, not an object."""
        name = str(request.url.path).rsplit("/", 1)[1]
        if name not in self.namespaces:
            raise kmock.KubernetesObjectNotFoundError()
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": dict(self.namespaces[name])}}

    async def _review(self, request: Any) -> Any:
        body = dict(request.data or {})
        attrs = (body.get("spec") or {}).get("resourceAttributes") or {}
        key = (attrs.get("verb", ""), attrs.get("group", ""), attrs.get("resource", ""))
        allowed = key not in self.denied
        body["status"] = {"allowed": allowed, **({} if allowed else {"reason": "denied"})}
        body.setdefault("apiVersion", "authorization.k8s.io/v1")
        body.setdefault("kind", "SelfSubjectAccessReview")
        body.setdefault("metadata", {})
        return body

    # -- the Deployment controller -----------------------------------------------------
    async def _control_loop(self) -> None:
        while True:
            if self.controller and (self.dirty or self._pending):
                self.dirty = False
                async with self._emu._lock:  # type: ignore[union-attr]
                    self._reconcile()
            if self.chaos_mesh:
                async with self._emu._lock:  # type: ignore[union-attr]
                    self._inject_chaos()
            await asyncio.sleep(0.05)

    def _inject_chaos(self) -> None:
        """Report every new NetworkChaos injected into the pods its selector matches."""
        for (_res, ns, _name), chaos in self._live(NETWORKCHAOS):
            if (chaos.raw.get("status") or {}).get("conditions"):
                continue
            labels = ((chaos.raw.get("spec") or {}).get("selector") or {}).get(
                "labelSelectors") or {}
            selector = ",".join(f"{k}={v}" for k, v in labels.items())
            pods = [obj.raw["metadata"]["name"] for _key, obj in self._live(PODS, ns)
                    if _selector_matches(selector, obj.raw["metadata"].get("labels") or {})]
            chaos.patch({"status": {
                "conditions": [{"type": "Selected", "status": "True"},
                               {"type": "AllInjected", "status": "True"},
                               {"type": "AllRecovered", "status": "False"}],
                "experiment": {"desiredPhase": "Run", "containerRecords": [
                    {"id": f"{ns}/{pod}", "phase": "Injected"} for pod in pods]}}})

    def _live(self, resource: Any, namespace: str | None = None) -> list[tuple[Any, Any]]:
        assert self._emu is not None
        return [
            (key, obj) for key, obj in self._emu.objects.items()
            if key[0] == resource and not obj.deleted
            and (namespace is None or key[1] == namespace)
        ]

    def _reconcile(self) -> None:
        assert self._emu is not None
        now = time.monotonic()
        pods_by_rs: dict[tuple[str, str], list[Any]] = {}
        for (_res, ns, _name), obj in self._live(PODS):
            for ref in obj.raw.get("metadata", {}).get("ownerReferences") or []:
                if ref.get("kind") == "ReplicaSet":
                    pods_by_rs.setdefault((ns, ref["name"]), []).append(obj)
        for (_res, ns, name), deployment in self._live(DEPLOYMENTS):
            raw = deployment.raw
            rs = f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
            template_hash = rs.rsplit("-", 1)[1]
            pods = pods_by_rs.get((ns, rs), [])
            want = int(raw["spec"].get("replicas", 1))
            for _ in range(max(0, want - len(pods))):
                pod = self._pod_body(ns, f"{rs}-{_uid()[-5:]}", raw["spec"]["template"]["metadata"]
                                     ["labels"], template_hash, rs, ready=False)
                self._emu.objects[PODS, ns, pod["metadata"]["name"]] = pod
                self._pending[(ns, pod["metadata"]["name"])] = now + self.ready_after
                pods.append(self._emu.objects[PODS, ns, pod["metadata"]["name"]])
            ready = 0
            for obj in pods:
                pod_name = obj.raw["metadata"]["name"]
                due = self._pending.get((ns, pod_name))
                if due is not None and due <= now:
                    obj.patch({"status": {"phase": "Running", "conditions": [
                        {"type": "Ready", "status": "True"}]}})
                    del self._pending[(ns, pod_name)]
                status = obj.raw.get("status") or {}
                if status.get("phase") == "Running" and any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in status.get("conditions") or []
                ):
                    ready += 1
            if (raw.get("status") or {}).get("readyReplicas") != ready:
                deployment.patch({"status": {"replicas": len(pods), "readyReplicas": ready,
                                             "availableReplicas": ready}})
        self._pending = {k: v for k, v in self._pending.items()
                         if (PODS, k[0], k[1]) in self._emu.objects
                         and not self._emu.objects[PODS, k[0], k[1]].deleted}

    @staticmethod
    def _pod_body(ns: str, name: str, labels: Mapping[str, str], template_hash: str | None,
                  owner: str | None, *, ready: bool, owner_kind: str = "ReplicaSet",
                  phase: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": _uid(),
                                "labels": dict(labels), "creationTimestamp": _now()}
        if template_hash:
            meta["labels"]["pod-template-hash"] = template_hash
        if owner:
            meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner_kind,
                                        "name": owner, "uid": _uid(), "controller": True}]
        return {
            "apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "app", "image": "demo:1"}]},
            "status": {"phase": phase or ("Running" if ready else "Pending"),
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
        }

    # -- seeding and reading (thread-safe) ---------------------------------------------
    def add_deployment(self, ns: str, name: str, replicas: int,
                       labels: Mapping[str, str]) -> None:
        """A Deployment whose ``replicas`` pods are Running+Ready at once."""
        async def seed() -> None:
            assert self._emu is not None
            rs = f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
            template_hash = rs.rsplit("-", 1)[1]
            async with self._emu._lock:
                self._emu.objects[DEPLOYMENTS, ns, name] = {
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": ns, "uid": _uid(), "generation": 1},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                             "template": {"metadata": {"labels": dict(labels)},
                                          "spec": {"containers": [{"name": "app",
                                                                   "image": "demo:1"}]}}},
                    "status": {"replicas": replicas, "readyReplicas": replicas,
                               "availableReplicas": replicas, "observedGeneration": 1},
                }
                for index in range(replicas):
                    pod = self._pod_body(ns, f"{rs}-p{index:05d}", labels, template_hash, rs,
                                         ready=True)
                    self._emu.objects[PODS, ns, pod["metadata"]["name"]] = pod
            self.dirty = True
        self._run(seed())

    def add_statefulset(self, ns: str, name: str, replicas: int, ready: int,
                        labels: Mapping[str, str]) -> None:
        """A StatefulSet with fixed status (no controller) and its pods ``name-i``."""
        async def seed() -> None:
            assert self._emu is not None
            async with self._emu._lock:
                self._emu.objects[STATEFULSETS, ns, name] = {
                    "apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": name, "namespace": ns, "uid": _uid()},
                    "spec": {"replicas": replicas, "serviceName": name,
                             "selector": {"matchLabels": dict(labels)},
                             "template": {"metadata": {"labels": dict(labels)},
                                          "spec": {"containers": [{"name": "db",
                                                                   "image": "db:1"}]}}},
                    "status": {"replicas": replicas, "readyReplicas": ready},
                }
                for index in range(replicas):
                    pod = self._pod_body(ns, f"{name}-{index}", labels, None, name,
                                         ready=index < ready, owner_kind="StatefulSet")
                    self._emu.objects[PODS, ns, pod["metadata"]["name"]] = pod
        self._run(seed())

    def add_pod(self, ns: str, name: str, labels: Mapping[str, str], *, ready: bool = True,
                phase: str | None = None) -> None:
        """A bare pod (no owner)."""
        async def seed() -> None:
            assert self._emu is not None
            async with self._emu._lock:
                self._emu.objects[PODS, ns, name] = self._pod_body(
                    ns, name, labels, None, None, ready=ready, phase=phase)
        self._run(seed())

    def put(self, resource: Any, ns: str | None, body: Mapping[str, Any]) -> None:
        async def seed() -> None:
            assert self._emu is not None
            async with self._emu._lock:
                self._emu.objects[resource, ns, body["metadata"]["name"]] = dict(body)
        self._run(seed())

    def objects(self, resource: Any, ns: str | None = None) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            async with self._emu._lock:  # type: ignore[union-attr]
                return [obj.raw for _key, obj in self._live(resource, ns)]
        result: list[dict[str, Any]] = self._run(read())
        return result

    def pods(self, ns: str, selector: str = "") -> list[dict[str, Any]]:
        return [p for p in self.objects(PODS, ns)
                if _selector_matches(selector, p["metadata"].get("labels") or {})]

    def requests(self, method: str, resource: Any) -> list[Any]:
        assert self._emu is not None
        return [r for r in list(self._emu._requests)
                if r.method == method and r.resource == resource]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"condition not reached within {timeout} s")

    def kubeconfig(self, path: Path, *, context: str = "kind-gameday-test",
                   cluster: str | None = None, namespace: str | None = None,
                   insecure: bool = False) -> Path:
        """Write a kubeconfig (dummy token) whose current context points here."""
        cluster_body: dict[str, Any] = {"server": self.url}
        if insecure:
            cluster_body["insecure-skip-tls-verify"] = True
        ctx: dict[str, Any] = {"cluster": cluster or context, "user": "tester"}
        if namespace:
            ctx["namespace"] = namespace
        document = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": cluster or context, "cluster": cluster_body}],
            "contexts": [{"name": context, "context": ctx}],
            "users": [{"name": "tester", "user": {"token": "dummy-token"}}],
        }
        path.write_text(yaml.safe_dump(document))
        return path
