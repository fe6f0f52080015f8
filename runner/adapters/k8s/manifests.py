"""Manifests that run an experiment inside the cluster: Kubernetes as the scheduler.

``gameday k8s manifests FILE`` prints, in apply order: a ServiceAccount, one Role and
RoleBinding per namespace the experiment touches, a ConfigMap holding the experiment
file, optionally a PersistentVolumeClaim for the journal, and a Job (or a CronJob with
``schedule``) running ``gameday run`` with that service account.

Decisions:
- Least privilege: the Role rules are generated from ``safety.required_permissions``,
  the very list preflight checks with SelfSubjectAccessReviews, so the two cannot drift.
  SelfSubjectAccessReview itself needs no rule (every authenticated identity may ask).
- A game day is never retried by Kubernetes: ``backoffLimit: 0``; a CronJob never runs
  two at once (``concurrencyPolicy: Forbid``); ``activeDeadlineSeconds`` bounds a hung
  run, and gameday reverts on the SIGTERM the kubelet sends.
- The journal and reports live on a volume (a PVC by default; ``emptyDir`` if asked,
  which loses them with the pod). The container runs as non-root with a read-only root
  filesystem; ``/tmp`` is an emptyDir.
Pure: builds plain dicts; the CLI renders them as YAML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from runner.adapters.k8s import safety
from runner.model import experiment as model

JournalVolume = Literal["pvc", "emptydir"]
DEFAULT_IMAGE = "gameday-runner:0.1.0"
EXPERIMENT_DIR = "/etc/gameday"
WORK_DIR = "/var/lib/gameday"
POD_TMP = "/tmp"  # noqa: S108 - inside the container, on its own emptyDir volume
_CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$")

Manifest = dict[str, Any]


def slug(text: str, limit: int = 40) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", cleaned)[:limit].rstrip("-") or "experiment"


def valid_schedule(schedule: str) -> bool:
    return bool(_CRON.match(schedule.strip()))


def _rules(perms: list[safety.Permission]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for perm in perms:
        verbs = grouped.setdefault((perm.group, perm.resource), [])
        if perm.verb not in verbs:
            verbs.append(perm.verb)
    return [{"apiGroups": [group], "resources": [resource], "verbs": verbs}
            for (group, resource), verbs in grouped.items()]


def _deadline(experiment: model.Experiment) -> int:
    """Seconds a run may take: baseline, window, recovery, plus ten minutes of slack."""
    recovery = experiment.recovery.within or 300.0
    return int(experiment.steady_state.baseline + experiment.duration + recovery + 600)


def build(
    experiment: model.Experiment, source: Path, *, namespace: str | None = None,
    image: str = DEFAULT_IMAGE, schedule: str | None = None,
    journal: JournalVolume = "pvc", journal_size: str = "1Gi",
) -> list[Manifest]:
    """Every manifest, in the order ``kubectl apply`` needs them."""
    home = namespace or experiment.target.namespace or "default"
    name = f"gameday-{slug(source.stem)}"
    labels = {"app.kubernetes.io/name": "gameday", "app.kubernetes.io/instance": name,
              "app.kubernetes.io/managed-by": "gameday"}
    account = "gameday-runner"
    out: list[Manifest] = [{
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": account, "namespace": home, "labels": labels},
    }]
    by_namespace: dict[str, list[safety.Permission]] = {}
    for perm in safety.required_permissions(experiment):
        by_namespace.setdefault(perm.namespace, []).append(perm)
    for ns, perms in sorted(by_namespace.items()):
        out.append({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "rules": _rules(perms),
        })
        out.append({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": home}],
        })
    out.append({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": home, "labels": labels},
        "data": {"experiment.yaml": source.read_text(encoding="utf-8")},
    })
    journal_volume: dict[str, Any] = {"name": "work", "emptyDir": {}}
    if journal == "pvc":
        out.append({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"{name}-journal", "namespace": home, "labels": labels},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": journal_size}}},
        })
        journal_volume = {"name": "work",
                          "persistentVolumeClaim": {"claimName": f"{name}-journal"}}
    job_spec = _job_spec(experiment, image, account, labels, journal_volume, name)
    if schedule is None:
        out.append({"apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {"name": name, "namespace": home, "labels": labels},
                    "spec": job_spec})
    else:
        out.append({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": name, "namespace": home, "labels": labels},
            "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid",
                     "startingDeadlineSeconds": 300, "successfulJobsHistoryLimit": 3,
                     "failedJobsHistoryLimit": 3,
                     "jobTemplate": {"metadata": {"labels": labels}, "spec": job_spec}},
        })
    return out


def _job_spec(experiment: model.Experiment, image: str, account: str,
              labels: dict[str, str], journal_volume: dict[str, Any],
              config_map: str) -> dict[str, Any]:
    container = {
        "name": "gameday",
        "image": image,
        "command": ["gameday"],
        "args": ["run", f"{EXPERIMENT_DIR}/experiment.yaml",
                 "--journal-dir", f"{WORK_DIR}/journal"],
        "workingDir": WORK_DIR,
        "env": [{"name": "MPLCONFIGDIR", "value": f"{POD_TMP}/matplotlib"},
                {"name": "HOME", "value": POD_TMP}],
        "volumeMounts": [
            {"name": "experiment", "mountPath": EXPERIMENT_DIR, "readOnly": True},
            {"name": "work", "mountPath": WORK_DIR},
            {"name": "tmp", "mountPath": POD_TMP},
        ],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"memory": "1Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": _deadline(experiment),
        "ttlSecondsAfterFinished": 7 * 24 * 3600,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": account,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 120,  # time to revert on SIGTERM
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                    "fsGroup": 65532,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [container],
                "volumes": [
                    {"name": "experiment", "configMap": {"name": config_map}},
                    journal_volume,
                    {"name": "tmp", "emptyDir": {}},
                ],
            },
        },
    }


def warnings(experiment: model.Experiment, journal: JournalVolume) -> list[str]:
    """Remarks for stderr: things that will not work as the user may expect."""
    notes: list[str] = []
    if experiment.target.platform != "kubernetes":
        notes.append(f"target.platform is {experiment.target.platform!r}: inside a cluster "
                     "only 'kubernetes' makes sense.")
    if experiment.target.context:
        notes.append(f"target.context is {experiment.target.context!r}, but inside the "
                     "cluster gameday uses the pod's service account and has no kubeconfig; "
                     "remove target.context for in-cluster runs.")
    if journal == "emptydir":
        notes.append("the journal is on an emptyDir: it disappears with the pod, and so "
                     "does `gameday revert` after a crash. Prefer the PVC.")
    return notes
