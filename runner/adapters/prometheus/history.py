"""Prometheus history for replay: an experiment's series over a range, fetched once.

``fetch`` reads every series an experiment's probes and alert conditions need, at the
experiment's tick, with range queries (``/api/v1/query_range``, step = tick) on one grid
``origin + i·tick``; ``history_source`` then serves them tick by tick from memory.
Decisions:

- **Range queries at the tick.** A step-``tick`` range query of a counter selector gives,
  per series and tick, the last sample at or before the tick (Prometheus' 5-minute
  lookback) -- exactly what the live reader's state holds after each tick, so the same
  per-tick delta rules apply (``history_deltas``). Far fewer points than raw samples when
  Prometheus scrapes faster than the tick. The one thing a range query cannot see: a
  counter reset between two scrapes *inside* one tick (scrapes more frequent than the
  tick); that tick then counts only what came after the reset.
- **Chunks under the 11 000-points limit.** Each query covers at most ``CHUNK_STEPS``
  steps (Prometheus refuses more than 11 000 points per series). A chunk Prometheus
  refuses for its size (422 "too many samples", 400 "exceeded maximum resolution") is
  split in half and tried again, down to ``MIN_STEPS``; a chunk is fetched for every
  query before the next begins, so whatever was fetched is a complete prefix of time.
- **Failures give a partial history, never a crash.** Transient failures are retried by
  the connection (``retries`` times within its timeout); a chunk that still fails ends
  the fetch: ``History.complete`` says how many steps were fetched for every query and
  ``failure`` says why the rest was not, in one paragraph.
- Only the series a probe uses are fetched: a latency probe's ``+Inf`` bucket and the
  bucket at its threshold (found by a cheap coarse query of the ``le`` values first),
  a ratio's ``errors`` side only when it is not a subset of ``total`` by its text.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from runner import errors
from runner.adapters.prometheus import connection, deltas, reads, selectors
from runner.model import experiment as model

#: Steps per range query: under Prometheus' 11 000 points per series, with a margin.
CHUNK_STEPS = 10_000
#: The smallest chunk tried when Prometheus refuses a chunk for its size.
MIN_STEPS = 16
#: How coarse the one query that lists a histogram's ``le`` values may be (steps in range).
DISCOVERY_POINTS = 500

FloatArray = npt.NDArray[np.float64]
_TOO_BIG = ("too many samples", "exceeded maximum resolution", "too many points")


@dataclasses.dataclass(frozen=True)
class Grid:
    """The tick grid of a replay: step ``i`` is Unix time ``origin + i·tick``."""

    origin: float
    tick: float
    steps: int

    @classmethod
    def covering(cls, start: float, end: float, tick: float) -> Grid:
        """The grid aligned to multiples of ``tick`` (epoch based) from ``start`` to ``end``."""
        origin = math.ceil(start / tick - 1e-9) * tick
        steps = max(0, math.floor((end - origin) / tick + 1e-9) + 1)
        return cls(origin, tick, steps)

    def time(self, i: int) -> float:
        return self.origin + i * self.tick

    def index(self, t: float) -> int:
        """The last step at or before Unix time ``t``."""
        return math.floor((t - self.origin) / self.tick + 1e-6)


@dataclasses.dataclass
class Series:
    """One query's series over the grid: label sets and values (NaN = absent at a step)."""

    keys: list[deltas.SeriesKey]
    values: FloatArray  # shape (len(keys), grid.steps)

    @classmethod
    def empty(cls, steps: int) -> Series:
        return cls([], np.full((0, steps), np.nan))

    def add(self, result: Any, grid: Grid) -> int:
        """Fold one range-query answer in; returns the points read."""
        index = {key: row for row, key in enumerate(self.keys)}
        points = 0
        for item in result:
            key: deltas.SeriesKey = tuple(sorted(item["metric"].items()))
            pairs = item["values"]
            if not pairs:
                continue
            row = index.get(key)
            if row is None:
                row = len(self.keys)
                index[key] = row
                self.keys.append(key)
                self.values = np.vstack([self.values, np.full((1, grid.steps), np.nan)])
            stamps = np.fromiter((float(p[0]) for p in pairs), dtype=np.float64,
                                 count=len(pairs))
            values = np.fromiter((float(p[1]) for p in pairs), dtype=np.float64,
                                 count=len(pairs))
            at = np.rint((stamps - grid.origin) / grid.tick).astype(np.int64)
            keep = (at >= 0) & (at < grid.steps)
            self.values[row, at[keep]] = values[keep]
            points += len(pairs)
        return points


@dataclasses.dataclass
class History:
    """Everything fetched for one replay; ``series`` by PromQL expression."""

    grid: Grid
    where: str
    series: dict[str, Series]
    complete: int = 0  # steps [0, complete) were fetched for every query
    failure: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    bounds: dict[str, tuple[float, tuple[str, ...]]] = dataclasses.field(default_factory=dict)
    queries: int = 0
    points: int = 0
    splits: int = 0
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        return self.complete < self.grid.steps


def needs(steady: model.SteadyState, alerts: Sequence[str]) -> list[str]:
    """The expressions to fetch before latency buckets are known (ratios, gauges, alerts)."""
    out: list[str] = []
    for probe in steady.probes:
        if isinstance(probe, model.RatioProbe):
            out.append(probe.total)
            if not covered(probe):
                out.append(probe.errors)
        elif isinstance(probe, model.GaugeProbe):
            out.append(probe.query)
    out.extend(alerts)
    return list(dict.fromkeys(out))


def covered(probe: model.RatioProbe) -> bool:
    """Whether ``errors`` selects a subset of ``total`` by its text (one fetch holds both)."""
    total, errs = selectors.parse(probe.total), selectors.parse(probe.errors)
    return total is not None and errs is not None and total.covers(errs)


def bucket_query(probe: model.LatencyProbe, spellings: Sequence[str]) -> str:
    only = selectors.with_matcher(probe.match, "le", "=~", selectors.alternatives(
        list(spellings)))
    return f"{probe.histogram}_bucket{only}"


class Fetcher:
    """Fetches a ``History`` through one connection; ``sleep`` and ``monotonic`` injected."""

    def __init__(self, conn: connection.Connection, *, chunk_steps: int = CHUNK_STEPS,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_chunk: Callable[[int, int], None] | None = None) -> None:
        self.conn = conn
        self.chunk_steps = max(MIN_STEPS, min(chunk_steps, CHUNK_STEPS))
        self._monotonic = monotonic
        self._on_chunk = on_chunk

    def fetch(self, steady: model.SteadyState, alerts: Sequence[str], grid: Grid) -> History:
        began = self._monotonic()
        history = History(grid, self.conn.where, {})
        try:
            exprs = needs(steady, alerts) + self._latency(steady, grid, history)
        except errors.PlatformError as exc:
            history.failure = self._failed(exc, grid, 0)
            history.seconds = self._monotonic() - began
            return history
        for expr in exprs:
            history.series[expr] = Series.empty(grid.steps)
        self._chunks(exprs, grid, history)
        for probe in steady.probes:
            if isinstance(probe, model.RatioProbe) and history.complete and \
                    not history.series[probe.total].keys:
                history.problems.append(
                    f"probe {probe.name!r}: the total selector `{probe.total}` matches no "
                    f"series in Prometheus at {self.conn.where} over the replayed range. "
                    "Check the metric name and labels, and the range.")
        history.seconds = self._monotonic() - began
        return history

    def _latency(self, steady: model.SteadyState, grid: Grid, history: History) -> list[str]:
        out = []
        for probe in steady.probes:
            if not isinstance(probe, model.LatencyProbe):
                continue
            spellings = self._le_values(probe, grid, history)
            usable = sorted((b, s) for s in spellings
                            if (b := reads.le_value(s)) is not None
                            and b >= probe.max * (1 - 1e-9))
            if not usable or math.isinf(usable[0][0]):
                history.problems.append(
                    f"probe {probe.name!r}: histogram `{probe.histogram}` has no finite "
                    f"bucket at or above {probe.max:g} s in Prometheus at {self.conn.where} "
                    "over the replayed range (or no series at all); it cannot count slow "
                    "requests.")
                continue
            bound = usable[0][0]
            chosen = tuple(sorted(s for b, s in usable if b in (bound, math.inf)))
            if not math.isclose(bound, probe.max, rel_tol=1e-9):
                history.notes.append(
                    f"probe {probe.name!r}: no bucket at {probe.max:g} s; using le={bound:g} "
                    "(conservative, as a live run is).")
            history.bounds[probe.name] = (bound, chosen)
            out.append(bucket_query(probe, chosen))
        return out

    def _le_values(self, probe: model.LatencyProbe, grid: Grid, history: History) -> set[str]:
        step = max(grid.tick, (grid.steps * grid.tick) / DISCOVERY_POINTS)
        bucket = reads.selector(f"{probe.histogram}_bucket", probe.match)
        answer = self._query(f"count by (le) ({bucket})", grid.origin,
                             grid.time(max(0, grid.steps - 1)), step, history)
        return {str(item["metric"].get("le", "")) for item in answer}

    def _query(self, expr: str, start: float, end: float, step: float,
               history: History) -> Any:
        history.queries += 1
        return self.conn.query(expr, span=(start, end, step))

    def _chunks(self, exprs: Sequence[str], grid: Grid, history: History) -> None:
        size = self.chunk_steps
        first = 0
        while first < grid.steps:
            last = min(grid.steps, first + size) - 1
            try:
                answers = [self._query(e, grid.time(first), grid.time(last), grid.tick,
                                       history) for e in exprs]
            except connection.QueryFailed as exc:
                if _too_big(exc) and size > MIN_STEPS:
                    size = max(MIN_STEPS, size // 2)
                    history.splits += 1
                    continue
                history.failure = self._failed(exc, grid, first)
                return
            except errors.PlatformError as exc:
                history.failure = self._failed(exc, grid, first)
                return
            for expr, answer in zip(exprs, answers, strict=True):
                history.points += history.series[expr].add(answer, grid)
            first = last + 1
            history.complete = first
            if self._on_chunk is not None:
                self._on_chunk(first, grid.steps)

    def _failed(self, exc: errors.PlatformError, grid: Grid, first: int) -> str:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(grid.time(first)))
        size = " (even in the smallest chunks)" if _too_big(exc) else ""
        slow = (" (gameday replay --timeout sets how long each history query may take.)"
                if "did not answer" in exc.message else "")
        return (f"Prometheus at {self.conn.where} failed while the history was fetched{size}: "
                f"{exc.message}{slow} History from {at} on was not fetched; the replay "
                "covers only what was, and says so.")


def _too_big(exc: errors.PlatformError) -> bool:
    text = exc.message.lower()
    return any(word in text for word in _TOO_BIG)
