"""Per-tick data in columns: one compact array per probe and field, not one dict per tick.

A 10 000-tick journal with 100 probes holds a million probe-ticks; kept as parsed JSON
that is gigabytes, kept as ``array('d')`` columns it is tens of megabytes. ``Series``
is filled while the journal is streamed (``add`` once per tick event) and read by the
tables, the plot and the CSV. A missing value (no data, no statistics that tick, a probe
that appeared later) is NaN, so every column of a run has exactly one slot per tick.

Latency probes: when a sample carries the histogram's per-tick bucket counts
(``buckets``: ``[[le, cumulative count], ...]``) the p-quantile is estimated as
Prometheus' ``histogram_quantile`` does (linear inside the bucket); without them no
quantile is invented and the column stays NaN.
"""

from __future__ import annotations

import array
import dataclasses
import math
import operator
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

NAN = math.nan
PHASES = ("baseline", "watch", "recovery")  # the phases that tick
_FIELDS = ("n", "e", "value", "log_e", "p_value", "significant", "in_bounds", "fired",
           "quantile_s")


_NANS = array.array("d", [NAN])
_STEP = operator.itemgetter("name", "log_e", "p_value", "significant")  # a step, fast path


def _pad(column: array.array[float], size: int) -> None:
    if len(column) < size:
        column.extend(_NANS * (size - len(column)))


def _set(column: array.array[float], index: int, value: Any) -> None:
    """Put ``value`` at ``index`` (the column's end, after padding; the hot path).

    ``array('d').append`` takes exactly what ``_num`` turns into a number (int, float,
    bool) and raises TypeError on the rest (None, strings, lists, objects), which are NaN.
    """
    if len(column) != index:
        if len(column) > index:
            return  # a second value for the same tick: the first one stands
        column.extend(_NANS * (index - len(column)))
    try:
        column.append(value)
    except TypeError:
        column.append(NAN)


def _num(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value) if isinstance(value, int | float) else NAN


def bucket_quantile(q: float, buckets: Iterable[Any]) -> float:
    """``histogram_quantile(q, ...)`` over cumulative ``[[le, count], ...]``; NaN if unknown."""
    rows: list[tuple[float, float]] = []
    for item in buckets:
        if isinstance(item, list | tuple) and len(item) == 2:
            le, count = _num(item[0]) if item[0] != "+Inf" else math.inf, _num(item[1])
            if not math.isnan(le) and not math.isnan(count):
                rows.append((le, count))
    rows.sort()
    if len(rows) < 2 or rows[-1][0] != math.inf or rows[-1][1] <= 0:
        return NAN
    rank = q * rows[-1][1]
    lower_le, lower_count = 0.0, 0.0
    for le, count in rows:
        if count >= rank:
            if le == math.inf:
                return lower_le  # as Prometheus: the highest finite bound
            if count == lower_count:
                return le
            return lower_le + (le - lower_le) * (rank - lower_count) / (count - lower_count)
        lower_le, lower_count = le, count
    return NAN


class Column:
    """One probe's values, one slot per tick in every field."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, array.array[float]] = {f: array.array("d") for f in _FIELDS}
        f = self.fields  # the groups written together, tick by tick (always the same length)
        self.counts = (f["n"], f["e"])
        self.stats = (f["log_e"], f["p_value"], f["significant"])
        self.guard = (f["in_bounds"], f["fired"])


@dataclasses.dataclass
class Series:
    """Every tick of a run: shared columns (time, phase, combined evidence) and per probe."""

    quantiles: Mapping[str, float] = dataclasses.field(default_factory=dict)
    ts: array.array[float] = dataclasses.field(default_factory=lambda: array.array("d"))
    phase: array.array[int] = dataclasses.field(default_factory=lambda: array.array("b"))
    tick: array.array[int] = dataclasses.field(default_factory=lambda: array.array("l"))
    log_e: array.array[float] = dataclasses.field(default_factory=lambda: array.array("d"))
    threshold: array.array[float] = dataclasses.field(default_factory=lambda: array.array("d"))
    reject: array.array[int] = dataclasses.field(default_factory=lambda: array.array("b"))
    late: array.array[float] = dataclasses.field(default_factory=lambda: array.array("d"))
    leading: list[str | None] = dataclasses.field(default_factory=list)
    probes: dict[str, Column] = dataclasses.field(default_factory=dict)
    has_buckets: set[str] = dataclasses.field(default_factory=set)

    def __len__(self) -> int:
        return len(self.ts)

    def column(self, name: str) -> Column:
        col = self.probes.get(name)
        if col is None:
            col = self.probes[name] = Column(name)
        return col

    def add(self, event: Mapping[str, Any]) -> None:
        """Fold one ``tick`` event in (its phase, samples, statistics and guardrails)."""
        i = len(self.ts)
        phase = event.get("phase")
        self.ts.append(_num(event.get("ts")))
        self.phase.append(PHASES.index(phase) if phase in PHASES else -1)
        tick = event.get("tick")
        self.tick.append(tick if isinstance(tick, int) and not isinstance(tick, bool) else -1)
        late = event.get("late_by", event.get("late"))
        self.late.append(_num(late) if not isinstance(late, bool) else (0.0 if late else NAN))
        stats = event.get("stats")
        stats = stats if isinstance(stats, Mapping) else {}
        self.log_e.append(_num(stats.get("log_e")))
        self.threshold.append(_num(stats.get("threshold_log")))
        self.reject.append(1 if stats.get("reject") is True else 0)
        leading = stats.get("leading")
        self.leading.append(leading if isinstance(leading, str) else None)
        samples = event.get("samples")
        if isinstance(samples, Mapping):
            self._samples(i, samples)
        steps = stats.get("probes")
        if isinstance(steps, list):
            self._steps(i, steps)
        guards = event.get("guardrails")
        if isinstance(guards, Mapping):
            self._guards(i, guards)

    # The loops below run once per probe per tick (a million times at 10 000 ticks × 100
    # probes). The common case (a known probe, every field present, numbers, the group's
    # columns ending at tick i) is appended inline; anything else takes the general path
    # (``_set`` per field: padding, a repeated tick, NaN for what is not a number). The
    # columns of a group are only ever written together, so they have the same length.

    def _samples(self, i: int, samples: Mapping[str, Any]) -> None:
        probes = self.probes
        for name, sample in samples.items():
            col = probes.get(name)
            if col is None:
                col = self.column(str(name))
            if type(sample) is not dict and not isinstance(sample, Mapping):
                continue
            if "value" in sample:
                _set(col.fields["value"], i, sample["value"])
                continue
            n, e = col.counts
            fast = len(n) == i
            if fast:
                try:
                    n.append(sample.get("n", NAN))
                    e.append(sample.get("e", NAN))
                except TypeError:
                    fast = False
            if not fast:  # (a value appended above stands: _set keeps the first)
                _set(n, i, sample.get("n"))
                _set(e, i, sample.get("e"))
            buckets = sample.get("buckets")
            if buckets is not None and name in self.quantiles:
                self.has_buckets.add(str(name))
                _set(col.fields["quantile_s"], i, bucket_quantile(self.quantiles[name], buckets)
                     if isinstance(buckets, list) else NAN)

    def _steps(self, i: int, steps: list[Any]) -> None:
        probes = self.probes
        for step in steps:
            try:
                name, log_e, p_value, significant = _STEP(step)
                a, b, c = probes[name].stats
            except (KeyError, TypeError):
                self._step(i, step)
                continue
            if len(a) == i and isinstance(name, str):
                try:
                    a.append(log_e)
                    b.append(p_value)
                    c.append(significant)
                    continue
                except TypeError:
                    pass
            self._step(i, step)

    def _step(self, i: int, step: Any) -> None:
        """One probe's statistics in one tick, the general path."""
        name = step.get("name") if isinstance(step, Mapping) else None
        if isinstance(name, str):
            for column, key in zip(self.column(name).stats, ("log_e", "p_value", "significant"),
                                   strict=True):
                _set(column, i, step.get(key))

    def _guards(self, i: int, guards: Mapping[str, Any]) -> None:
        probes = self.probes
        for name, view in guards.items():
            if type(view) is not dict and not isinstance(view, Mapping):
                continue
            col = probes.get(name)
            if col is None:
                col = self.column(str(name))
            in_bounds, fired = col.guard
            fast = len(in_bounds) == i
            if fast:
                try:
                    in_bounds.append(view.get("in_bounds", NAN))
                    fired.append(view.get("fired", NAN))
                except TypeError:
                    fast = False
            if not fast:
                _set(in_bounds, i, view.get("in_bounds"))
                _set(fired, i, view.get("fired"))
            if "value" in view and len(col.fields["value"]) <= i:
                _set(col.fields["value"], i, view.get("value"))

    def finish(self) -> None:
        """Pad every column to the number of ticks (call once, after the last ``add``)."""
        size = len(self.ts)
        for col in self.probes.values():
            for column in col.fields.values():
                _pad(column, size)

    def indices(self, phase: str) -> range | list[int]:
        """The tick indices of one phase (contiguous in a well-formed run)."""
        code = PHASES.index(phase)
        found = np.flatnonzero(np.frombuffer(self.phase, dtype=np.int8) == code).tolist()
        if found and found[-1] - found[0] + 1 == len(found):
            return range(found[0], found[-1] + 1)
        return found
