"""Manifests that run an experiment inside the cluster: Kubernetes as the scheduler.

``gameday k8s manifests FILE`` prints, in apply order: a ServiceAccount, one Role and
RoleBinding per namespace the experiment touches (``rbac``), a ConfigMap holding the
experiment file, optionally a PersistentVolumeClaim for the journal, and a Job (unique
name per run) or a CronJob with a schedule and a time zone (``workload``). Prometheus
credentials come from a Secret (``credentials``); ``--reader`` prints a Pod to copy the
journals and reports off the volume.

Decisions:
- One module per concept (rbac, credentials, workload; a guard Deployment or a game-day
  CronJob join as modules of their own), this one only composes them in apply order.
- The journal and reports live on a volume (a PVC by default; ``emptyDir`` if asked,
  which loses them with the pod).
- Pure: builds plain dicts from the experiment and its file's text; the CLI renders YAML.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from runner.adapters.k8s.manifests import credentials, rbac, workload
from runner.model import experiment as model

JournalVolume = Literal["pvc", "emptydir"]
DEFAULT_IMAGE = "gameday-runner:0.1.0"
DEFAULT_TIMEZONE = "Etc/UTC"
_CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$")

Manifest = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Settings:
    """How to run it: the command line of ``gameday k8s manifests``."""

    namespace: str | None = None
    image: str = DEFAULT_IMAGE
    schedule: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    journal: JournalVolume = "pvc"
    journal_size: str = "1Gi"
    secret: str | None = None  # the Secret with Prometheus credentials (default: <name>-prometheus)
    metrics_port: int | None = None


def slug(text: str, limit: int = 40) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", cleaned)[:limit].rstrip("-") or "experiment"


def valid_schedule(schedule: str) -> bool:
    return bool(_CRON.match(schedule.strip()))


def valid_timezone(name: str) -> bool:
    """An IANA time zone name, as the CronJob controller reads ``timeZone``."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def name_of(source: Path) -> str:
    return f"gameday-{slug(source.stem)}"


def secret_of(source: Path, settings: Settings) -> str:
    return settings.secret or f"{name_of(source)}-prometheus"


def home_of(experiment: model.Experiment, settings: Settings) -> str:
    return settings.namespace or experiment.target.namespace or "default"


def labels_of(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "gameday", "app.kubernetes.io/instance": name,
            "app.kubernetes.io/managed-by": "gameday"}


def build(experiment: model.Experiment, source: Path, text: str,
          settings: Settings = Settings()) -> list[Manifest]:
    """Every manifest, in the order ``kubectl create``/``apply`` needs them."""
    home = home_of(experiment, settings)
    name = name_of(source)
    labels = labels_of(name)
    creds = credentials.find(text, workload.EXPERIMENT_DIR)
    out: list[Manifest] = [rbac.service_account(home, labels),
                           *rbac.roles(experiment, name, home, labels)]
    out.append({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": home, "labels": labels},
        "data": {"experiment.yaml": text},
    })
    pod = workload.pod_spec(image=settings.image, account=rbac.ACCOUNT, config_map=name,
                            journal_volume=journal_volume(name, home, labels, settings, out),
                            creds=creds, secret=secret_of(source, settings),
                            metrics_port=settings.metrics_port)
    spec = workload.job_spec(experiment, pod, labels, settings.metrics_port)
    out.append(run_object(name, home, labels, spec, settings))
    return out


def journal_volume(name: str, home: str, labels: dict[str, str], settings: Settings,
                   out: list[Manifest]) -> dict[str, Any]:
    """The pod's ``work`` volume for the journal; a PVC (appended to ``out``) if asked."""
    if settings.journal != "pvc":
        return {"name": "work", "emptyDir": {}}
    out.append(journal_claim(name, home, labels, settings.journal_size))
    return {"name": "work", "persistentVolumeClaim": {"claimName": claim_of(name)}}


def run_object(name: str, home: str, labels: dict[str, str], spec: dict[str, Any],
               settings: Settings) -> Manifest:
    """A Job running ``spec`` once, or a CronJob when ``settings`` has a schedule."""
    if settings.schedule is None:
        return workload.job(name, home, labels, spec)
    return workload.cron_job(name, home, labels, spec, schedule=settings.schedule,
                             timezone=settings.timezone)


def claim_of(name: str) -> str:
    return f"{name}-journal"


def journal_claim(name: str, home: str, labels: dict[str, str], size: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim_of(name), "namespace": home, "labels": labels},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": size}}}}


def reader(experiment: model.Experiment, source: Path, settings: Settings) -> Manifest:
    name = name_of(source)
    return workload.reader(name, home_of(experiment, settings), labels_of(name),
                           settings.image, claim_of(name))


def warnings(experiment: model.Experiment, source: Path, text: str,
             settings: Settings) -> list[str]:
    """Remarks for stderr: things that will not work as the user may expect."""
    notes: list[str] = []
    if experiment.target.platform != "kubernetes":
        notes.append(f"target.platform is {experiment.target.platform}: inside a cluster "
                     "only kubernetes makes sense.")
    if experiment.target.context:
        notes.append(f"target.context is {experiment.target.context}, but inside the "
                     "cluster gameday uses the pod's service account and has no kubeconfig; "
                     "remove target.context for in-cluster runs.")
    if settings.journal == "emptydir":
        notes.append("the journal is on an emptyDir: it disappears with the pod, and so "
                     "does `gameday revert` after a crash. Prefer the PVC.")
    creds = credentials.find(text, workload.EXPERIMENT_DIR)
    if creds:
        secret = secret_of(source, settings)
        notes.append(f"the Prometheus credentials come from the Secret {secret} (keys "
                     f"{', '.join(creds.keys)}); create it before the Job runs: "
                     + credentials.hint(creds, secret, home_of(experiment, settings)))
    return notes
