"""Per-tick counter increments over a fetched history: the live reader's rules, vectorised.

The live reader (``deltas.advance``) keeps each series' last sample and counts, per tick,
the increments newer than it: ``v − prev`` when the counter grew, ``v`` when it dropped
(a reset: it restarted at 0); a series first seen after priming counts its whole value
(it started at 0); a series absent this tick keeps its state (a missed scrape loses
nothing, the next tick counts it). On a history grid (the last sample of each series at
each tick) those rules give, per series and step, a *global* increment from the
previous step where the series was present. Decisions:

- The global increments are computed once per series with numpy; a reader primed at
  step ``p`` then sums them over the steps it reads (a cumulative sum: O(1) per tick).
- The one place where a window differs from the global stream: a series absent at the
  priming step whose previous sample is older than the priming lookback. The live
  reader never saw it before, so at its return it counts its whole value; the global
  increment counted from the old sample. ``Side.corrections(p)`` gives those per-step
  adjustments for a reader primed at ``p`` (computed once per window, per series).
- Priming happens at the first read where the ``total`` / ``+Inf`` side has a series,
  as the live reader's does (``reads``); until then a read is no data.
- This module is checked against ``deltas.advance`` itself on random streams with
  resets, gaps and series that come and go (tests/replay), so the two cannot drift.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclasses.dataclass(frozen=True)
class Side:
    """One side of a probe (total, errors, +Inf, the threshold's bucket) over the grid."""

    values: FloatArray  # (series, steps); NaN = absent at that step
    increments: FloatArray  # (series, steps); 0 where absent
    last_before: IntArray  # (series, steps): last present step <= k, -1 if none
    cum: list[float]  # cum[k + 1] = Σ increments over steps <= k (a list: fast lookups)
    present: BoolArray  # (steps,): any series present
    seen: list[int]  # seen[k + 1] = steps <= k with some series present

    @classmethod
    def of(cls, values: FloatArray) -> Side:
        series, steps = values.shape
        present = ~np.isnan(values)
        increments = np.zeros_like(values)
        last_before = np.full((series, steps), -1, dtype=np.int64)
        positions = np.arange(steps, dtype=np.int64)
        for row in range(series):
            where = np.flatnonzero(present[row])
            if where.size == 0:
                continue
            v = values[row, where]
            inc = np.empty_like(v)
            inc[0] = v[0]  # first seen: it started at 0
            grew = v[1:] >= v[:-1]
            inc[1:] = np.where(grew, v[1:] - v[:-1], v[1:])
            increments[row, where] = inc
            marks = np.where(present[row], positions, -1)
            last_before[row] = np.maximum.accumulate(marks)
        total = increments.sum(axis=0) if series else np.zeros(steps)
        cum = np.concatenate(([0.0], np.cumsum(total))).tolist()
        any_present: BoolArray = (np.asarray(present.any(axis=0), dtype=np.bool_) if series
                                  else np.zeros(steps, dtype=np.bool_))
        seen = np.concatenate(([0], np.cumsum(any_present))).astype(np.int64).tolist()
        return cls(values, increments, last_before, cum, any_present, seen)

    @property
    def steps(self) -> int:
        return len(self.cum) - 1

    def corrections(self, primed: int) -> dict[int, float]:
        """Step -> adjustment for a reader primed at ``primed`` (series new to it)."""
        out: dict[int, float] = {}
        series, steps = self.values.shape
        if primed + 1 >= steps:
            return out
        for row in range(series):
            if self.last_before[row, primed] == primed or self.last_before[row, primed] < 0:
                continue  # present at priming (state known), or never seen before: no change
            later = np.flatnonzero(self.last_before[row, primed + 1:] > primed)
            if later.size == 0:
                continue
            q = primed + 1 + int(later[0])
            fix = float(self.values[row, q] - self.increments[row, q])
            if fix:
                out[q] = out.get(q, 0.0) + fix
        return out

    def between(self, after: int, upto: int, fixes: dict[int, float]) -> float:
        """Σ increments over steps (after, upto] for a reader with these corrections."""
        total = self.cum[upto + 1] - self.cum[after + 1]
        if fixes:
            total += sum(v for k, v in fixes.items() if after < k <= upto)
        return total

    def advanced(self, after: int, upto: int) -> bool:
        """Whether any series was present at a step in (after, upto]."""
        return self.seen[upto + 1] > self.seen[after + 1]


def rows(values: FloatArray, keep: list[int]) -> FloatArray:
    """A sub-side: the rows ``keep`` (the errors picked out of total, one bucket)."""
    if not keep:
        return np.full((0, values.shape[1]), np.nan)
    return values[np.asarray(keep, dtype=np.int64)]
