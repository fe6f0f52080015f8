"""The local platform: preflight refusals in sentences, deterministic plans, real activities."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from chaoslib.activity import run_activity

import gameday_local.actions as actions
import gameday_local.probes as probes
from runner.adapters import local
from runner.model import experiment as model
from runner.sandbox import state


def _experiment(*faults: model.Fault, **changes: object) -> model.Experiment:
    exp = model.Experiment(
        title="demo", target=model.Target(platform="local", selector="app=demo"),
        prometheus=model.PrometheusConfig(), steady_state=model.SteadyState(baseline=30.0),
        faults=tuple(faults), duration=120.0)
    return dataclasses.replace(exp, **changes)  # type: ignore[arg-type]


@pytest.fixture
def planned_dir(tmp_path: Path) -> Path:
    """A state file of a 5-replica sandbox; nothing runs (plans only read the names)."""
    st: state.SandboxState = {
        "version": state.VERSION, "status": "ready", "dir": str(tmp_path), "started_at": 0.0,
        "service": "demo", "replicas": [{"name": f"demo-{i}", "port": 1} for i in range(5)],
        "processes": {"supervisor": {"pid": 1, "port": 9, "url": "http://127.0.0.1:9",
                                     "log": "", "marker": "runner.sandbox."}},
    }
    state.save_state(tmp_path, st)
    return tmp_path


def test_a_plan_is_the_same_for_the_same_seed_and_varies_with_the_seed(planned_dir: Path) -> None:
    platform = local.LocalPlatform(planned_dir, clock=lambda: 1000.0)
    exp = _experiment(model.PodKillFault(count=2), model.PodKillFault(fraction=0.4))
    first = platform.plan(exp, "run1", seed=42)
    assert first == platform.plan(exp, "run1", seed=42)
    assert [len(p.targets) for p in first] == [2, 2]
    choices = {platform.plan(exp, "run1", seed=s)[0].targets for s in range(20)}
    assert len(choices) > 1


def test_a_pod_kill_plan_names_its_victims_and_reverts_by_restoring(planned_dir: Path) -> None:
    platform = local.LocalPlatform(planned_dir)
    (fault,) = platform.plan(_experiment(model.PodKillFault(count=1, seed=9)), "r", seed=0)
    assert fault.kind == "pod-kill"
    provider = fault.action["provider"]
    assert (provider["module"], provider["func"]) == ("gameday_local.actions", "kill_replicas")
    assert provider["arguments"] == {"sandbox": str(planned_dir), "replicas": list(fault.targets)}
    assert fault.revert is not None
    assert fault.revert["provider"]["func"] == "restore_replicas"
    # The fault's own seed wins over the run's seed.
    again = platform.plan(_experiment(model.PodKillFault(count=1, seed=9)), "r", seed=123)
    assert again[0].targets == fault.targets


def test_a_latency_plan_expires_by_itself_and_reverts_its_own_injection(planned_dir: Path) -> None:
    platform = local.LocalPlatform(planned_dir, clock=lambda: 1000.0)
    exp = _experiment(model.PodKillFault(), model.LatencyFault(delay=0.2, jitter=0.02))
    fault = platform.plan(exp, "run7", seed=0)[1]
    arguments = fault.action["provider"]["arguments"]
    assert arguments["injection_id"] == "run7-1"
    assert arguments["ttl"] == exp.duration + local.LATENCY_TTL_MARGIN
    assert (arguments["delay"], arguments["jitter"]) == (0.2, 0.02)
    assert fault.revert is not None
    assert fault.revert["provider"]["arguments"] == {"sandbox": str(planned_dir),
                                                     "injection_id": "run7-1"}
    assert fault.expires_at == 1000.0 + exp.steady_state.baseline + arguments["ttl"]


def test_an_action_fault_is_planned_as_written(planned_dir: Path) -> None:
    action = {"type": "action", "name": "x", "provider": {"type": "process", "path": "true"}}
    (fault,) = local.LocalPlatform(planned_dir).plan(
        _experiment(model.ActionFault(action=action, revert=None)), "r", 0)
    assert (fault.kind, fault.targets, fault.action, fault.revert) == ("action", (), action, None)


def test_preflight_refuses_pod_kills_beyond_the_blast_radius(sandbox_dir: Path) -> None:
    exp = _experiment(model.PodKillFault(count=2),
                      blast_radius=model.BlastRadius(max_pods=1, max_fraction=0.5))
    problems = local.LocalPlatform(sandbox_dir).preflight(exp)
    assert any("blast_radius.max_pods" in p and "kill 2 replicas" in p for p in problems)
    assert any("blast_radius.max_fraction" in p for p in problems)


def test_preflight_refuses_a_selector_that_matches_nothing(sandbox_dir: Path) -> None:
    exp = _experiment(model.LatencyFault(selector="app=checkout"),
                      target=model.Target(platform="local", selector="app=checkout"))
    problems = local.LocalPlatform(sandbox_dir).preflight(exp)
    assert len([p for p in problems if "matches nothing" in p]) == 2


def test_preflight_passes_a_sound_experiment_on_a_running_sandbox(sandbox_dir: Path) -> None:
    exp = _experiment(model.PodKillFault(count=1), model.LatencyFault(delay=0.1),
                      blast_radius=model.BlastRadius(max_pods=1))
    assert local.LocalPlatform(sandbox_dir).preflight(exp) == []


def test_preflight_without_a_sandbox_says_how_to_start_one(tmp_path: Path) -> None:
    problems = local.LocalPlatform(tmp_path).preflight(_experiment(model.PodKillFault()))
    assert len(problems) == 1
    assert "gameday sandbox up" in problems[0]


def test_ready_replicas_reads_the_supervisor(sandbox_dir: Path) -> None:
    platform = local.LocalPlatform(sandbox_dir)
    assert platform.ready_replicas(model.ReadyReplicasProbe(name="r", workload="demo")) == 3.0
    assert platform.ready_replicas(model.ReadyReplicasProbe(name="r", workload="other")) is None


def test_planned_latency_activities_run_through_chaos_toolkit(sandbox_dir: Path) -> None:
    platform = local.LocalPlatform(sandbox_dir)
    (fault,) = platform.plan(_experiment(model.LatencyFault(delay=0.01)), "ctk", seed=0)
    assert fault.revert is not None
    try:
        assert run_activity(dict(fault.action), {}, {}) == "ctk-0"
        assert [i["id"] for i in probes.active_latency(str(sandbox_dir))] == ["ctk-0"]
        assert run_activity(dict(fault.revert), {}, {}) == 1
        assert run_activity(dict(fault.revert), {}, {}) == 0  # a second revert is fine
    finally:
        actions.remove_latency(str(sandbox_dir))
    assert probes.active_latency(str(sandbox_dir)) == []
