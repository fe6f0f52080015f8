"""The cluster's emergency stop: a `gameday-stop` ConfigMap, read over real HTTP from the
kmock API emulator by the run's sentinel at every checkpoint."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runner import testing
from runner.adapters import stop_k8s
from runner.cli import main
from runner.errors import ExitCode
from runner.journal import reader, recovery
from tests.day import support
from tests.k8s.emulator import CONFIGMAPS, EmulatedCluster


def _switch(kubeconfig: str) -> stop_k8s.KillSwitch:
    return stop_k8s.KillSwitch(["shop"], kubeconfig=kubeconfig)


def test_gameday_stop_namespace_creates_the_kill_switch_and_clear_deletes_it(
        cluster: EmulatedCluster, kubeconfig: str, home: Path) -> None:
    made = CliRunner().invoke(main.cli, ["stop", "--namespace", "shop", "--kubeconfig",
                                         kubeconfig, "--reason", "payments incident"])
    assert made.exit_code == 0, made.output
    assert "kill switch shop/gameday-stop created" in made.output
    (found,) = cluster.objects(CONFIGMAPS, "shop")
    assert found["metadata"]["name"] == "gameday-stop"
    assert found["data"]["reason"] == "payments incident"
    data = stop_k8s.read("shop", kubeconfig=kubeconfig)
    assert data is not None and data["reason"] == "payments incident"
    cleared = CliRunner().invoke(main.cli, ["stop", "--clear", "--namespace", "shop",
                                            "--kubeconfig", kubeconfig])
    assert cleared.exit_code == 0 and "deleted" in cleared.output
    assert cluster.objects(CONFIGMAPS, "shop") == []
    assert stop_k8s.read("shop", kubeconfig=kubeconfig) is None


def test_a_kill_switch_created_in_the_fault_window_stops_the_run_within_a_tick(
        cluster: EmulatedCluster, kubeconfig: str, tmp_path: Path) -> None:
    clock = testing.FakeClock()
    journal = tmp_path / "run" / "journal.jsonl"
    created: list[int] = []

    def press(_now: float) -> None:
        ticks = [e for e in support.events(journal)
                 if e["type"] == "tick" and e.get("phase") == "watch"]
        if len(ticks) == 3 and not created:
            created.append(len(ticks))
            stop_k8s.engage("shop", "drill", by="sre@laptop", kubeconfig=kubeconfig)

    clock.on_sleep.append(press)
    outcome = support.fake_run(support.experiment(), journal, clock=clock,
                               sentinels=[_switch(kubeconfig)], script=support.healthy)
    assert outcome.exit_code == ExitCode.RUNNER_ERROR and outcome.verdict == "stopped"
    assert "kill switch ConfigMap shop/gameday-stop exists" in outcome.reason
    assert "sre@laptop" in outcome.reason and "drill" in outcome.reason
    read = reader.read(journal)
    watch = [e for e in read.of_type("tick") if e.get("phase") == "watch"]
    assert len(watch) <= created[0] + 1
    assert recovery.pending_reverts(read) == []


def test_a_kill_switch_present_before_the_run_refuses_it_with_nothing_injected(
        cluster: EmulatedCluster, kubeconfig: str, tmp_path: Path) -> None:
    stop_k8s.engage("shop", "freeze week", by="lead@hq", kubeconfig=kubeconfig)
    activities = testing.RecordingActivities()
    outcome = support.fake_run(support.experiment(), tmp_path / "j.jsonl",
                               clock=testing.FakeClock(), sentinels=[_switch(kubeconfig)],
                               script=support.healthy, activities=activities)
    assert outcome.exit_code == ExitCode.REFUSED
    assert "freeze week" in outcome.reason and activities.ran == []


def test_an_unreadable_kill_switch_refuses_before_any_fault(tmp_path: Path) -> None:
    gone = EmulatedCluster().start()
    config = str(gone.kubeconfig(tmp_path / "kubeconfig"))
    gone.stop()  # the API server is down: the switch cannot be read
    try:
        activities = testing.RecordingActivities()
        outcome = support.fake_run(support.experiment(), tmp_path / "j.jsonl",
                                   clock=testing.FakeClock(), sentinels=[_switch(config)],
                                   script=support.healthy, activities=activities)
    finally:
        from gameday_k8s import client as kclient

        kclient.forget()
    assert outcome.exit_code == ExitCode.REFUSED
    assert "cannot be read" in outcome.reason and activities.ran == []
