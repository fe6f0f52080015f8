"""Who the runner is in the cluster: a ServiceAccount, and least-privilege Roles.

The Role rules are generated from ``safety.required_permissions``, the very list
preflight checks with SelfSubjectAccessReviews, so the two cannot drift. One Role and
RoleBinding per namespace the experiment touches; SelfSubjectAccessReview itself needs
no rule (every authenticated identity may ask).
"""

from __future__ import annotations

from typing import Any

from runner.adapters.k8s import safety
from runner.model import experiment as model

ACCOUNT = "gameday-runner"


def rules(perms: list[safety.Permission]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for perm in perms:
        verbs = grouped.setdefault((perm.group, perm.resource), [])
        if perm.verb not in verbs:
            verbs.append(perm.verb)
    return [{"apiGroups": [group], "resources": [resource], "verbs": verbs}
            for (group, resource), verbs in grouped.items()]


def service_account(home: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": ACCOUNT, "namespace": home, "labels": labels},
            "automountServiceAccountToken": True}


def roles(experiment: model.Experiment, name: str, home: str,
          labels: dict[str, str]) -> list[dict[str, Any]]:
    """A Role and its RoleBinding for each namespace, in apply order."""
    by_namespace: dict[str, list[safety.Permission]] = {}
    for perm in safety.required_permissions(experiment):
        by_namespace.setdefault(perm.namespace, []).append(perm)
    out: list[dict[str, Any]] = []
    for ns, perms in sorted(by_namespace.items()):
        out.append({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "rules": rules(perms),
        })
        out.append({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": home}],
        })
    return out
