"""The Grafana dashboard asks only for series gameday really exports.

A real ``gameday run --metrics-port`` on the sandbox (400 ms of latency: it aborts, reverts
and recovers) is scraped every second by a real Prometheus; then every panel query, the
run variable and every annotation of deploy/grafana/gameday.json is evaluated by that
Prometheus just before the process exited (its final state, scraped because the server
waits for one scrape after the verdict). Each must return series
carrying the labels its legend names; annotations must sit at the journal's timestamps.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import parser

from runner.journal import reader
from runner.sandbox import net
from runner.sandbox import prometheus as launcher
from tests.cli.conftest import latency_experiment

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "gameday.json"
#: Panels about events a plain run does not journal yet (a lease, a game day): their
#: series must be declared on /metrics, but may be empty in this run.
NOT_IN_A_PLAIN_RUN = {"gameday_lease_expiry_timestamp_seconds", "gameday_day_experiment_state"}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


def targets(dash: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(panel title, expr, legendFormat) of every panel query."""
    return [(p["title"], t["expr"], t.get("legendFormat", ""))
            for p in dash["panels"] for t in p.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\bgameday_[a-z_]+\b", expr))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def query(url: str, expr: str, at: float) -> list[dict[str, Any]]:
    full = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    with urllib.request.urlopen(full, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]  # type: ignore[no-any-return]


@pytest.fixture
def scraped_run(cli_sandbox: Path, tmp_path: Path) -> Iterator[tuple[str, Path, str, float]]:
    """(Prometheus URL, the run's journal, its final exposition, when the run exited)."""
    port = net.free_port()
    prom = launcher.start(tmp_path / "prom", {"gameday": [f"127.0.0.1:{port}"]},
                          scrape_interval=1.0)
    textfile = tmp_path / "gameday.prom"
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner.cli.main", "run",
         str(latency_experiment(tmp_path / "latency.yaml")), "--sandbox", str(cli_sandbox),
         "--journal-dir", str(tmp_path / "runs"), "--metrics-port", str(port),
         "--metrics-textfile", str(textfile)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "CI": "true"})
    try:
        out, err = proc.communicate(timeout=240)
        exited = time.time()
        assert proc.returncode == 1, (out, err[-3000:])  # aborted: the steady state broke
        assert f"metrics on http://127.0.0.1:{port}/metrics" in err
        [journal] = (tmp_path / "runs").glob("*/journal.jsonl")
        assert "waiting up to" in err  # Prometheus scraped: the final state waits for it
        # The final exposition, as gameday writes it for node_exporter's textfile collector:
        # the same registry the pull endpoint serves (which Prometheus scraped, queried below).
        exposition = textfile.read_text(encoding="utf-8")
        yield prom.url, journal, exposition, exited
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        launcher.stop(prom.pid)


def last_scrape_with_the_verdict(url: str, exited: float) -> float:
    """When Prometheus last saw the run's final state (the linger made sure it did)."""
    full = f"{url}/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": "gameday_runs_total", "start": f"{exited - 120:.1f}", "end": f"{exited:.1f}",
         "step": "0.25"})
    with urllib.request.urlopen(full, timeout=5) as resp:
        [series] = json.load(resp)["data"]["result"]
    return float(series["values"][-1][0])


def test_every_dashboard_query_returns_the_series_gameday_exports(
        scraped_run: tuple[str, Path, str, float]) -> None:
    url, journal, exposition, exited = scraped_run
    events = reader.read(journal).events
    run_id = events[0]["run_id"]
    last_revert = max(e["ts"] for e in events if e["type"] == "revert-result")
    verdict = next(e for e in events if e["type"] == "verdict")
    assert verdict["ts"] - last_revert > 2.5  # recovery ran: scrapes saw the reverted state
    at = last_scrape_with_the_verdict(url, exited)
    dash = dashboard()
    declared = set(re.findall(r"^# TYPE (\S+) ", exposition, re.MULTILINE))
    assert list(parser.text_string_to_metric_families(exposition))  # and it parses

    run_var = next(v for v in dash["templating"]["list"] if v["name"] == "run")
    values_url = f"{url}/api/v1/label/run_id/values?" + urllib.parse.urlencode(
        {"match[]": "gameday_run_info", "start": f"{at - 60:.0f}", "end": f"{at:.0f}"})
    with urllib.request.urlopen(values_url, timeout=5) as resp:
        assert run_id in json.load(resp)["data"]
    assert run_var["definition"] == "label_values(gameday_run_info, run_id)"

    checked = 0
    for title, expr, legend in targets(dash):
        names = metric_names(expr)
        assert names <= declared, f"{title}: {names - declared} not exported"
        promql = expr.replace("$run", run_id)
        result = query(url, promql, at)
        if names & NOT_IN_A_PLAIN_RUN:
            continue
        assert result, f"panel {title!r}: {promql} returned nothing"
        for label in re.findall(r"\{\{(\w+)\}\}", legend):
            assert all(label in s["metric"] for s in result), (title, label, result)
        checked += 1
    assert checked >= 20

    wanted = {"Run start": [e["ts"] for e in events if e["type"] == "run-started"],
              "Abort": [e["ts"] for e in events if e["type"] == "abort"],
              "Revert": [e["ts"] for e in events if e["type"] == "revert-result"]}
    for annotation in dash["annotations"]["list"][1:]:
        assert annotation["useValueForTime"] is True
        result = query(url, annotation["expr"].replace("$run", run_id), at)
        stamps = sorted(float(s["value"][1]) / 1000 for s in result)
        assert stamps == pytest.approx(sorted(wanted[annotation["name"]]), abs=1e-3), \
            annotation["name"]
