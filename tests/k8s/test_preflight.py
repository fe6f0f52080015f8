"""Preflight against the emulated API server: every refusal names its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday_k8s import chaosmesh
from runner.adapters.k8s import platform, safety
from tests.k8s import builders
from tests.k8s.emulator import NETWORKCHAOS, EmulatedCluster


def preflight(experiment: object, kubeconfig: str, **options: object) -> list[str]:
    built = platform.build_platform(experiment, kubeconfig=kubeconfig, **options)  # type: ignore[arg-type]
    return built.preflight(experiment)  # type: ignore[arg-type]


def test_a_well_formed_experiment_passes_preflight(shop: EmulatedCluster,
                                                   kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(), builders.latency(selector="app=cart"),
                                     max_pods=3)
    assert preflight(experiment, kubeconfig) == []


def test_a_namespace_outside_the_allow_list_is_refused(shop: EmulatedCluster,
                                                       kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(), namespaces=("staging",))
    problems = preflight(experiment, kubeconfig)
    assert any("'shop'" in p and "outside `blast_radius.namespaces`" in p for p in problems)


def test_an_empty_allow_list_allows_no_namespace(shop: EmulatedCluster, kubeconfig: str) -> None:
    problems = preflight(builders.experiment(builders.kill(), namespaces=()), kubeconfig)
    assert any("`blast_radius.namespaces` is empty" in p for p in problems)


def test_a_selection_larger_than_max_pods_is_refused(shop: EmulatedCluster,
                                                    kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(count=None, fraction=1.0), max_pods=2)
    problems = preflight(experiment, kubeconfig)
    assert any("would hit 3 pods, more than `blast_radius.max_pods` (2)" in p for p in problems)


def test_latency_on_more_pods_than_max_pods_is_refused(shop: EmulatedCluster,
                                                      kubeconfig: str) -> None:
    problems = preflight(builders.experiment(builders.latency(), max_pods=1), kubeconfig)
    assert any("(latency) would hit 3 pods" in p for p in problems)


def test_a_selection_above_max_fraction_is_refused(shop: EmulatedCluster,
                                                  kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(count=2), max_fraction=0.5)
    problems = preflight(experiment, kubeconfig)
    assert any("2 of 3 matching pods (67%)" in p and "max_fraction" in p for p in problems)


def test_faults_together_are_held_to_the_blast_radius(shop: EmulatedCluster,
                                                      kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(), builders.kill(selector="app=cart"),
                                     max_pods=1)
    problems = preflight(experiment, kubeconfig)
    assert problems == ["All faults together would hit 2 pods, more than "
                        "`blast_radius.max_pods` (1)."]


def test_a_selector_matching_nothing_is_refused(shop: EmulatedCluster, kubeconfig: str) -> None:
    problems = preflight(builders.experiment(builders.kill(selector="app=chekout")), kubeconfig)
    assert any("'app=chekout' matches no pod in namespace 'shop'" in p for p in problems)


def test_pods_that_are_not_ready_or_not_owned_are_never_enough(cluster: EmulatedCluster,
                                                                kubeconfig: str) -> None:
    cluster.add_statefulset("shop", "db", replicas=3, ready=1, labels={"app": "db"})
    cluster.add_pod("shop", "db-debug", {"app": "db"})  # Running+Ready, but bare
    problems = preflight(builders.experiment(builders.kill(selector="app=db", count=2)),
                         kubeconfig)
    assert len(problems) == 1
    assert "only 1 of the 4 pods" in problems[0]
    assert "2 not Running+Ready" in problems[0]
    assert "1 not owned by a Deployment or StatefulSet" in problems[0]


@pytest.mark.parametrize("context", ["gke_acme_europe-west1_prod", "shop-prd", "Production"])
def test_a_production_context_is_refused_without_both_flags(
    shop: EmulatedCluster, tmp_path: Path, context: str
) -> None:
    config = str(shop.kubeconfig(tmp_path / "prod", context=context))
    experiment = builders.experiment(builders.kill())
    neither = preflight(experiment, config)
    assert any("looks like production" in p and "kube context" in p for p in neither)
    only_file = preflight(builders.experiment(builders.kill(), allow_production=True), config,
                          allow_production=False)
    assert any("missing: the command line passes --allow-production" in p for p in only_file)
    only_flag = preflight(experiment, config, allow_production=True)
    assert any("missing: the experiment sets `blast_radius.allow_production: true`" in p
               for p in only_flag)
    both = preflight(builders.experiment(builders.kill(), allow_production=True), config,
                     allow_production=True)
    assert not any("production" in p for p in both)


def test_a_namespace_labelled_production_is_a_production_hint(shop: EmulatedCluster,
                                                              kubeconfig: str) -> None:
    shop.namespaces["shop"] = {"env": "prod"}
    problems = preflight(builders.experiment(builders.kill()), kubeconfig)
    assert any("namespace 'shop' is labelled env=prod" in p for p in problems)


def test_the_context_named_on_the_command_line_wins_over_the_current_one(
    shop: EmulatedCluster, tmp_path: Path
) -> None:
    config = shop.kubeconfig(tmp_path / "kc", context="staging")
    built = platform.build_platform(builders.experiment(), kubeconfig=str(config),
                                    context="nope")
    problems = built.preflight(builders.experiment())
    assert problems == ["Kubernetes: Kube context 'nope' is not in "
                        f"{config} (known contexts: staging)."]


def test_every_missing_permission_is_named(shop: EmulatedCluster, kubeconfig: str) -> None:
    experiment = builders.experiment(builders.kill(), builders.latency(selector="app=cart"),
                                     max_pods=3)
    needed = safety.required_permissions(experiment)
    assert {(p.verb, p.resource) for p in needed} >= {
        ("delete", "pods"), ("get", "pods"), ("list", "deployments"),
        ("create", "networkchaos"), ("delete", "networkchaos")}
    for perm in needed:
        shop.denied = {(perm.verb, perm.group, perm.resource)}
        problems = preflight(experiment, kubeconfig)
        assert len(problems) == 1, (perm, problems)
        assert problems[0].startswith("Missing Kubernetes permission on kube context")
        assert f": {perm} (a SelfSubjectAccessReview said no)" in problems[0]


def test_a_missing_chaos_mesh_is_refused_with_how_to_install_it(
    tmp_path: Path,
) -> None:
    bare = EmulatedCluster(crd_installed=False).start()
    try:
        bare.add_deployment("shop", "checkout", 3, {"app": "checkout"})
        config = str(bare.kubeconfig(tmp_path / "kc"))
        problems = preflight(builders.experiment(builders.latency(), max_pods=3), config)
        assert len(problems) == 1
        assert "NetworkChaos resource (networkchaos.chaos-mesh.org/v1alpha1) is not served" \
            in problems[0]
        assert "helm install chaos-mesh" in problems[0]
        assert preflight(builders.experiment(builders.kill()), config) == []
    finally:
        bare.stop()


def _leftover(cluster: EmulatedCluster, run_id: str) -> None:
    body = chaosmesh.network_delay(
        name=f"gameday-{run_id}-0-latency", namespace="shop", run_id=run_id,
        labels={"app": "cart"}, expressions=None, delay=0.1, jitter=0.0, correlation=0.0,
        direction="to", duration=60.0)
    cluster.put(NETWORKCHAOS, "shop", body)


def test_leftover_network_chaos_is_reported(shop: EmulatedCluster, kubeconfig: str) -> None:
    _leftover(shop, "old-run")
    problems = preflight(builders.experiment(builders.kill()), kubeconfig)
    assert problems == [
        "Leftover NetworkChaos shop/gameday-old-run-0-latency of run old-run is still in the "
        "cluster; it would falsify the steady state. Revert that run (`gameday revert "
        "JOURNAL`), delete it, or run again with --sweep-leftovers."]
    assert len(shop.objects(NETWORKCHAOS, "shop")) == 1


def test_leftover_network_chaos_is_swept_when_asked(shop: EmulatedCluster,
                                                   kubeconfig: str) -> None:
    _leftover(shop, "old-run")
    built = platform.build_platform(builders.experiment(), kubeconfig=kubeconfig,
                                    sweep_leftovers=True)
    assert built.preflight(builders.experiment()) == []
    assert shop.objects(NETWORKCHAOS, "shop") == []
    assert built.swept == ["NetworkChaos shop/gameday-old-run-0-latency of run old-run"]


def test_an_unreachable_api_server_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    gone = EmulatedCluster().start()
    config = str(gone.kubeconfig(tmp_path / "kc"))
    gone.stop()
    problems = preflight(builders.experiment(), config)
    assert len(problems) == 1
    assert problems[0].startswith("Kubernetes, kube context 'kind-gameday-test' (http://127.0.0.1:")
    assert "asking the API server for its version failed" in problems[0]


def test_a_kubeconfig_that_skips_tls_verification_is_refused(shop: EmulatedCluster,
                                                             tmp_path: Path) -> None:
    config = str(shop.kubeconfig(tmp_path / "kc", insecure=True))
    problems = preflight(builders.experiment(), config)
    assert len(problems) == 1
    assert "disables TLS verification (insecure-skip-tls-verify)" in problems[0]


def test_a_plain_http_api_server_off_loopback_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "kc"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: remote\n"
        "clusters: [{name: remote, cluster: {server: 'http://kube.example.test:8080'}}]\n"
        "contexts: [{name: remote, context: {cluster: remote, user: u}}]\n"
        "users: [{name: u, user: {token: dummy}}]\n")
    problems = preflight(builders.experiment(), str(config))
    assert len(problems) == 1
    assert "talks to http://kube.example.test:8080 without TLS" in problems[0]
