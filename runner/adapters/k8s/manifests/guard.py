"""The guard Deployment: the cluster's dead man's switch, one replica, least privilege.

``gameday k8s manifests FILE --guard`` prints a ServiceAccount ``gameday-guard``, one Role
and RoleBinding per namespace it watches (the experiment's target namespace and its
blast-radius namespaces), and a Deployment running ``gameday guard --namespace ...``.

Decisions:
- One replica, ``Recreate``: never two guards from one Deployment; two anyway (a second
  Deployment, a rollout) are safe, because a takeover is a compare-and-swap on the Lease.
- The Role grants only what reverting gameday's own faults needs: read and update the
  Leases (never create or delete them: runs do), delete a NetworkChaos, read pods and
  workloads (a pod kill's revert waits for them), write the guard's journal ConfigMap.
  Restoring a Chaos Toolkit scale (``chaosk8s.deployment`` rollbacks) needs ``patch`` on
  Deployments, a strong right: only with ``--guard-scale``.
- The guard journal is also kept in a ConfigMap per takeover, so its emptyDir may go.
Pure: plain dicts.
"""

from __future__ import annotations

from typing import Any

from runner.adapters.k8s import safety
from runner.adapters.k8s.manifests import rbac, workload
from runner.model import experiment as model

ACCOUNT = "gameday-guard"
NAME = "gameday-guard"
GUARD_DIR = f"{workload.WORK_DIR}/guard"


def namespaces(experiment: model.Experiment) -> list[str]:
    found = {experiment.target.namespace, *experiment.blast_radius.namespaces,
             *(s.namespace for s, _f in safety.scopes(experiment))}
    return sorted(ns for ns in found if ns)


def permissions(ns: str, *, scale: bool) -> list[safety.Permission]:
    wanted = [("get", "coordination.k8s.io", "leases"), ("list", "coordination.k8s.io", "leases"),
              ("patch", "coordination.k8s.io", "leases"),
              ("get", "chaos-mesh.org", "networkchaos"),
              ("delete", "chaos-mesh.org", "networkchaos"),
              ("get", "", "pods"), ("list", "", "pods"),
              ("get", "apps", "deployments"), ("get", "apps", "statefulsets"),
              ("create", "", "configmaps"), ("patch", "", "configmaps")]
    if scale:
        wanted.append(("patch", "apps", "deployments"))
    return [safety.Permission(verb, group, resource, ns) for verb, group, resource in wanted]


def build(experiment: model.Experiment, *, home: str, image: str,
          scale: bool = False) -> list[dict[str, Any]]:
    watched = namespaces(experiment) or [home]
    labels = {"app.kubernetes.io/name": "gameday", "app.kubernetes.io/component": "guard",
              "app.kubernetes.io/instance": NAME, "app.kubernetes.io/managed-by": "gameday"}
    out: list[dict[str, Any]] = [{
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": ACCOUNT, "namespace": home, "labels": labels},
        "automountServiceAccountToken": True}]
    for ns in watched:
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": NAME, "namespace": ns, "labels": labels},
                    "rules": rbac.rules(permissions(ns, scale=scale))})
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": NAME, "namespace": ns, "labels": labels},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                "name": NAME},
                    "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT,
                                  "namespace": home}]})
    args = ["guard", *[a for ns in watched for a in ("--namespace", ns)],
            "--journal-dir", GUARD_DIR, "--poll", "2"]
    container = {
        "name": "guard", "image": image, "command": ["gameday"], "args": args,
        "workingDir": workload.WORK_DIR,
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "HOME", "value": workload.POD_TMP}],
        "volumeMounts": [{"name": "work", "mountPath": workload.WORK_DIR},
                         {"name": "tmp", "mountPath": workload.POD_TMP}],
        "resources": {"requests": {"cpu": "20m", "memory": "128Mi"},
                      "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    out.append({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": home, "labels": labels},
        "spec": {"replicas": 1, "strategy": {"type": "Recreate"},
                 "selector": {"matchLabels": {"app.kubernetes.io/instance": NAME}},
                 "template": {"metadata": {"labels": labels}, "spec": {
                     "serviceAccountName": ACCOUNT,
                     "terminationGracePeriodSeconds": 120,  # a revert is never cut short
                     "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                         "fsGroup": 65532,
                                         "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [container],
                     "volumes": [{"name": "work", "emptyDir": {}},
                                 {"name": "tmp", "emptyDir": {}}]}}},
    })
    return out
