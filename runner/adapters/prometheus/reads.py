"""One probe's per-tick read: which queries it needs now, and what their answers mean.

Each reader is the state of one probe between ticks (per-series last samples, the
latency bucket chosen) and turns query answers into a ``ports.Sample``. No HTTP here:
the source runs the queries (concurrently, for every probe of a tick) and hands the
answers back, so the logic is tested on recorded answers too. Decisions:

- **One consistent read per probe per tick.** Every Prometheus query sees whole
  scrapes (head isolation), so two sides read by *one* query can never disagree:
  - latency: one query ``<h>_bucket{match, le=~"<b>|+Inf"}[w]`` returns the bucket at
    the threshold and the ``+Inf`` bucket (which is ``_count``) together; n = Δ(+Inf),
    e = n − Δ(bucket b). The first read fetches every bucket once to choose b (the
    smallest bound ≥ the threshold) and the exact ``le`` spellings the exporter uses;
  - ratio: when ``errors`` selects a subset of ``total`` by its text (same metric, more
    matchers), one query of ``total`` holds both; errors are picked out locally, after
    checking once, at priming, that the local pick equals Prometheus' own answer for
    ``errors``. Otherwise (different metrics) two queries pinned to one evaluation time,
    and ``deltas.cut`` removes a scrape only one of them saw.
- No series of the ``total``/``count`` side advanced: None (no data), never 0/0. An
  ``errors`` side with no series yet is 0 errors. ``e`` is clamped into [0, n].
- The first read primes (remembers the last sample of each series) and counts nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from runner import errors, ports
from runner.adapters.prometheus import deltas, selectors
from runner.model import experiment as model

State = Mapping[deltas.SeriesKey, deltas.Point]

log = logging.getLogger(__name__)


def duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def selector(base: str, match: str) -> str:
    match = match.strip()
    if match and not match.startswith("{"):
        match = "{" + match + "}"
    return base + match


def le_value(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _le(key: deltas.SeriesKey) -> float | None:
    return le_value(dict(key).get("le", ""))


class RatioRead:
    """errors/total counters: one query when errors ⊆ total by their text, else two."""

    def __init__(self, probe: model.RatioProbe) -> None:
        self.probe = probe
        self.total_sel = selectors.parse(probe.total)
        self.errors_sel = selectors.parse(probe.errors)
        self.one_query: bool | None = None  # decided at priming
        self.total: State = {}
        self.errors: State = {}
        self.cuts = 0  # scrapes held back for consistency (visible to tests and benchmarks)

    @property
    def primed(self) -> bool:
        return self.one_query is not None

    @property
    def pinned(self) -> bool:
        """Whether this tick's queries must be evaluated at one shared time."""
        return not self.one_query

    def queries(self, window: float) -> list[str]:
        w = duration(window)
        if self.one_query:
            return [f"{self.probe.total}[{w}]"]
        return [f"{self.probe.total}[{w}]", f"{self.probe.errors}[{w}]"]

    def _pick(self, total: deltas.Matrix) -> deltas.Matrix:
        sel = self.errors_sel
        assert sel is not None
        return [(key, points) for key, points in total if sel.matches(dict(key))]

    def _can_pick(self, total: deltas.Matrix, errs: deltas.Matrix) -> bool:
        if self.total_sel is None or self.errors_sel is None:
            return False
        if not self.total_sel.covers(self.errors_sel):
            return False
        return {key for key, _ in self._pick(total)} == {key for key, _ in errs}

    def take(self, answers: Sequence[Any]) -> ports.Sample:
        total_m = deltas.parse_matrix(answers[0])
        if self.one_query:
            errors_m = self._pick(total_m)
        else:
            errors_m = deltas.parse_matrix(answers[1])
            if self.primed or total_m:
                total_m, errors_m, cut = deltas.cut(total_m, errors_m)
                self.cuts += cut
        if not self.primed:
            if not total_m:
                return None  # prime only once the total exists, or its first values count
            self.one_query = self._can_pick(total_m, errors_m)
            if self.one_query:
                errors_m = self._pick(total_m)
            self.total = deltas.advance({}, total_m, primed=False).state
            self.errors = deltas.advance({}, errors_m, primed=False).state
            return None
        total = deltas.advance(self.total, total_m, primed=True)
        bad = deltas.advance(self.errors, errors_m, primed=True)
        self.total, self.errors = total.state, bad.state
        if not total.advanced:
            return None
        return ports.Counts(total.delta, min(max(bad.delta, 0.0), total.delta))


class LatencyRead:
    """A classic histogram: the +Inf bucket (n) and the threshold's bucket, in one query.

    A series whose threshold bucket is missing from the answer is left out of the tick
    (counting its requests as all slow would be a phantom violation): if a new spelling
    of ``le`` is the cause (a pod exporting ``0.30`` where the others say ``0.3``), the
    next read fetches every bucket once and learns it; a series that truly has no bucket
    at the threshold is left out for good, with a warning.
    """

    def __init__(self, probe: model.LatencyProbe, where: str) -> None:
        self.probe = probe
        self.where = where
        self.bound: float | None = None
        self.spellings: frozenset[str] = frozenset()  # the le label values queried
        self.count: State = {}
        self.good: State = {}
        self.pinned = False
        self.full = True  # the next query asks for every bucket
        self.bucketless: set[deltas.SeriesKey] = set()

    @property
    def primed(self) -> bool:
        return self.bound is not None

    def queries(self, window: float) -> list[str]:
        base = f"{self.probe.histogram}_bucket"
        w = duration(window)
        if self.full:
            return [f"{selector(base, self.probe.match)}[{w}]"]
        only = selectors.with_matcher(self.probe.match, "le", "=~",
                                      selectors.alternatives(sorted(self.spellings)))
        return [f"{base}{only}[{w}]"]

    def _choose(self, buckets: deltas.Matrix) -> float:
        bounds = {_le(key) for key, _ in buckets}
        usable = sorted(b for b in bounds if b is not None and b >= self.probe.max * (1 - 1e-9))
        if not usable:
            raise errors.PlatformError(
                f"Prometheus at {self.where} has no `{self.probe.histogram}_bucket` series "
                f"matching `{self.probe.match or '{}'}`: the latency probe cannot count slow "
                "requests."
            )
        return usable[0]

    def _split(self, buckets: deltas.Matrix, bound: float) -> tuple[
            deltas.Matrix, deltas.Matrix, set[deltas.SeriesKey]]:
        """(+Inf series that have a threshold bucket, threshold buckets, +Inf orphans)."""
        count = [(k, p) for k, p in buckets if _le(k) == math.inf]
        good = [(k, p) for k, p in buckets if _le(k) == bound]
        have = {_without_le(k) for k, _ in good}
        orphans = {_without_le(k) for k, _ in count} - have
        return [(k, p) for k, p in count if _without_le(k) not in orphans], good, orphans

    def _learn(self, good: deltas.Matrix, inf: deltas.Matrix,
               orphans: set[deltas.SeriesKey]) -> None:
        self.spellings |= {dict(k)["le"] for k, _ in (*good, *inf)}
        for key in orphans - self.bucketless:
            log.warning("latency probe %r: series %s has no bucket at %g s; it is left out "
                        "of the probe", self.probe.name, dict(key), self.bound)
        self.bucketless |= orphans
        self.full = False

    def take(self, answers: Sequence[Any]) -> ports.Sample:
        buckets = deltas.parse_matrix(answers[0])
        if self.bound is None:
            bound = self._choose(buckets)
            count_m, good_m, orphans = self._split(buckets, bound)
            if not count_m:
                return None
            self.bound = bound
            self._learn(good_m, count_m, orphans)
            self.count = deltas.advance({}, count_m, primed=False).state
            self.good = deltas.advance({}, good_m, primed=False).state
            return None
        count_m, good_m, orphans = self._split(buckets, self.bound)
        if self.full:
            self._learn(good_m, count_m, orphans)
        elif orphans - self.bucketless:
            self.full = True  # a spelling we do not know yet: ask for every bucket once
        count = deltas.advance(self.count, count_m, primed=True)
        good = deltas.advance(self.good, good_m, primed=True)
        self.count, self.good = count.state, good.state
        if not count.advanced:
            return None
        return ports.Counts(count.delta, min(max(count.delta - good.delta, 0.0), count.delta))


def _without_le(key: deltas.SeriesKey) -> deltas.SeriesKey:
    return tuple((name, value) for name, value in key
                 if name not in ("le", "__name__"))


class GaugeRead:
    """A guardrail: one instant query that must return exactly one value."""

    primed = True
    pinned = False

    def __init__(self, probe: model.GaugeProbe) -> None:
        self.probe = probe

    def queries(self, window: float) -> list[str]:
        return [self.probe.query]

    def take(self, answers: Sequence[Any]) -> ports.Sample:
        value = single_value(answers[0])
        return None if value is None or math.isnan(value) else ports.Value(value)


Read = RatioRead | LatencyRead | GaugeRead


def is_vector(result: Any) -> bool:
    return isinstance(result, list) and all(isinstance(item, dict) for item in result)


def single_value(result: Any) -> float | None:
    """The value of a one-series vector or a scalar; None for 0 or 2+ series."""
    if is_vector(result):
        return float(result[0]["value"][1]) if len(result) == 1 else None
    if isinstance(result, list) and len(result) == 2:  # scalar: [timestamp, "value"]
        return float(result[1])
    return None
