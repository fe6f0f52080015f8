"""Locks and leases in the cluster, against the emulated API (kmock + the harness's
controllers, Leases with resourceVersion conflicts): two runners cannot share pods, a
dead runner's pending reverts refuse the next one or are swept first, 409s are handled."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner import errors
from runner.adapters.k8s import leases as wire
from runner.cli import guard_k8s
from tests.guard import k8s_runs
from tests.k8s import builders
from tests.k8s.emulator import LEASES, NETWORKCHAOS, EmulatedCluster

KEY = "k8s:{server}/ns/shop/pod/{pod}"


def run_leases(cluster: EmulatedCluster) -> dict[str, dict[str, str]]:
    return {wire.notes_of(lease)["run-id"]: wire.notes_of(lease)
            for lease in cluster.objects(LEASES, "shop")
            if lease["metadata"]["labels"][wire.KIND_LABEL] == "run"}


def test_two_runners_on_the_same_pods_one_is_refused_naming_the_other(
        shop: EmulatedCluster, kubeconfig: str, tmp_path: Path) -> None:
    first = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-a", (builders.kill(count=2),),
                             lease_seconds=30)
    first.claim()
    second = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-b", (builders.kill(count=3),),
                              lease_seconds=30)
    with pytest.raises(errors.PreflightRefused, match="run run-a") as refused:
        second.claim()
    assert refused.value.exit_code == 3
    assert set(run_leases(shop)) == {"run-a"}, "the refused run leaves no Lease behind"
    wild = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-c", (k8s_runs.scale_fault(),),
                            lease_seconds=30)
    with pytest.raises(errors.PreflightRefused, match="run run-a"):
        wild.claim()  # a fault that names nothing conflicts with every pod lock
    first.lease.release(None)
    assert run_leases(shop)["run-a"]["state"] == "finished"
    second.claim()  # free once the first run finished
    second.lease.release(None)


def test_a_dead_runner_with_pending_reverts_refuses_the_next_until_swept(
        shop: EmulatedCluster, kube_env: str, tmp_path: Path) -> None:
    kubeconfig = kube_env
    dead = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-dead",
                            (builders.latency(), k8s_runs.scale_fault()))
    dead.claim()
    dead.inject()
    assert [p["fault"] for p in wire.json_note(
        next(iter(_runs(shop))), "pending", [])] == [0, 1]
    time.sleep(dead.lease_seconds + 0.2)  # it stopped renewing: the lease runs out
    nxt = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-next", (builders.latency(),))
    with pytest.raises(errors.PreflightRefused, match="left reverts pending") as refused:
        nxt.claim()
    assert "gameday guard --namespace shop --once" in refused.value.message
    assert "--sweep-leftovers" in refused.value.message
    assert shop.objects(NETWORKCHAOS, "shop"), "nothing was touched by the refusal"

    nxt.lease._leftovers = guard_k8s.sweeper("run-next", kubeconfig=kubeconfig, context=None,
                                             journal_dir=tmp_path / "guard")
    nxt.claim()
    assert shop.objects(NETWORKCHAOS, "shop") == []
    notes = run_leases(shop)["run-dead"]
    assert notes["state"] == "reverted" and "--sweep-leftovers" in notes["note"]
    nxt.lease.release(None)


def _runs(cluster: EmulatedCluster) -> list[dict[str, object]]:
    return [lease for lease in cluster.objects(LEASES, "shop")
            if lease["metadata"]["labels"][wire.KIND_LABEL] == "run"]


def test_a_lock_takeover_that_loses_a_race_reads_again_and_then_gives_up(
        shop: EmulatedCluster, kubeconfig: str, tmp_path: Path) -> None:
    first = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-1", (builders.kill(),), 30)
    first.claim()
    first.lease.release(None)  # finished: its lock Leases are gone
    locks = [lk for lk in shop.objects(LEASES, "shop")
             if lk["metadata"]["labels"][wire.KIND_LABEL] == "lock"]
    assert locks == []
    # leave a finished run's lock behind, then make taking it over lose races
    again = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-2", (builders.kill(),), 30)
    again.claim()
    [lock] = [lk for lk in shop.objects(LEASES, "shop")
              if lk["metadata"]["labels"][wire.KIND_LABEL] == "lock"]
    again.lease._locks.clear()  # as if it died after finishing, before deleting its locks
    again.lease.release(None)
    name = lock["metadata"]["name"]
    shop.conflicts[("leases", "shop", name)] = 1
    third = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-3", (builders.kill(),), 30)
    third.claim()  # one 409, read again, take it
    [taken] = [lk for lk in shop.objects(LEASES, "shop") if lk["metadata"]["name"] == name]
    assert wire.notes_of(taken)["run-id"] == "run-3"
    assert taken["spec"]["leaseTransitions"] == 1
    third.lease._locks.clear()
    third.lease.release(None)
    shop.conflicts[("leases", "shop", name)] = 99
    fourth = k8s_runs.MiniRun(kubeconfig, tmp_path, "run-4", (builders.kill(),), 30)
    with pytest.raises(errors.PreflightRefused, match="kept changing"):
        fourth.claim()


def test_the_guard_loop_reverts_a_runner_that_stopped_renewing(
        shop: EmulatedCluster, kube_env: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from runner.journal import reader
    from tests.guard import conftest as h
    from tests.k8s.emulator import DEPLOYMENTS

    dead = k8s_runs.MiniRun(kube_env, tmp_path, "run-gone",
                            (builders.latency(), k8s_runs.scale_fault()), lease_seconds=2)
    dead.claim()
    dead.inject()
    assert shop.objects(NETWORKCHAOS, "shop")
    guard = subprocess.Popen(
        [sys.executable, "-m", "runner.cli.main", "guard", "--namespace", "shop",
         "--kubeconfig", kube_env, "--poll", "0.2", "--for", "60",
         "--journal-dir", str(tmp_path / "guard")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=h.ROOT,
        env={**h.env(), "KUBECONFIG": kube_env})
    try:
        h.wait_until(lambda: run_leases(shop)["run-gone"]["state"] == "reverted", 40,
                     "the guard reverted the dead run")
    finally:
        guard.kill()
        guard.communicate(timeout=10)
    assert shop.objects(NETWORKCHAOS, "shop") == []
    [checkout] = [d for d in shop.objects(DEPLOYMENTS, "shop")
                  if d["metadata"]["name"] == "checkout"]
    assert checkout["spec"]["replicas"] == 3
    notes = run_leases(shop)["run-gone"]
    assert notes["note"].startswith("reverted by the guard after the lease expired at ")
    assert wire.json_note({"metadata": {"annotations": {
        wire.PREFIX + "pending": notes["pending"]}}}, "pending", None) == []
    journal = reader.read(tmp_path / "guard" / "run-gone" / "guard-journal.jsonl")
    assert reader.verify(journal) == []
    assert [e["ok"] for e in journal.of_type("revert-result")] == [True, True]
    assert {e["by"] for e in journal.of_type("revert-result")} == {"gameday guard"}
    assert notes["guard-journal"] == "shop/gameday-guard-run-gone"


def test_a_finished_run_keeps_its_sealed_journal_in_a_config_map(
        shop: EmulatedCluster, kube_env: str, tmp_path: Path) -> None:
    import base64
    import gzip

    from tests.k8s.emulator import CONFIGMAPS

    run = k8s_runs.MiniRun(kube_env, tmp_path, "run-kept", (builders.latency(),), 30)
    run.claim()
    run.inject()
    run.lease.observe({"type": "revert-result", "fault": 0, "ok": True})
    run.lease.release((7, "ab" * 32))
    notes = run_leases(shop)["run-kept"]
    assert notes["state"] == "finished" and notes["head"] == f"7:{'ab' * 32}"
    assert notes["journal-configmap"] == "shop/gameday-journal-run-kept"
    [kept] = [c for c in shop.objects(CONFIGMAPS, "shop")
              if c["metadata"]["name"] == "gameday-journal-run-kept"]
    packed = kept["binaryData"]["journal.jsonl.gz"]
    assert gzip.decompress(base64.b64decode(packed)) == run.path.read_bytes()
    assert [lk for lk in shop.objects(LEASES, "shop")
            if lk["metadata"]["labels"][wire.KIND_LABEL] == "lock"] == []


def test_a_runs_own_cluster_guard_reverts_it_and_exits(
        shop: EmulatedCluster, kube_env: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from runner.cli import guard as guard_cli
    from tests.guard import conftest as h

    other = k8s_runs.MiniRun(kube_env, tmp_path, "run-other",
                             (builders.kill(selector="app=cart"),), 600, selector="app=cart")
    other.claim()  # another live run in the namespace: not this guard's business
    dead = k8s_runs.MiniRun(kube_env, tmp_path, "run-own", (builders.latency(),), 1)
    dead.claim()
    dead.inject()
    args = guard_cli.cluster_args(dead.exp, kube_env, None, tmp_path / "guard")
    done = subprocess.run(
        [sys.executable, "-m", "runner.cli.main", "guard", "--run", "run-own", "--poll", "0.2",
         "--for", "60", *args], capture_output=True, text=True, cwd=h.ROOT,
        env={**h.env(), "KUBECONFIG": kube_env}, timeout=90, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stopping after" not in done.stderr, "it exited because its run was over"
    assert shop.objects(NETWORKCHAOS, "shop") == []
    leases = run_leases(shop)
    assert leases["run-own"]["state"] == "reverted" and leases["run-other"]["state"] == "live"
    other.lease.release(None)
