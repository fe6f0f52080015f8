"""``gameday k8s manifests FILE --guard``: valid objects, one replica, a Role that grants
what a takeover needs and no more (proved by running a takeover under exactly it)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from kubernetes import client as k8s

from runner.adapters.k8s import leases as wire
from runner.cli import guard_k8s
from runner.cli import k8s as cli
from tests.guard import k8s_runs
from tests.k8s import builders
from tests.k8s.emulator import LEASES, NETWORKCHAOS, EmulatedCluster

ROOT = Path(__file__).resolve().parents[2]
LATENCY = ROOT / "experiments" / "k8s-latency.yaml"
MODELS = {"ServiceAccount": "V1ServiceAccount", "Role": "V1Role",
          "RoleBinding": "V1RoleBinding", "Deployment": "V1Deployment"}


def guard_manifests(*extra: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli.k8s, ["manifests", str(LATENCY), "--guard", *extra])
    assert result.exit_code == 0, result.output
    return list(yaml.safe_load_all(result.stdout))


def granted(docs: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(verb, group, resource) for d in docs if d["kind"] == "Role"
            for rule in d["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def test_the_guard_is_one_replica_of_valid_objects_watching_the_experiments_namespaces(
        ) -> None:
    docs = guard_manifests()
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Role", "RoleBinding", "Deployment"]
    api = k8s.ApiClient()
    for doc in docs:
        assert type(api.deserialize(json.dumps(doc), MODELS[doc["kind"]], None)).__name__ \
            == MODELS[doc["kind"]]
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"][:3] == ["guard", "--namespace", "shop-staging"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "gameday-guard"


def test_the_guard_role_never_creates_or_deletes_leases_and_scales_only_when_asked() -> None:
    rights = granted(guard_manifests())
    assert ("patch", "coordination.k8s.io", "leases") in rights
    assert not {("create", "coordination.k8s.io", "leases"),
                ("delete", "coordination.k8s.io", "leases"),
                ("patch", "apps", "deployments"), ("delete", "", "pods")} & rights
    assert ("patch", "apps", "deployments") in granted(guard_manifests("--guard-scale"))


def test_a_takeover_works_with_exactly_the_guard_roles_rights(
        shop: EmulatedCluster, kubeconfig: str, tmp_path: Path) -> None:
    dead = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-rbac",
                            (builders.latency(), builders.kill()), lease_seconds=1)
    dead.claim()
    dead.inject()
    rights = granted(guard_manifests())
    used = {(verb, group, resource)
            for verb in ("get", "list", "create", "patch", "delete")
            for group, resource in (("coordination.k8s.io", "leases"), ("", "pods"),
                                    ("chaos-mesh.org", "networkchaos"), ("", "configmaps"),
                                    ("apps", "deployments"), ("apps", "statefulsets"))}
    shop.denied |= used - rights  # the emulator answers 403 to everything else
    time.sleep(1.2)
    takeover = guard_k8s.Takeover(guard_k8s.lease_api(kubeconfig, None), by="test guard",
                                  journal_dir=tmp_path / "guard", kubeconfig=kubeconfig,
                                  context=None, say=lambda _text: None)
    [seen] = guard_k8s.KubeStore(takeover.api, ["shop"]).scan()
    done = takeover(seen)
    assert done is not None and done.code == 0, done
    assert shop.objects(NETWORKCHAOS, "shop") == []
    [run] = [lease for lease in shop.objects(LEASES, "shop")
             if lease["metadata"]["labels"][wire.KIND_LABEL] == "run"]
    assert wire.notes_of(run)["state"] == "reverted"
