"""Latency probes: the quantile in ms where the journal has bucket counts, and where it
does not, the share over the threshold and a plain "over / not over" — no invented number."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from runner.report import series
from tests.report.conftest import append, reports

DOCUMENT = {"steady_state": {"probes": [
    {"name": "checkout p99", "latency": {"histogram": "h"}, "quantile": 0.99, "max": "300ms"},
    {"name": "ready", "gauge": "r", "min": 2}]}}


def _journal(path: Path, samples: list[dict[str, Any]]) -> None:
    events: list[tuple[str, dict[str, Any]]] = [
        ("run-started", {"run_id": "lat", "title": "latency", "experiment": DOCUMENT,
                         "seed": 1, "experiment_sha256": "cd" * 32}),
        ("phase", {"phase": "watch"})]
    events += [("tick", {"phase": "watch", "tick": k, "samples": {"checkout p99": s,
                                                                  "ready": {"value": 3.0}}})
               for k, s in enumerate(samples, start=1)]
    append(path, *events)


@pytest.mark.parametrize(("q", "expected"), [(0.5, 0.1), (0.99, 0.3), (0.75, 0.1 + 0.2 * 25 / 49),
                                             (0.995, 0.3)])
def test_a_quantile_from_buckets_is_what_histogram_quantile_gives(q: float,
                                                                  expected: float) -> None:
    buckets = [[0.1, 50], [0.3, 99], ["+Inf", 100]]
    assert series.bucket_quantile(q, buckets) == pytest.approx(expected)


def test_buckets_without_an_inf_bucket_or_counts_give_no_estimate() -> None:
    assert math.isnan(series.bucket_quantile(0.99, [[0.1, 5], [0.3, 9]]))
    assert math.isnan(series.bucket_quantile(0.99, [[0.1, 0], ["+Inf", 0]]))


def test_without_buckets_the_report_says_so_and_gives_the_share_over_the_threshold(
        tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    _journal(journal, [{"n": 200, "e": e} for e in (1, 1, 30, 1)])
    md = reports(journal, tmp_path / "out")["report.md"]
    assert "p99 > 300 ms in 1/4 ticks (no buckets journaled: no estimate)" in md
    assert "p99 > 300 ms; over: 15 %" in md and "p99 ≤ 300 ms; over: 0.5 %" in md
    assert " ms median" not in md


def test_with_buckets_the_report_gives_the_quantile_in_ms(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    buckets = [[0.1, 150], [0.3, 199], ["+Inf", 200]]
    _journal(journal, [{"n": 200, "e": 1, "buckets": buckets}] * 3)
    out = reports(journal, tmp_path / "out")
    assert "p99 median 295.9 ms, worst 295.9 ms (from the buckets)" in out["report.md"]
    assert "checkout p99:quantile_s" in out["ticks.csv"].splitlines()[0]
