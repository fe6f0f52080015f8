"""Manifests that run a whole game day inside the cluster (``gameday k8s manifests DAY``).

Built from the ecosystem's manifest parts (``runner.adapters.k8s.manifests``: the
ServiceAccount, the Role rules, the runner's pod, Job and CronJob, the journal claim), so
a day's pod is the same hardened pod as an experiment's; only what a day adds is here:

- One ConfigMap holds the day file and every experiment file it names, mounted so each
  ``file:`` path resolves as written (a projected volume with ``items``); a path outside
  the day file's directory cannot be mounted and is refused with what to do.
- The pod runs ``gameday day run /etc/gameday/day.yaml``; ``GAMEDAY_HOME`` is on the
  journal volume, so the day lock and run records outlive a pod.
- RBAC is the union of what every experiment needs (``safety.required_permissions``,
  which also lists ``get`` on ConfigMaps for the ``gameday-stop`` kill switch) per
  namespace. The gates read Prometheus over HTTP (no Kubernetes permission); their
  credentials come from the same Secret as the experiments'.
- A CronJob (``--schedule``) takes the window's time zone unless ``--timezone`` says
  otherwise, so the schedule and the window read the same clock; ``concurrencyPolicy:
  Forbid`` and the controller's unique Job names; a plain Job has ``generateName``
  (``kubectl create``: each run its own name). ``activeDeadlineSeconds`` is the sum of
  the experiments' deadlines.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path
from typing import Any

from runner import errors
from runner.adapters.k8s import manifests as parts
from runner.adapters.k8s import safety
from runner.adapters.k8s.manifests import credentials, rbac, workload
from runner.day import model as day_model

DAY_KEY = "day.yaml"


@dataclasses.dataclass(frozen=True)
class Mounted:
    """A file of the day in the ConfigMap: its key, and where the pod sees it."""

    key: str
    path: str  # relative to the experiment directory
    text: str


def name_of(day: day_model.Day) -> str:
    return f"gameday-day-{parts.slug(Path(day.source).stem, limit=36)}"


def files(day: day_model.Day, day_text: str) -> list[Mounted]:
    """The day file and every experiment file it names, as the pod must see them."""
    base = Path(day.source).parent
    found = [Mounted(DAY_KEY, DAY_KEY, day_text)]
    seen = {DAY_KEY}
    for entry in day.experiments:
        if entry.file_sha256 is None:
            continue  # inline: it lives in the day file
        relative = posixpath.normpath(Path(entry.source).relative_to(base).as_posix()) \
            if Path(entry.source).is_relative_to(base) else None
        if relative is None or relative.startswith(("../", "/")) or relative == "..":
            raise errors.InputError(
                f"{day.source}: experiment {entry.id!r} is {entry.source}, outside the day "
                "file's directory; in the cluster every file of a day is mounted beside the "
                "day file. Move it next to the day file (or below it) and name it from there.")
        if relative in seen:
            continue
        seen.add(relative)
        key = re.sub(r"[^-._a-zA-Z0-9]", "_", relative)
        found.append(Mounted(key, relative, Path(entry.source).read_text(encoding="utf-8")))
    return found


def _roles(day: day_model.Day, name: str, home: str,
           labels: dict[str, str]) -> list[dict[str, Any]]:
    by_namespace: dict[str, list[safety.Permission]] = {}
    for entry in day.experiments:
        if entry.experiment.target.platform != "kubernetes":
            continue
        for perm in safety.required_permissions(entry.experiment):
            found = by_namespace.setdefault(perm.namespace, [])
            if perm not in found:
                found.append(perm)
    out: list[dict[str, Any]] = []
    for ns, perms in sorted(by_namespace.items()):
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "rules": rbac.rules(perms)})
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                "name": name},
                    "subjects": [{"kind": "ServiceAccount", "name": rbac.ACCOUNT,
                                  "namespace": home}]})
    return out


def home_of(day: day_model.Day, settings: parts.Settings) -> str:
    if settings.namespace:
        return settings.namespace
    return next((e.experiment.target.namespace for e in day.experiments
                 if e.experiment.target.namespace), "default")


def build(day: day_model.Day, day_text: str, settings: parts.Settings) -> list[dict[str, Any]]:
    """Every manifest of the day, in apply order."""
    name = name_of(day)
    home = home_of(day, settings)
    labels = parts.labels_of(name)
    mounted = files(day, day_text)
    creds = _credentials(mounted)
    out: list[dict[str, Any]] = [rbac.service_account(home, labels),
                                 *_roles(day, name, home, labels)]
    out.append({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": home, "labels": labels},
                "data": {m.key: m.text for m in mounted}})
    volume = parts.journal_volume(name, home, labels, settings, out)
    pod = workload.pod_spec(image=settings.image, account=rbac.ACCOUNT, config_map=name,
                            journal_volume=volume, creds=creds,
                            secret=settings.secret or f"{name}-prometheus",
                            metrics_port=None)
    _as_day(pod, mounted)
    deadline = sum(workload.deadline(e.experiment) for e in day.experiments)
    spec = {"backoffLimit": 0, "activeDeadlineSeconds": deadline,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": {"metadata": {"labels": labels}, "spec": pod}}
    out.append(parts.run_object(name, home, labels, spec, settings))
    return out


def _credentials(mounted: list[Mounted]) -> credentials.Credentials:
    """What every file's ``prometheus:`` blocks need from the Secret, together."""
    variables: list[str] = []
    paths: list[str] = []
    for m in mounted:
        where = posixpath.join(workload.EXPERIMENT_DIR, posixpath.dirname(m.path))
        found = credentials.find(m.text, where.rstrip("/"))
        variables += [v for v in found.variables if v not in variables]
        paths += [f for f in found.files if f not in paths]
    return credentials.Credentials(tuple(variables), tuple(paths))


def _as_day(pod: dict[str, Any], mounted: list[Mounted]) -> None:
    """The experiment pod, made the day's: its command, its files, its home."""
    (container,) = pod["containers"]
    container["args"] = ["day", "run", f"{workload.EXPERIMENT_DIR}/{DAY_KEY}",
                         "--journal-dir", workload.JOURNAL_DIR]
    container["env"].append({"name": "GAMEDAY_HOME", "value": f"{workload.WORK_DIR}/home"})
    volume = next(v for v in pod["volumes"] if v["name"] == "experiment")
    source = volume["projected"]["sources"][0]["configMap"]
    source["items"] = [{"key": m.key, "path": m.path} for m in mounted]


def timezone_for(day: day_model.Day, given: str, given_explicitly: bool) -> str:
    """The CronJob's ``timeZone``: ``--timezone`` when given, else the window's."""
    if given_explicitly or day.window is None:
        return given
    return day.window.timezone


def warnings(day: day_model.Day, settings: parts.Settings) -> list[str]:
    notes = []
    for entry in day.experiments:
        exp = entry.experiment
        if exp.target.platform != "kubernetes":
            notes.append(f"experiment {entry.id!r} targets {exp.target.platform}: inside a "
                         "cluster only kubernetes makes sense.")
        if exp.target.context:
            notes.append(f"experiment {entry.id!r} names target.context {exp.target.context}"
                         "; inside the cluster gameday uses the pod's service account.")
    if settings.schedule is None:
        notes.append("the Job has generateName: create it with `kubectl create -f -` (each "
                     "run gets its own name).")
    if day.window is not None and settings.schedule is not None \
            and settings.timezone != day.window.timezone:
        notes.append(f"the CronJob's time zone {settings.timezone} differs from the window's "
                     f"{day.window.timezone}: the schedule and the window read different "
                     "clocks.")
    return notes
