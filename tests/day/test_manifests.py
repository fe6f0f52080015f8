"""``gameday k8s manifests DAY.yaml``: one CronJob (or Job) for the whole day, every file
of the day in its ConfigMap, the window's time zone, RBAC for the kill switch; valid
against the Kubernetes schemas (strict) and the official client's models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from click.testing import CliRunner
from kubernetes import client as k8s

from runner.cli import k8s as cli
from tests.day.conftest import ROOT

DAY = ROOT / "experiments" / "day-k8s.yaml"
MODELS = {"ServiceAccount": "V1ServiceAccount", "Role": "V1Role",
          "RoleBinding": "V1RoleBinding", "ConfigMap": "V1ConfigMap",
          "PersistentVolumeClaim": "V1PersistentVolumeClaim", "Job": "V1Job",
          "CronJob": "V1CronJob"}


def manifests(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(cli.k8s, ["manifests", *args])
    docs = list(yaml.safe_load_all(result.stdout)) if result.exit_code == 0 else []
    return result.exit_code, docs, result.stderr


def kinds(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs}


def test_a_scheduled_day_is_one_cronjob_that_runs_the_day_in_its_windows_zone() -> None:
    code, docs, err = manifests(str(DAY), "--schedule", "0 14 * * 2,3")
    assert code == 0, err
    by_kind = kinds(docs)
    cron = by_kind["CronJob"]["spec"]
    assert cron["schedule"] == "0 14 * * 2,3" and cron["timeZone"] == "Europe/Berlin"
    assert cron["concurrencyPolicy"] == "Forbid"
    job = cron["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    (container,) = job["template"]["spec"]["containers"]
    assert container["args"][:3] == ["day", "run", "/etc/gameday/day.yaml"]
    assert {"name": "GAMEDAY_HOME", "value": "/var/lib/gameday/home"} in container["env"]
    data = by_kind["ConfigMap"]["data"]
    assert set(data) == {"day.yaml", "k8s-pod-kill.yaml", "k8s-latency.yaml"}
    assert data["day.yaml"] == DAY.read_text()
    volume = next(v for v in job["template"]["spec"]["volumes"] if v["name"] == "experiment")
    items = volume["projected"]["sources"][0]["configMap"]["items"]
    assert {"key": "k8s-latency.yaml", "path": "k8s-latency.yaml"} in items
    role = by_kind["Role"]
    config_rules = [r for r in role["rules"] if r["resources"] == ["configmaps"]]
    assert config_rules and "get" in config_rules[0]["verbs"]  # the gameday-stop switch
    assert any(r["resources"] == ["pods"] and "delete" in r["verbs"] for r in role["rules"])
    deadline = job["activeDeadlineSeconds"]
    assert deadline > 2 * 600  # both experiments' deadlines


def test_an_explicit_timezone_wins_and_a_mismatch_is_warned_about() -> None:
    code, docs, err = manifests(str(DAY), "--schedule", "0 13 * * 2", "--timezone", "Etc/UTC")
    assert code == 0
    assert kinds(docs)["CronJob"]["spec"]["timeZone"] == "Etc/UTC"
    assert "differs from the window's Europe/Berlin" in err


def test_a_day_without_schedule_is_a_job_with_a_generated_name() -> None:
    code, docs, err = manifests(str(DAY))
    assert code == 0
    job = kinds(docs)["Job"]
    assert job["metadata"]["generateName"].startswith("gameday-day-day-k8s-")
    assert "kubectl create" in err


def test_every_day_manifest_validates_strictly_against_the_kubernetes_schemas() -> None:
    unique: dict[str, dict[str, Any]] = {}
    for args in ([], ["--schedule", "@daily", "--journal", "emptydir"]):
        code, docs, err = manifests(str(DAY), *args)
        assert code == 0, err
        unique.update((json.dumps(d, sort_keys=True), d) for d in docs)
    for doc in unique.values():
        kubernetes_validate.validate(doc, "1.34.0", strict=True)
        model = k8s.ApiClient().deserialize(json.dumps(doc), MODELS[doc["kind"]], None)
        assert type(model).__name__ == MODELS[doc["kind"]]


def test_an_experiment_outside_the_day_directory_is_refused_with_what_to_do(
        tmp_path: Path) -> None:
    inner = tmp_path / "days"
    inner.mkdir()
    (tmp_path / "pod-kill.yaml").write_text((ROOT / "experiments/k8s-pod-kill.yaml").read_text())
    day = inner / "day.yaml"
    day.write_text("kind: gameday\ntitle: outside\nexperiments:\n"
                   "  - {id: kill, file: ../pod-kill.yaml}\n")
    code, _docs, err = manifests(str(day))
    assert code == 2 and "outside the day file's directory" in err
    bad = manifests(str(DAY), "--schedule", "every tuesday")
    assert bad[0] == 2 and "not a cron schedule" in bad[2]
