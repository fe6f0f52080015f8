"""The replay tests' week: generated once per session, backfilled, served by a real Prometheus.

``week`` is a ``Served`` (the stream's truth, the server, the TSDB it reads); tests that
need to break Prometheus start their own server on a copy of the TSDB (``spare``), never
on the session's. Every server is stopped by PID at the end.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.sandbox import prometheus as launcher
from tests.replay import backfill, streams


@dataclasses.dataclass(frozen=True)
class Served:
    truth: streams.Truth
    url: str
    tsdb: Path
    experiment: Path


@pytest.fixture(scope="session")
def week(prometheus_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if backfill.promtool() is None:
        pytest.skip("promtool is missing: apt-get install -y --no-install-recommends prometheus")
    root = tmp_path_factory.mktemp("replay-week")
    # The week ends on a day boundary: the same seed then gives the same stream (the same
    # hours of the day at every step) in every session.
    end = math.floor((time.time() - 3600) / streams.DAY) * streams.DAY
    generated = streams.generate(end=end, storms_per_day=60, storm_ticks=8,
                                 storm_ratio=0.06)
    text = backfill.write_openmetrics(root / "week.om", generated.streams)
    tsdb = backfill.create_blocks(text, root / "tsdb")
    text.unlink()
    server = backfill.serve(tsdb, root / "run")
    try:
        path = root / "experiment.yaml"
        path.write_text(streams.experiment(server.url), encoding="utf-8")
        yield Served(generated.truth, server.url, tsdb, path)
    finally:
        launcher.stop(server.pid)


@pytest.fixture
def spare(week: Served, tmp_path: Path) -> Iterator[Callable[..., launcher.PrometheusServer]]:
    """Start extra Prometheus servers on copies of the week's TSDB (stopped afterwards)."""
    started: list[launcher.PrometheusServer] = []

    def start(*extra: str) -> launcher.PrometheusServer:
        copy = tmp_path / f"tsdb-{len(started)}"
        shutil.copytree(week.tsdb, copy, ignore=shutil.ignore_patterns("lock", "wal"))
        server = backfill.serve(copy, tmp_path / f"run-{len(started)}", extra)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            launcher.stop(server.pid)
