"""What runs: the runner's pod, as a Job (unique name per run) or a CronJob, and a reader.

Decisions:
- A game day is never retried by Kubernetes: ``backoffLimit: 0``; a CronJob never runs
  two at once (``concurrencyPolicy: Forbid``) and says its ``timeZone`` (an unset one is
  the controller's local time, which differs between clusters); ``activeDeadlineSeconds``
  bounds a hung run, and gameday reverts on the SIGTERM the kubelet sends within
  ``terminationGracePeriodSeconds``.
- A Job has ``generateName``, so each ``kubectl create`` is a new run with its own name
  and the history of earlier runs stays (``ttlSecondsAfterFinished`` cleans it up).
- Non-root (UID 65532, the image's user), read-only root filesystem, no capabilities,
  ``RuntimeDefault`` seccomp; ``/tmp`` is an emptyDir; the journal and reports live on
  ``/var/lib/gameday`` (a PVC by default).
- The reader Pod mounts the journal volume read-only so a reviewer can ``kubectl cp`` the
  journals and reports out after the runner's pod is gone; it sleeps for an hour at most.
"""

from __future__ import annotations

from typing import Any

from runner.adapters.k8s.manifests import credentials
from runner.model import experiment as model

EXPERIMENT_DIR = "/etc/gameday"
WORK_DIR = "/var/lib/gameday"
JOURNAL_DIR = f"{WORK_DIR}/journal"
POD_TMP = "/tmp"  # noqa: S108 - inside the container, on its own emptyDir volume
UID = 65532
READER_SECONDS = 3600


def deadline(experiment: model.Experiment) -> int:
    """Seconds a run may take: baseline, window, recovery, plus ten minutes of slack."""
    recovery = experiment.recovery.within or 300.0
    return int(experiment.steady_state.baseline + experiment.duration + recovery + 600)


def _security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}


def _pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"}}


def pod_spec(*, image: str, account: str, config_map: str, journal_volume: dict[str, Any],
             creds: credentials.Credentials, secret: str,
             metrics_port: int | None) -> dict[str, Any]:
    inside, secret_vols, secret_mounts = credentials.volumes(creds, secret, EXPERIMENT_DIR)
    sources: list[dict[str, Any]] = [{"configMap": {"name": config_map}}]
    if inside:
        sources.append({"secret": {"name": secret, "items": inside}})
    args = ["run", f"{EXPERIMENT_DIR}/experiment.yaml", "--journal-dir", JOURNAL_DIR]
    container: dict[str, Any] = {
        "name": "gameday",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["gameday"],
        "args": args,
        "workingDir": WORK_DIR,
        "env": [{"name": "MPLCONFIGDIR", "value": f"{POD_TMP}/matplotlib"},
                {"name": "HOME", "value": POD_TMP},
                *credentials.env(creds, secret)],
        "volumeMounts": [
            {"name": "experiment", "mountPath": EXPERIMENT_DIR, "readOnly": True},
            {"name": "work", "mountPath": WORK_DIR},
            {"name": "tmp", "mountPath": POD_TMP},
            *secret_mounts,
        ],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"memory": "1Gi"}},
        "securityContext": _security(),
    }
    if metrics_port is not None:
        args += ["--metrics-port", f"0.0.0.0:{metrics_port}"]
        container["ports"] = [{"name": "metrics", "containerPort": metrics_port,
                               "protocol": "TCP"}]
    return {
        "serviceAccountName": account,
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 120,  # time to revert on SIGTERM
        "securityContext": _pod_security(),
        "containers": [container],
        "volumes": [
            {"name": "experiment", "projected": {"sources": sources, "defaultMode": 0o440}},
            journal_volume,
            {"name": "tmp", "emptyDir": {}},
            *secret_vols,
        ],
    }


def _template(pod: dict[str, Any], labels: dict[str, str],
              metrics_port: int | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": labels}
    if metrics_port is not None:  # the common scrape-config convention
        meta["annotations"] = {"prometheus.io/scrape": "true",
                               "prometheus.io/port": str(metrics_port)}
    return {"metadata": meta, "spec": pod}


def job_spec(experiment: model.Experiment, pod: dict[str, Any], labels: dict[str, str],
             metrics_port: int | None) -> dict[str, Any]:
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": deadline(experiment),
        "ttlSecondsAfterFinished": 7 * 24 * 3600,
        "template": _template(pod, labels, metrics_port),
    }


def job(name: str, home: str, labels: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"generateName": f"{name}-", "namespace": home, "labels": labels},
            "spec": spec}


def cron_job(name: str, home: str, labels: dict[str, str], spec: dict[str, Any], *,
             schedule: str, timezone: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": home, "labels": labels},
        "spec": {"schedule": schedule, "timeZone": timezone, "concurrencyPolicy": "Forbid",
                 "startingDeadlineSeconds": 300, "successfulJobsHistoryLimit": 3,
                 "failedJobsHistoryLimit": 3,
                 "jobTemplate": {"metadata": {"labels": labels}, "spec": spec}},
    }


def reader(name: str, home: str, labels: dict[str, str], image: str,
           claim: str) -> dict[str, Any]:
    """A Pod that mounts the journal volume read-only, to copy journals and reports out."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{name}-reader", "namespace": home,
                     "labels": {**labels, "app.kubernetes.io/component": "reader"}},
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": READER_SECONDS,
            "securityContext": _pod_security(),
            "containers": [{
                "name": "reader", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["python3", "-c", f"import time; time.sleep({READER_SECONDS})"],
                "volumeMounts": [{"name": "work", "mountPath": WORK_DIR, "readOnly": True}],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                              "limits": {"memory": "64Mi"}},
                "securityContext": _security(),
            }],
            "volumes": [{"name": "work", "persistentVolumeClaim": {"claimName": claim,
                                                                   "readOnly": True}}],
        },
    }
