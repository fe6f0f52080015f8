"""``gameday k8s manifests``: valid Kubernetes objects, least privilege, applicable.

Every variant is checked three ways: the official client's models, kubernetes-validate's
OpenAPI schemas (strict: an unknown field fails) for two Kubernetes versions, and kmock
(the manifests are created through the API server emulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
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
          "CronJob": "V1CronJob", "Pod": "V1Pod"}
KUBERNETES_VERSIONS = ("1.29.0", "1.34.0")  # CronJob timeZone is GA since 1.27


def manifests(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(cli.k8s, ["manifests", *args])
    docs = list(yaml.safe_load_all(result.stdout)) if result.exit_code == 0 else []
    return result.exit_code, docs, result.stderr


def with_credentials(tmp_path: Path) -> Path:
    """The pod-kill experiment reading Prometheus with a token from the environment and
    TLS files: a CA elsewhere, a client certificate beside the experiment file."""
    path = tmp_path / "k8s-pod-kill-auth.yaml"
    path.write_text(POD_KILL.read_text().replace(
        "prometheus: {url: 'http://prometheus.monitoring.svc:9090', tick: 15s, timeout: 5s}",
        "prometheus:\n  url: 'https://prometheus.monitoring.svc:9090'\n  tick: 15s\n"
        "  authorization: {credentials: '${PROM_TOKEN}'}\n"
        "  tls_config: {ca_file: /etc/prometheus-ca/ca.crt, cert_file: certs/client.crt,\n"
        "               key_file: certs/client.key}\n"))
    return path


VARIANTS: list[tuple[str, list[str]]] = [
    ("job on a pvc", []),
    ("cron job on an emptydir", ["--schedule", "0 3 * * 1", "--timezone", "Europe/Berlin",
                                 "--journal", "emptydir"]),
    ("metrics port", ["--metrics-port", "9464"]),
    ("reader pod", ["--reader"]),
]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_strictly_against_the_kubernetes_schemas(
        version: str, tmp_path: Path) -> None:
    unique: dict[str, dict[str, Any]] = {}  # each distinct document once (0.2 s a check)
    for _what, args in VARIANTS:
        for source in (POD_KILL, LATENCY, with_credentials(tmp_path)):
            code, docs, err = manifests(str(source), *args)
            assert code == 0, err
            unique.update((json.dumps(doc, sort_keys=True), doc) for doc in docs)
    assert {doc["kind"] for doc in unique.values()} == set(MODELS)
    for doc in unique.values():
        kubernetes_validate.validate(doc, version, strict=True)
        model = k8s.ApiClient().deserialize(json.dumps(doc), MODELS[doc["kind"]], None)
        assert type(model).__name__ == MODELS[doc["kind"]]


def test_a_mistake_in_a_manifest_would_be_caught_by_the_schema_check() -> None:
    _code, docs, _err = manifests(str(POD_KILL))
    job = docs[-1]
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy_"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_manifests_are_valid_kubernetes_objects_in_apply_order() -> None:
    code, docs, _err = manifests(str(POD_KILL))
    assert code == 0
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Role", "RoleBinding", "ConfigMap",
                                          "PersistentVolumeClaim", "Job"]
    for doc in docs:
        assert doc["metadata"]["namespace"] == "shop-staging"


def test_each_job_gets_a_unique_name_and_job_only_prints_just_it() -> None:
    _code, docs, _err = manifests(str(POD_KILL))
    meta = docs[-1]["metadata"]
    assert meta["generateName"] == "gameday-k8s-pod-kill-" and "name" not in meta
    code, only, _err = manifests(str(POD_KILL), "--job-only")
    assert code == 0 and only == docs[-1:]


def test_prometheus_credentials_come_from_a_secret_never_from_the_config_map(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROM_TOKEN", raising=False)  # not needed on the laptop
    code, docs, err = manifests(str(with_credentials(tmp_path)))
    assert code == 0, err
    by_kind = {d["kind"]: d for d in docs}
    assert "${PROM_TOKEN}" in by_kind["ConfigMap"]["data"]["experiment.yaml"]
    assert "Secret" not in by_kind  # gameday never prints a secret, not even a template
    pod = by_kind["Job"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    secret = "gameday-k8s-pod-kill-auth-prometheus"
    assert {"name": "PROM_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": secret, "key": "PROM_TOKEN"}}} in container["env"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    beside = volumes["experiment"]["projected"]["sources"]
    assert {"secret": {"name": secret, "items": [
        {"key": "client.crt", "path": "certs/client.crt"},
        {"key": "client.key", "path": "certs/client.key"}]}} in beside
    ca = volumes["prometheus-credentials-0"]["secret"]
    assert (ca["secretName"], ca["items"]) == (secret, [{"key": "ca.crt", "path": "ca.crt"}])
    assert {"name": "prometheus-credentials-0", "mountPath": "/etc/prometheus-ca",
            "readOnly": True} in container["volumeMounts"]
    assert (f"kubectl -n shop-staging create secret generic {secret} --from-literal="
            "PROM_TOKEN=...") in err


def test_a_cron_job_says_its_time_zone_and_a_bad_one_is_refused() -> None:
    code, docs, _err = manifests(str(POD_KILL), "--schedule", "0 3 * * 1",
                                 "--timezone", "Europe/Berlin")
    assert code == 0 and docs[-1]["spec"]["timeZone"] == "Europe/Berlin"
    _code, docs, _err = manifests(str(POD_KILL), "--schedule", "@daily")
    assert docs[-1]["spec"]["timeZone"] == "Etc/UTC"  # explicit, never the controller's
    code, docs, err = manifests(str(POD_KILL), "--schedule", "@daily", "--timezone", "Mars/Base")
    assert (code, docs) == (2, []) and "is not an IANA time zone" in err


def test_the_reader_pod_mounts_the_journal_read_only() -> None:
    code, [pod], _err = manifests(str(POD_KILL), "--reader")
    assert code == 0 and pod["kind"] == "Pod"
    [volume] = pod["spec"]["volumes"]
    assert volume["persistentVolumeClaim"] == {"claimName": "gameday-k8s-pod-kill-journal",
                                               "readOnly": True}
    assert pod["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] is True
    code, _docs, err = manifests(str(POD_KILL), "--reader", "--journal", "emptydir")
    assert code == 2 and "--reader needs the journal on the PVC" in err


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


def test_the_manifests_apply_to_the_api_server(shop: EmulatedCluster, kubeconfig: str,
                                              tmp_path: Path) -> None:
    _code, docs, _err = manifests(str(POD_KILL), "--metrics-port", "9464")
    _code, [reader], _err = manifests(str(POD_KILL), "--reader")
    api = kclient.api_client(kubeconfig, None)
    for doc in [*docs, reader]:
        meta = doc["metadata"]
        if "generateName" in meta:  # kmock does not generate names: the API server would
            meta["name"] = meta.pop("generateName").rstrip("-")
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
