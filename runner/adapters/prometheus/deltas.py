"""Per-tick counter increments from raw samples, and the cut that keeps two sides consistent.

Pure functions over query results; no HTTP. Decisions:

- gameday computes per-tick deltas itself from raw samples (``selector[window]``)
  instead of trusting ``increase()``: ``increase`` extrapolates, double-counts across
  overlapping windows and cannot say "no new data". Per series we keep the last seen
  (timestamp, value); a tick counts only samples newer than that, so windows never
  overlap and a late tick loses nothing (the window covers the time since the last
  successful fetch).
- Counter reset (the value drops): the delta is the new value (the counter restarted at 0).
- A series first seen after priming contributes its whole value: it started at 0 (a
  new pod, the first 5xx).
- Two sides read by two queries (a ratio whose errors and total are different metrics)
  can see different scrapes: one query may land just before a scrape is committed and
  the other just after. ``cut`` finds that signature per scrape target (``job``,
  ``instance``): one side holds exactly one scrape more than the other, and that scrape
  is dropped from this tick. Its samples stay unread in the per-series state, so the
  next tick counts them on both sides together; nothing is lost, nothing is counted
  against the wrong denominator. A side that is more than one scrape ahead is not a
  race but a series that stopped (a vanished 5xx series): nothing is cut then.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

SeriesKey = tuple[tuple[str, str], ...]
Point = tuple[float, float]  # (timestamp, value)
Matrix = list[tuple[SeriesKey, list[Point]]]

#: The labels that name one scrape target: series sharing them share scrape timestamps.
TARGET_LABELS = ("job", "instance")


@dataclasses.dataclass(frozen=True)
class Advance:
    """The result of feeding new raw samples into one side's per-series state."""

    state: Mapping[SeriesKey, Point]
    delta: float
    advanced: bool  # some series had a sample newer than the last one seen


def advance(state: Mapping[SeriesKey, Point], matrix: Matrix, *, primed: bool) -> Advance:
    """Pure delta extraction: sum of counter increments newer than ``state``.

    Not primed: only remember each series' last point. Primed: walk each series' points
    newer than its last seen timestamp, with reset handling; unseen series start at 0.
    Series absent from ``matrix`` keep their state (a missed scrape loses nothing).
    """
    new = dict(state)
    delta = 0.0
    moved = False
    for key, raw in matrix:
        points = sorted(p for p in raw if not math.isnan(p[1]))
        if not points:
            continue
        last = state.get(key)
        if last is None and not primed:
            new[key] = points[-1]
            continue
        prev_t, prev_v = last if last is not None else (-math.inf, 0.0)
        for t, v in points:
            if t <= prev_t:
                continue
            delta += v - prev_v if v >= prev_v else v
            prev_t, prev_v = t, v
            moved = True
        new[key] = (prev_t, prev_v)
    return Advance(new, delta, moved)


def parse_matrix(result: Any) -> Matrix:
    """A Prometheus ``matrix`` result as (sorted label items, [(t, v), ...]) pairs."""
    return [
        (tuple(sorted(item["metric"].items())), [(float(t), float(v)) for t, v in item["values"]])
        for item in result
    ]


def _target(key: SeriesKey) -> tuple[str, ...]:
    labels = dict(key)
    return tuple(labels.get(name, "") for name in TARGET_LABELS)


def _frontiers(matrix: Matrix) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for key, points in matrix:
        if points:
            group = _target(key)
            out[group] = max(out.get(group, -math.inf), *(t for t, _ in points))
    return out


def _newer(matrix: Matrix, group: tuple[str, ...], after: float) -> set[float]:
    return {t for key, points in matrix if _target(key) == group for t, _ in points if t > after}


def _drop(matrix: Matrix, groups: Mapping[tuple[str, ...], float]) -> Matrix:
    return [
        (key, [p for p in points if p[0] <= groups[_target(key)]])
        if _target(key) in groups else (key, points)
        for key, points in matrix
    ]


def cut(first: Matrix, second: Matrix) -> tuple[Matrix, Matrix, int]:
    """Both sides trimmed to the scrapes both have seen, per target; and how many were cut."""
    ahead_first: dict[tuple[str, ...], float] = {}
    ahead_second: dict[tuple[str, ...], float] = {}
    fronts_second = _frontiers(second)
    for group, front_first in _frontiers(first).items():
        front_second = fronts_second.get(group)
        if front_second is None or front_second == front_first:
            continue
        if front_first > front_second and len(_newer(first, group, front_second)) == 1:
            ahead_first[group] = front_second
        elif front_second > front_first and len(_newer(second, group, front_first)) == 1:
            ahead_second[group] = front_first
    if not ahead_first and not ahead_second:
        return first, second, 0
    return _drop(first, ahead_first), _drop(second, ahead_second), \
        len(ahead_first) + len(ahead_second)
