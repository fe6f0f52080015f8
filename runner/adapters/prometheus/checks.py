"""Preflight problems and warnings for probes, as one paragraph each naming the URL.

Run once before a run (and by ``gameday plan``), never per tick, so clarity beats cost
here. Decisions: a ratio's ``errors`` selector may match nothing yet (no 5xx so far is
normal) but its ``total`` must; a latency probe needs a classic histogram (``_count``
and ``_bucket`` series); a guardrail needs exactly one series, and the advice depends
on why: several series want aggregating, none wants checking the labels or the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from runner.adapters.prometheus import connection, reads
from runner.model import experiment as model

PRIME_WINDOW = 300.0  # Prometheus's default lookback: every live series has a sample in it

Query = Callable[[str], Any]


def _series(selector: str) -> str:
    """How many series ``selector`` has had in the last 5 minutes (one small answer)."""
    return f"count(last_over_time({selector}[{reads.duration(PRIME_WINDOW)}]))"


def problems(query: Query, where: str, probe: model.Probe) -> list[str]:
    if isinstance(probe, model.RatioProbe):
        try:
            query(_series(probe.errors))  # must parse; may match nothing yet
            total = query(_series(probe.total))
        except connection.QueryFailed as exc:
            return [f"probe {probe.name!r}: {exc.message} errors and total must be counter "
                    "series selectors such as http_requests_total{code=~\"5..\"}, not "
                    "expressions: gameday takes the per-tick increase itself."]
        if not total:
            return [f"probe {probe.name!r}: the total selector `{probe.total}` matches no "
                    f"series in Prometheus at {where} (last 5 minutes). Check the metric "
                    "name and labels, and that the target is scraped."]
    elif isinstance(probe, model.LatencyProbe):
        count = reads.selector(f"{probe.histogram}_count", probe.match)
        if not query(_series(count)):
            return [f"probe {probe.name!r}: `{count}` matches no series in Prometheus at "
                    f"{where}. Check the histogram base name (without _bucket/_count) "
                    "and the match labels."]
        if not bucket_bounds(query, probe):
            return [f"probe {probe.name!r}: histogram `{probe.histogram}` has no "
                    f"`_bucket` series matching `{probe.match or '{}'}` at {where}; "
                    "a latency probe needs a classic Prometheus histogram."]
    elif isinstance(probe, model.GaugeProbe):
        result = query(probe.query)
        series = len(result) if reads.is_vector(result) else 1
        if series == 0:
            return [f"guardrail {probe.name!r}: `{probe.query}` returns 0 series at {where}; "
                    "a guardrail needs exactly one. Check the metric name and labels, and "
                    "that its target is scraped (up == 1); for a value that may be absent, "
                    "give a default: (...) or vector(0)."]
        if series > 1:
            return [f"guardrail {probe.name!r}: `{probe.query}` returns {series} series "
                    f"at {where}; a guardrail needs exactly one. Aggregate it "
                    "(sum(...), min(...)) or narrow its labels."]
    return []


def bucket_bounds(query: Query, probe: model.LatencyProbe) -> list[float]:
    bucket = reads.selector(f"{probe.histogram}_bucket", probe.match)
    result = query(f"count by (le) (last_over_time({bucket}[5m]))")
    found = (reads.le_value(item["metric"].get("le", "")) for item in result)
    return sorted(b for b in found if b is not None)


def remarks(query: Query, probe: model.Probe) -> list[str]:
    if isinstance(probe, model.RatioProbe):
        if not query(_series(probe.errors)):
            return [f"probe {probe.name!r}: the errors selector `{probe.errors}` matches "
                    "no series yet; it counts as 0 errors until a series appears (a new "
                    "series then counts from 0)."]
    elif isinstance(probe, model.LatencyProbe):
        bounds = bucket_bounds(query, probe)
        usable = [b for b in bounds if b >= probe.max * (1 - 1e-9)]
        if usable and math.isclose(usable[0], probe.max, rel_tol=1e-9):
            return []
        if not usable or math.isinf(usable[0]):
            return [f"probe {probe.name!r}: histogram `{probe.histogram}` has no finite "
                    f"bucket at or above {probe.max:g} s; it cannot see any slow request. "
                    "Add a bucket at the threshold."]
        return [f"probe {probe.name!r}: histogram `{probe.histogram}` has no bucket at "
                f"{probe.max:g} s; using the next one up (le={usable[0]:g}). Requests "
                f"between {probe.max:g} s and {usable[0]:g} s count as fast, so the test "
                "is conservative (fewer aborts; it may miss a violation). Add a bucket at "
                "the threshold for an exact test."]
    return []
