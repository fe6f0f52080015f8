"""The runner's view of one cluster: the few reads and deletes preflight and plan need.

It wraps the single ``kubernetes`` ApiClient of the run (``gameday_k8s.client``, with
its timeouts and raw-JSON reads) and translates every client failure into
``errors.PlatformError`` with one paragraph that says what failed and on which cluster,
so the engine and the CLI never see a kubernetes exception. The kubernetes package is
imported inside methods only.
"""



from __future__ import annotations

from typing import Any

from gameday_k8s import chaosmesh
from gameday_k8s import client as kclient
from gameday_k8s import workloads as wl
from runner import errors
from runner.adapters.k8s import safety


class Cluster:
    """Reads and deletes on the cluster named by ``info`` (built lazily, once)."""

    def __init__(self, info: kclient.ClusterInfo) -> None:
        self.info = info
        self._api: Any = None

    @property
    def where(self) -> str:
        if self.info.kubeconfig is None:
            return "the in-cluster API server"
        return f"kube context {self.info.context!r} ({self.info.server or 'unknown server'})"

    def _fail(self, exc: kclient.ClientError) -> errors.PlatformError:
        return errors.PlatformError(f"Kubernetes, {self.where}: {exc}")

    @property
    def api(self) -> Any:
        if self._api is None:
            try:
                self._api = kclient.api_client(self.info.kubeconfig, self.info.context)
            except kclient.ClientError as exc:
                raise self._fail(exc) from exc
        return self._api

    def version(self) -> str:
        from kubernetes import client

        try:
            body = kclient.call("asking the API server for its version",
                                client.VersionApi(self.api).get_code)
        except kclient.ClientError as exc:
            raise self._fail(exc) from exc
        return str(body.get("gitVersion", "?"))

    def allowed(self, perm: safety.Permission) -> bool:
        """A SelfSubjectAccessReview: may the current identity do ``perm``?"""
        from kubernetes import client

        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    namespace=perm.namespace, verb=perm.verb, group=perm.group,
                    resource=perm.resource,
                )
            )
        )
        try:
            body = kclient.call(f"checking whether we may {perm}",
                                client.AuthorizationV1Api(self.api)
                                .create_self_subject_access_review, review)
        except kclient.ClientError as exc:
            raise self._fail(exc) from exc
        return bool((body.get("status") or {}).get("allowed"))

    def has_network_chaos(self) -> bool:
        """Is the Chaos Mesh NetworkChaos resource served (API discovery)?"""
        from kubernetes import client

        try:
            body = kclient.call(
                f"discovering {chaosmesh.GROUP}/{chaosmesh.VERSION}",
                client.CustomObjectsApi(self.api).get_api_resources,
                chaosmesh.GROUP, chaosmesh.VERSION,
            )
        except kclient.ClientError as exc:
            if exc.status == 404:
                return False
            raise self._fail(exc) from exc
        return any(r.get("name") == chaosmesh.PLURAL for r in body.get("resources") or [])

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """Labels of a namespace; empty when they cannot be read (often not allowed)."""
        from kubernetes import client

        try:
            body = kclient.call(f"reading namespace {namespace}",
                                client.CoreV1Api(self.api).read_namespace, namespace)
        except kclient.ClientError:
            return {}
        return dict((body.get("metadata") or {}).get("labels") or {})

    def pods(self, namespace: str, selector: str) -> list[wl.Pod]:
        try:
            return wl.list_pods(self.api, namespace, selector)
        except kclient.ClientError as exc:
            raise self._fail(exc) from exc

    def deployment_names(self, namespace: str) -> list[str]:
        try:
            items = wl.list_workloads(self.api, namespace, "Deployment")
        except kclient.ClientError as exc:
            raise self._fail(exc) from exc
        return [str((d.get("metadata") or {}).get("name")) for d in items]

    def workload(self, namespace: str, kind: wl.WorkloadKind, name: str) -> wl.Workload:
        try:
            return wl.read_workload(self.api, namespace, kind, name)
        except kclient.ClientError as exc:
            raise self._fail(exc) from exc

    def leftovers(self, namespace: str) -> list[dict[str, str]]:
        """gameday NetworkChaos objects in ``namespace`` (label ``gameday.io/run-id``)."""
        from kubernetes import client

        try:
            body = kclient.call(
                f"listing NetworkChaos in {namespace}",
                client.CustomObjectsApi(self.api).list_namespaced_custom_object,
                chaosmesh.GROUP, chaosmesh.VERSION, namespace, chaosmesh.PLURAL,
                label_selector=chaosmesh.RUN_ID_LABEL,
            )
        except kclient.ClientError as exc:
            raise self._fail(exc) from exc
        found: list[dict[str, str]] = []
        for item in body.get("items") or []:
            meta = item.get("metadata") or {}
            labels = meta.get("labels") or {}
            if chaosmesh.RUN_ID_LABEL in labels:  # re-check: a server may ignore selectors
                run_id = (meta.get("annotations") or {}).get(chaosmesh.RUN_ID_LABEL)
                found.append({"name": str(meta.get("name")), "namespace": namespace,
                              "run_id": str(run_id or labels[chaosmesh.RUN_ID_LABEL])})
        return found

    def network_chaos(self, namespace: str, name: str) -> dict[str, Any] | None:
        """One NetworkChaos, or None when it does not exist."""
        from kubernetes import client

        try:
            body: dict[str, Any] = kclient.call(
                f"reading NetworkChaos {namespace}/{name}",
                client.CustomObjectsApi(self.api).get_namespaced_custom_object,
                chaosmesh.GROUP, chaosmesh.VERSION, namespace, chaosmesh.PLURAL, name,
            )
        except kclient.ClientError as exc:
            if exc.status == 404:
                return None
            raise self._fail(exc) from exc
        return body

    def delete_network_chaos(self, namespace: str, name: str) -> None:
        """Delete one NetworkChaos; already gone is success."""
        from kubernetes import client

        try:
            kclient.call(
                f"deleting NetworkChaos {namespace}/{name}",
                client.CustomObjectsApi(self.api).delete_namespaced_custom_object,
                chaosmesh.GROUP, chaosmesh.VERSION, namespace, chaosmesh.PLURAL, name,
            )
        except kclient.ClientError as exc:
            if exc.status != 404:
                raise self._fail(exc) from exc
