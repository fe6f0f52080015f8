"""A live run and a replay of the same recorded minutes reach the same decisions, tick for tick.

The live run is the engine (a dry run) on a real Prometheus scraping the tests' exporter
at 1 s, at a 1 s tick, while a thread drives the exporter: steady traffic, a counter
reset, then errors that make the run abort. Its queries are evaluated on a whole-second
grid 1.5 s behind the wall clock (``PrometheusSource(query_time=...)``), so every scrape
a tick counts is committed when it is read and a replay on the same grid reads the same
scrapes. The replay then fetches those minutes back as history and replays the one
window through the engine: the per-tick counts, the e-values and the abort must match.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

from runner import testing
from runner.adapters.prometheus import connection, history_source
from runner.adapters.prometheus import history as hist
from runner.adapters.prometheus import source as live_source
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import reader, writer
from runner.model import loader
from runner.replay import driver, windows
from tests.fixtures.prometheus import PrometheusHandle

LAG = 1.5

EXPERIMENT = """\
version: 1
title: live and replay agree
target: {{platform: local}}
prometheus: {{url: {url}, tick: 1s, timeout: 1s}}
steady_state:
  alpha: 0.05
  baseline: 4s
  probes:
    - name: errors
      ratio: {{errors: 'lr_requests_total{{test="{sid}",code="500"}}',
              total: 'lr_requests_total{{test="{sid}"}}'}}
      max: 0.05
faults:
  - action: {{provider: {{type: python, module: os, func: getcwd}}}}
duration: 16s
"""


def _drive(prometheus: PrometheusHandle, sid: str, stop: threading.Event,
           watching: list[float]) -> None:
    """Traffic every 0.1 s; a restart 2 s into the watch; errors from 4 s into it."""
    ok, bad = {"test": sid, "code": "200"}, {"test": sid, "code": "500"}
    restarted = False
    for step in range(600):  # bounded: 600 x 0.1 s
        if stop.wait(0.1):
            return
        into = time.monotonic() - watching[0] if watching else -1.0
        with prometheus.exporter.atomically():
            if into > 2.0 and not restarted:
                prometheus.exporter.set_counter("lr_requests_total", ok, 3)  # a restart
                restarted = True
            prometheus.exporter.inc_counter("lr_requests_total", ok, 5 + step % 3)
            if into > 4.0:
                prometheus.exporter.inc_counter("lr_requests_total", bad, 6)


def _ticks(events: list[dict[str, Any]]) -> list[tuple[str, int, Any, Any]]:
    out = []
    for e in events:
        if e["type"] == "tick":
            stats = e.get("stats") or {}
            out.append((e["phase"], e["tick"], e["samples"]["errors"],
                        None if not stats else round(stats["log_e"], 9)))
    return out


def test_a_live_run_and_a_replay_of_the_same_minutes_decide_alike_tick_for_tick(
        prometheus: PrometheusHandle, series_id: str, tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(EXPERIMENT.format(url=prometheus.url, sid=series_id), encoding="utf-8")
    exp = loader.load(path)
    ok = {"test": series_id, "code": "200"}
    prometheus.exporter.set_counter("lr_requests_total", ok, 0)
    prometheus.exporter.set_counter("lr_requests_total", {"test": series_id, "code": "500"}, 0)
    prometheus.exporter.wait_scrapes(3)
    # The first calibration of a process imports scipy; a live run whose watch starts late
    # by that import lands its ticks off the grid, which no replay could reproduce.
    import scipy.special  # noqa: F401
    time.sleep(LAG + (0.5 - time.time() % 1.0) % 1.0)  # start half-way between grid seconds

    stop = threading.Event()
    watching: list[float] = []

    def note(event: dict[str, Any]) -> None:
        if event["type"] == "phase" and event["phase"] == "watch":
            watching.append(time.monotonic())

    feeder = threading.Thread(target=_drive, args=(prometheus, series_id, stop, watching),
                              daemon=True)
    cancel = clock_mod.Cancel()
    metrics = live_source.PrometheusSource(
        exp.prometheus, exp.prometheus.tick, query_time=lambda: math.floor(time.time() - LAG))
    live_path = tmp_path / "live.jsonl"
    feeder.start()
    try:
        with writer.JournalWriter(live_path, now=time.time, listeners=[note]) as jw:
            ports = run_mod.RunPorts(metrics=metrics, platform=testing.FakePlatform(),
                                     activities=testing.RecordingActivities(),
                                     clock=clock_mod.SystemClock(cancel), journal=jw,
                                     cancel=cancel)
            outcome = run_mod.Run(exp, ports, run_id="live", seed=1, dry=True).execute()
    finally:
        stop.set()
        feeder.join(timeout=5)
        metrics.close()
    live = reader.read(live_path).events
    assert outcome.verdict != "held", outcome.reason  # the errors made it abort
    baseline_at = next(e["ts"] for e in live if e["type"] == "phase"
                       and e["phase"] == "baseline")
    primed = math.floor(baseline_at - LAG)

    time.sleep(LAG + 1.0)  # every scrape the live run read is committed by now
    grid = hist.Grid.covering(primed - 5, primed + 30, 1.0)
    conn = connection.Connection(exp.prometheus, pool_size=1, sleep=time.sleep)
    try:
        history = hist.Fetcher(conn).fetch(exp.steady_state, (), grid)
    finally:
        conn.close()
    assert history.failure is None
    tracks = history_source.Tracks.build(history, exp.steady_state)
    runner = driver.Runner(
        exp=exp, source_for=lambda now: history_source.HistorySource(tracks, now),
        grid_time=grid.time, tick=1.0, layout_baseline=windows.Layout.of(exp).baseline,
        layout_window=windows.Layout.of(exp).window, cancel=clock_mod.Cancel(),
        keep_dir=tmp_path / "kept", context={"source": prometheus.url})
    result = runner.run(driver.Window(0, "grid", grid.index(primed), healthy=False))
    assert result.journal is not None, result
    replayed = reader.read(Path(result.journal)).events

    assert _ticks(replayed) == _ticks(live), (_ticks(replayed), _ticks(live))
    live_abort = next(e for e in live if e["type"] == "abort")
    assert result.abort_tick == live_abort["tick"] and result.abort_kind == live_abort["kind"]
    started = next(e for e in replayed if e["type"] == "run-started")
    assert started["dry_run"] is True and started["replay"]["source"] == prometheus.url
