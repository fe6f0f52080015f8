"""The history's per-tick increments are the live reader's, checked against ``deltas.advance``.

Random stepped streams (resets, gaps longer than the priming lookback, series that
appear late or vanish) are read two ways: by the live reader's own pure function,
tick by tick from a priming read, and by ``history_deltas.Side`` from any priming step.
They must agree exactly, for every priming step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.adapters.prometheus import deltas
from runner.adapters.prometheus import history_deltas as hd


def _streams(rng: np.random.Generator, series: int, steps: int) -> np.ndarray:
    values = np.cumsum(rng.poisson(5.0, size=(series, steps)), axis=1).astype(float)
    for row in range(series):
        for at in rng.integers(1, steps, size=2):  # counter resets
            values[row, at:] -= values[row, at - 1] - rng.integers(0, 3)
        gaps = rng.integers(0, steps, size=3)
        for g in gaps:  # absent for a while (missed scrapes, a series that vanished)
            values[row, g:g + rng.integers(1, 6)] = np.nan
    values[0, : steps // 3] = np.nan  # a series that appears late
    return values


def _live(values: np.ndarray, primed: int) -> list[tuple[float, bool]]:
    keys = [(("s", str(i)),) for i in range(values.shape[0])]

    def matrix(k: int) -> deltas.Matrix:
        return [(keys[i], [(float(k), float(values[i, k]))]) for i in range(values.shape[0])
                if not math.isnan(values[i, k])]

    state = deltas.advance({}, matrix(primed), primed=False).state
    out = []
    for k in range(primed + 1, values.shape[1]):
        step = deltas.advance(state, matrix(k), primed=True)
        state = step.state
        out.append((step.delta, step.advanced))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_history_increments_equal_the_live_readers_from_every_priming_step(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = _streams(rng, series=4, steps=60)
    side = hd.Side.of(values)
    for primed in range(0, 59):
        fixes = side.corrections(primed)
        live = _live(values, primed)
        ours = [(side.between(k - 1, k, fixes), side.advanced(k - 1, k))
                for k in range(primed + 1, values.shape[1])]
        assert [a for _, a in ours] == [a for _, a in live], primed
        assert np.allclose([d for d, _ in ours], [d for d, _ in live]), primed


def test_a_reader_that_skips_ticks_counts_what_it_skipped() -> None:
    values = np.array([[1.0, 3.0, 7.0, 8.0, 20.0]])
    side = hd.Side.of(values)
    assert side.between(0, 4, side.corrections(0)) == 19.0
