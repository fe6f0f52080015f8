"""``--json`` on validate and plan: one versioned document on stdout, exit codes unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.prometheus import PrometheusHandle
from tests.k8s.emulator import EmulatedCluster

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "experiments" / "local-replica-kill.yaml"


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script's entry (with the validate fast path) as a real process."""
    return subprocess.run([sys.executable, "-c", "from runner.cli.entry import main; main()",
                           *args], capture_output=True, text=True, cwd=ROOT, check=False,
                          timeout=60, env={**os.environ, "CI": "true"})


def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.read_text().replace("max: 300ms", "max: 300")
                    .replace("duration: 20s", "duration: soon"))
    return path


def test_validate_json_lists_every_problem_with_path_line_and_kind(tmp_path: Path) -> None:
    done = gameday("validate", "--json", str(GOOD), str(broken(tmp_path)))
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert doc["schema"] == "gameday.validate/v1"
    assert (doc["ok"], doc["exit_code"]) == (False, 2)
    good, bad = doc["files"]
    assert (good["ok"], good["problems"]) == (True, [])
    assert {(p["path"], p["kind"]) for p in bad["problems"]} == {
        ("steady_state.probes[1].max", "value"), ("duration", "value")}
    assert all(isinstance(p["line"], int) and p["message"] for p in bad["problems"])


def test_validate_json_is_the_same_through_click_and_the_fast_path(tmp_path: Path) -> None:
    fast = gameday("validate", "--json", str(broken(tmp_path)))
    slow = gameday("validate", str(broken(tmp_path)), "--json", "--")  # "--" forces click
    assert fast.returncode == slow.returncode == 2
    assert json.loads(fast.stdout) == json.loads(slow.stdout)
    ok = gameday("validate", "--json", str(GOOD))
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True


def _k8s_experiment(tmp_path: Path, prometheus: PrometheusHandle, series: str,
                    total: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(f"""
version: 1
title: plan json
target: {{platform: kubernetes, namespace: shop, selector: app=checkout}}
blast_radius: {{max_pods: 1, namespaces: [shop]}}
prometheus: {{url: '{prometheus.url}', tick: 1s}}
steady_state:
  probes:
    - name: errors
      ratio: {{errors: 'plan_requests_total{{test="{series}",code="500"}}',
              total: '{total}'}}
      max: 1%
faults:
  - pod-kill: {{selector: app=checkout, count: 1}}
duration: 30s
seed: 5
""")
    return path


@pytest.mark.prometheus
def test_plan_json_names_the_chosen_pods_and_a_refusal_is_exit_3(
        tmp_path: Path, prometheus: PrometheusHandle, series_id: str,
        shop: EmulatedCluster, kubeconfig: str) -> None:
    for code in ("200", "500"):
        prometheus.exporter.inc_counter("plan_requests_total", {"test": series_id, "code": code})
    prometheus.wait_for_value(f'count(plan_requests_total{{test="{series_id}"}})', 2)
    exp = _k8s_experiment(tmp_path, prometheus, series_id,
                          f'plan_requests_total{{test="{series_id}"}}')
    done = subprocess.run([sys.executable, "-m", "runner.cli.main", "plan", str(exp),
                           "--kubeconfig", kubeconfig, "--json"], capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "gameday.plan/v1" and doc["ok"] is True
    [fault] = doc["faults"]
    assert len(fault["targets"]) == 1
    assert "checkout" in fault["targets"][0]
    assert doc["seed"] == 5 and doc["blast_radius"]["namespaces"] == ["shop"]
    assert [row["probe"] for row in doc["power"]] == ["errors"]

    missing = _k8s_experiment(tmp_path, prometheus, series_id, "plan_no_such_series_total")
    done = subprocess.run([sys.executable, "-m", "runner.cli.main", "plan", str(missing),
                           "--kubeconfig", kubeconfig, "--json"], capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 3
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and doc["faults"] == []
    assert any("plan_no_such_series_total" in p for p in doc["problems"])
