"""``ports.MetricsSource`` over a fetched history: each tick a memory lookup, no HTTP.

``Tracks.build(history, steady)`` turns a ``history.History`` into one track per probe
(once per replay); ``HistorySource(tracks, now)`` is the metrics source of one replayed
run, reading the track at the step of ``now()`` (the replay's fake clock). It behaves as
``PrometheusSource`` would have at that time: the first read of a probe primes it (no
data), later reads give the increments since the previous read with the live rules
(``history_deltas``), a gauge reads its one series (None for none or several), and an
alert fires when its query had a series. A read past what was fetched (a partial
history) is no data with the reason in ``read_errors``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from runner import ports
from runner.adapters.prometheus import history as hist
from runner.adapters.prometheus import history_deltas as hd
from runner.adapters.prometheus import selectors
from runner.model import experiment as model


@dataclasses.dataclass(frozen=True)
class CountTrack:
    """A ratio (total, errors) or latency (+Inf, threshold bucket) probe's sides."""

    n_side: hd.Side
    e_side: hd.Side
    good: bool  # True: e_side counts good events (latency), e = n - good


@dataclasses.dataclass(frozen=True)
class Tracks:
    history: hist.History
    counts: Mapping[str, CountTrack]
    gauges: Mapping[str, np.ndarray]  # per step; NaN = none or several series
    alerts: Mapping[str, np.ndarray]  # per step; True = a series was there

    @classmethod
    def build(cls, history: hist.History, steady: model.SteadyState,
              alerts: Sequence[str] = ()) -> Tracks:
        counts: dict[str, CountTrack] = {}
        gauges: dict[str, np.ndarray] = {}
        for probe in steady.probes:
            if isinstance(probe, model.RatioProbe):
                counts[probe.name] = _ratio(history, probe)
            elif isinstance(probe, model.LatencyProbe):
                track = _latency(history, probe)
                if track is not None:
                    counts[probe.name] = track
            elif isinstance(probe, model.GaugeProbe):
                gauges[probe.name] = _single(history.series.get(probe.query))
        firing = {q: _any(history.series.get(q), history.grid.steps) for q in alerts}
        return cls(history, counts, gauges, firing)


def _ratio(history: hist.History, probe: model.RatioProbe) -> CountTrack:
    total = history.series.get(probe.total) or hist.Series.empty(history.grid.steps)
    if hist.covered(probe):
        sel = selectors.parse(probe.errors)
        assert sel is not None
        keep = [i for i, key in enumerate(total.keys) if sel.matches(dict(key))]
        errs = hd.rows(total.values, keep)
    else:
        errs = (history.series.get(probe.errors)
                or hist.Series.empty(history.grid.steps)).values
    return CountTrack(hd.Side.of(total.values), hd.Side.of(errs), good=False)


def _latency(history: hist.History, probe: model.LatencyProbe) -> CountTrack | None:
    chosen = history.bounds.get(probe.name)
    if chosen is None:
        return None
    bound, spellings = chosen
    series = history.series.get(hist.bucket_query(probe, spellings))
    if series is None:
        return None
    inf = [i for i, k in enumerate(series.keys) if _le(k) == math.inf]
    at = [i for i, k in enumerate(series.keys) if _le(k) == bound]
    return CountTrack(hd.Side.of(hd.rows(series.values, inf)),
                      hd.Side.of(hd.rows(series.values, at)), good=True)


def _le(key: tuple[tuple[str, str], ...]) -> float | None:
    try:
        return float(dict(key).get("le", ""))
    except ValueError:
        return None


def _single(series: hist.Series | None) -> np.ndarray:
    if series is None or not series.keys:
        return np.full(0, np.nan)
    present = ~np.isnan(series.values)
    one = present.sum(axis=0) == 1
    value = np.where(present, series.values, 0.0).sum(axis=0)
    return np.where(one, value, np.nan)


def _any(series: hist.Series | None, steps: int) -> np.ndarray:
    if series is None or not series.keys:
        return np.zeros(steps, dtype=bool)
    return np.asarray((~np.isnan(series.values)).any(axis=0))


@dataclasses.dataclass
class _Reader:
    primed: int  # the step the reader was primed at
    last: int  # the step of the previous read
    n_fix: dict[int, float]
    e_fix: dict[int, float]


class HistorySource:
    """The metrics source of one replayed run (a window), reading ``tracks`` at ``now()``."""

    def __init__(self, tracks: Tracks, now: Callable[[], float]) -> None:
        self.tracks = tracks
        self.grid = tracks.history.grid
        self._now = now
        self._readers: dict[str, _Reader] = {}
        self.last_errors: dict[str, str] = {}

    def _step(self) -> int | None:
        k = self.grid.index(self._now())
        return k if 0 <= k < self.tracks.history.complete else None

    def _missing(self) -> str:
        why = self.tracks.history.failure or "the time is outside the replayed range"
        return f"no history at this time: {why}"

    def sample(self, probes: Sequence[model.Probe]) -> dict[str, ports.Sample]:
        self.last_errors = {}
        k = self._step()
        out: dict[str, ports.Sample] = {}
        for probe in probes:
            if k is None:
                out[probe.name] = None
                self.last_errors[probe.name] = self._missing()
            elif isinstance(probe, model.GaugeProbe):
                values = self.tracks.gauges.get(probe.name)
                value = float(values[k]) if values is not None and k < values.size else math.nan
                out[probe.name] = None if math.isnan(value) else ports.Value(value)
            elif isinstance(probe, model.RatioProbe | model.LatencyProbe):
                out[probe.name] = self._counts(probe.name, k)
        return out

    def _counts(self, name: str, k: int) -> ports.Sample:
        track = self.tracks.counts.get(name)
        if track is None:
            self.last_errors[name] = "no usable history for this probe (see preflight)"
            return None
        reader = self._readers.get(name)
        if reader is None:
            if not track.n_side.advanced(k - 1, k):
                return None  # primes only once the total exists, as the live reader
            self._readers[name] = _Reader(k, k, track.n_side.corrections(k),
                                          track.e_side.corrections(k))
            return None
        after, reader.last = reader.last, k
        if k <= after or not track.n_side.advanced(after, k):
            return None
        n = track.n_side.between(after, k, reader.n_fix)
        other = track.e_side.between(after, k, reader.e_fix)
        e = n - other if track.good else other
        return ports.Counts(n, min(max(e, 0.0), n))

    def read_errors(self) -> Mapping[str, str]:
        return dict(self.last_errors)

    def alerts(self, queries: Sequence[str]) -> list[str]:
        k = self._step()
        if k is None:
            return []
        return [q for q in queries if q in self.tracks.alerts and bool(self.tracks.alerts[q][k])]

    def traffic(self, probe: model.StatProbe) -> float | None:
        """Events per second over the minute before ``now()``, from the history."""
        track = self.tracks.counts.get(probe.name)
        k = self._step()
        if track is None or k is None:
            return None
        back = max(1, round(60.0 / self.grid.tick))
        after = max(0, k - back)
        if k <= after:
            return None
        return track.n_side.between(after, k, {}) / ((k - after) * self.grid.tick)

    def preflight(self, probes: Sequence[model.Probe]) -> list[str]:
        names = {p.name for p in probes}
        return [p for p in self.tracks.history.problems
                if any(f"{n!r}" in p for n in names)] or \
            ([] if self.tracks.history.complete else [self._missing()])

    def warnings(self, probes: Sequence[model.Probe]) -> list[str]:
        return list(self.tracks.history.notes)

    def preflight_alerts(self, queries: Sequence[str]) -> list[str]:
        return []


def per_step(tracks: Tracks) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(events, bad events) per grid step for each statistical probe (plots, simulations)."""
    out = {}
    for name, track in tracks.counts.items():
        n = np.diff(np.asarray(track.n_side.cum))
        other = np.diff(np.asarray(track.e_side.cum))
        e = n - other if track.good else other
        out[name] = (n, np.clip(e, 0.0, np.maximum(n, 0.0)))
    return out
