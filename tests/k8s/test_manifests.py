"""``gameday k8s manifests``: valid Kubernetes objects, least privilege, applicable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from kubernetes import client as k8s
from kubernetes import utils

from gameday_k8s import client as kclient
from runner.adapters.k8s import safety
from runner.cli import k8s as cli
from runner.model import loader
from tests.k8s.emulator import EmulatedCluster

ROOT = Path(__file__).resolve().parents[2]
POD_KILL = ROOT / "experiments" / "k8s-pod-kill.yaml"
LATENCY = ROOT / "experiments" / "k8s-latency.yaml"
MODELS = {"ServiceAccount": "V1ServiceAccount", "Role": "V1Role",
          "RoleBinding": "V1RoleBinding", "ConfigMap": "V1ConfigMap",
          "PersistentVolumeClaim": "V1PersistentVolumeClaim", "Job": "V1Job",
          "CronJob": "V1CronJob"}


def manifests(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(cli.k8s, ["manifests", *args])
    docs = list(yaml.safe_load_all(result.stdout)) if result.exit_code == 0 else []
    return result.exit_code, docs, result.stderr


def test_the_manifests_are_valid_kubernetes_objects_in_apply_order() -> None:
    code, docs, _err = manifests(str(POD_KILL))
    assert code == 0
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Role", "RoleBinding", "ConfigMap",
                                          "PersistentVolumeClaim", "Job"]
    api = k8s.ApiClient()
    for doc in docs:
        model = api.deserialize(json.dumps(doc), MODELS[doc["kind"]], None)
        assert type(model).__name__ == MODELS[doc["kind"]]
        assert model.metadata.namespace == "shop-staging"


def test_the_role_grants_exactly_what_preflight_checks() -> None:
    _code, docs, _err = manifests(str(LATENCY))
    [role] = [d for d in docs if d["kind"] == "Role"]
    granted = {(verb, rule["apiGroups"][0], rule["resources"][0])
               for rule in role["rules"] for verb in rule["verbs"]}
    needed = {(p.verb, p.group, p.resource)
              for p in safety.required_permissions(loader.load(LATENCY))}
    assert granted == needed
    assert ("delete", "", "pods") not in granted  # a latency experiment kills nothing
    assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in role["rules"])


def test_the_job_runs_the_experiment_from_the_config_map_with_the_journal_on_a_volume() -> None:
    _code, docs, _err = manifests(str(POD_KILL), "--image", "registry.local/gameday:1",
                                  "--namespace", "gameday")
    by_kind = {d["kind"]: d for d in docs}
    assert loader.load_text(by_kind["ConfigMap"]["data"]["experiment.yaml"], "cm").sha256 == \
        loader.load(POD_KILL).sha256
    job = by_kind["Job"]["spec"]
    assert job["backoffLimit"] == 0
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == by_kind["ServiceAccount"]["metadata"]["name"]
    [container] = pod["containers"]
    assert container["image"] == "registry.local/gameday:1"
    assert container["command"] + container["args"] == [
        "gameday", "run", "/etc/gameday/experiment.yaml", "--journal-dir",
        "/var/lib/gameday/journal"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["work"]["persistentVolumeClaim"]["claimName"] == \
        by_kind["PersistentVolumeClaim"]["metadata"]["name"]
    assert by_kind["ServiceAccount"]["metadata"]["namespace"] == "gameday"
    [binding] = [d for d in docs if d["kind"] == "RoleBinding"]
    assert binding["metadata"]["namespace"] == "shop-staging"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "gameday-runner",
                                    "namespace": "gameday"}]


def test_a_schedule_makes_a_cron_job_that_never_overlaps() -> None:
    code, docs, _err = manifests(str(POD_KILL), "--schedule", "0 10 * * 2",
                                 "--journal", "emptydir")
    assert code == 0
    cron = docs[-1]
    assert cron["kind"] == "CronJob"
    assert cron["spec"]["schedule"] == "0 10 * * 2"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert "PersistentVolumeClaim" not in [d["kind"] for d in docs]
    k8s.ApiClient().deserialize(json.dumps(cron), "V1CronJob", None)


def test_a_bad_schedule_or_experiment_exits_2_and_prints_no_manifest(tmp_path: Path) -> None:
    code, docs, err = manifests(str(POD_KILL), "--schedule", "every tuesday")
    assert (code, docs) == (2, [])
    assert "is not a cron schedule" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text(POD_KILL.read_text().replace("count: 1", "count: zero"))
    code, docs, err = manifests(str(broken))
    assert (code, docs) == (2, [])
    assert "faults[0].pod-kill.count" in err


def test_the_manifests_apply_to_the_api_server(shop: EmulatedCluster, kubeconfig: str) -> None:
    _code, docs, _err = manifests(str(POD_KILL))
    api = kclient.api_client(kubeconfig, None)
    for doc in docs:
        utils.create_from_dict(api, doc)  # type: ignore[no-untyped-call]
    core, batch = k8s.CoreV1Api(api), k8s.BatchV1Api(api)
    cm = kclient.call("read", core.read_namespaced_config_map, "gameday-k8s-pod-kill",
                      "shop-staging")
    assert "Checkout survives" in cm["data"]["experiment.yaml"]
    job = kclient.call("read", batch.read_namespaced_job, "gameday-k8s-pod-kill",
                       "shop-staging")
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "gameday-runner"


@pytest.mark.parametrize("path", [POD_KILL, LATENCY])
def test_the_example_experiments_load(path: Path) -> None:
    experiment = loader.load(path)
    assert experiment.target.platform == "kubernetes"
    assert experiment.blast_radius.namespaces == ("shop-staging",)
