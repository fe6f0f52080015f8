"""Prometheus failing mid-replay gives a clear message and a partial result marked as such;
malformed ranges and incidents are bad input (exit 2) before anything is fetched.

Each failure is real: a Prometheus killed (SIGKILL) between two chunks, one that refuses
large queries (``--query.max-samples``: HTTP 422), one stopped (SIGSTOP) so the queries
time out. They run on copies of the week's TSDB, never on the session's server.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from runner.adapters.prometheus import connection, history_source
from runner.adapters.prometheus import history as hist
from runner.model import experiment as model
from runner.model import loader
from runner.replay import output, replaying, session, windows
from runner.sandbox import prometheus as launcher
from tests.replay import streams
from tests.replay.conftest import Served

Start = Callable[..., launcher.PrometheusServer]


def _exp(week: Served, url: str, tmp_path: Path) -> model.Experiment:
    path = tmp_path / "experiment.yaml"
    path.write_text(streams.experiment(url), encoding="utf-8")
    return loader.load(path)


def _grid(week: Served, days: float = 1.0) -> hist.Grid:
    t = week.truth
    start = t.time(int(3 * 86_400 / t.tick))
    return hist.Grid.covering(start, start + days * 86_400, t.tick)


def _fetch(exp: model.Experiment, grid: hist.Grid, *, chunk: int = 10_000,
           timeout: float = 10.0, on_chunk: Callable[[int, int], None] | None = None
           ) -> hist.History:
    config = dataclasses.replace(exp.prometheus, timeout=timeout, retries=0)
    conn = connection.Connection(config, pool_size=1, sleep=lambda s: None)
    try:
        return hist.Fetcher(conn, chunk_steps=chunk, on_chunk=on_chunk).fetch(
            exp.steady_state, (), grid)
    finally:
        conn.close()


def _replay(exp: model.Experiment, got: hist.History) -> session.Result:
    tracks = history_source.Tracks.build(got, exp.steady_state)
    g = got.grid
    fetched = session.Fetched(g.origin, g.tick, g.steps, got.complete, got.where, got.failure)
    span = windows.Span(g.origin, g.time(g.steps - 1))
    return replaying.replay(replaying.Request(exp, span), fetched,
                            lambda now: history_source.HistorySource(tracks, now))


def test_prometheus_killed_mid_fetch_gives_a_partial_replay_that_says_so(
        week: Served, spare: Start, tmp_path: Path) -> None:
    server = spare()
    exp = _exp(week, server.url, tmp_path)

    def kill(done: int, total: int) -> None:
        if done == 2_000:
            os.kill(server.pid, signal.SIGKILL)

    got = _fetch(exp, _grid(week), chunk=1_000, on_chunk=kill)
    assert got.complete == 2_000 and got.partial
    assert got.failure is not None and server.url in got.failure
    assert "did not answer" in got.failure and "was not fetched" in got.failure
    result = _replay(exp, got)
    assert result.partial
    assert result.windows and all(w.prime + result.layout.span < 2_000 for w in result.windows)
    data = output.to_json(result)
    assert data["partial"] is True and data["failure"] == got.failure
    assert output.markdown(result).splitlines()[2].startswith("**PARTIAL REPLAY.**")


def test_a_422_for_too_many_samples_splits_the_chunk_and_loses_nothing(
        week: Served, spare: Start, tmp_path: Path) -> None:
    server = spare("--query.max-samples=4000")
    exp = _exp(week, server.url, tmp_path)
    grid = _grid(week, days=0.5)
    small = _fetch(exp, grid)
    assert small.failure is None and small.splits >= 2 and small.complete == grid.steps
    whole = _fetch(_exp(week, week.url, tmp_path), grid)
    assert whole.splits == 0
    ours = history_source.per_step(history_source.Tracks.build(small, exp.steady_state))
    theirs = history_source.per_step(history_source.Tracks.build(whole, exp.steady_state))
    for name, (n, e) in theirs.items():
        assert np.array_equal(ours[name][0], n) and np.array_equal(ours[name][1], e)


def test_a_422_even_for_the_smallest_chunk_is_exit_4_with_the_reason(
        week: Served, spare: Start, tmp_path: Path) -> None:
    server = spare("--query.max-samples=10")
    path = tmp_path / "experiment.yaml"
    path.write_text(streams.experiment(server.url), encoding="utf-8")
    grid = _grid(week, days=0.2)
    done = subprocess.run(
        [sys.executable, "-m", "runner.cli.main", "replay", str(path),
         "--from", windows.iso(grid.origin), "--to", windows.iso(grid.time(grid.steps - 1)),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 4, done.stderr
    assert "too many samples" in done.stderr and "smallest chunks" in done.stderr
    assert "Traceback" not in done.stderr and "nothing was replayed" in done.stderr


def test_a_prometheus_that_stops_answering_times_out_into_a_partial_replay(
        week: Served, spare: Start, tmp_path: Path) -> None:
    server = spare()
    exp = _exp(week, server.url, tmp_path)

    def freeze(done: int, total: int) -> None:
        if done == 1_000:
            os.kill(server.pid, signal.SIGSTOP)

    try:
        got = _fetch(exp, _grid(week, days=0.5), chunk=1_000, timeout=1.0, on_chunk=freeze)
    finally:
        os.kill(server.pid, signal.SIGCONT)
    assert got.complete == 1_000 and got.failure is not None
    assert "did not answer" in got.failure and "within 1 s" in got.failure
    assert "timed out" in got.failure or "no answer" in got.failure
    assert "--timeout" in got.failure
    assert _replay(exp, got).partial


@pytest.mark.parametrize(("args", "words"), [
    (["--from", "yesterday"], "--from: 'yesterday' is not a time"),
    (["--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"], "empty or reversed"),
    (["--last", "7d", "--from", "now-1d"], "either --last or --from/--to"),
    (["--last", "fortnight"], "--last"),
    (["--last", "1d", "--incident", "now-2h"], "--incident: 'now-2h' is not a range"),
    (["--last", "1d", "--incident", "now-1h..now-2h"], "empty or reversed"),
    (["--last", "1d", "--every", "0"], "--every"),
    ([], "say which history to replay"),
])
def test_malformed_ranges_and_incidents_are_exit_2_before_anything_is_fetched(
        tmp_path: Path, args: list[str], words: str) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(streams.experiment("http://127.0.0.1:9"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "runner.cli.main", "replay", str(path), *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert words in done.stderr and "Traceback" not in done.stderr
    assert "fetched" not in done.stderr
