"""The CI grid of the statistics benchmark: false aborts of every shipped test stay ≤ α.

A small version of ``benchmarks/stats_bench.py`` (STATS.md protocol): 2 000 seeded runs
per cell, a 20-tick baseline then a 120-tick window, traffic 1/10/100/1000 requests a
second at 15 s ticks, the true error ratio at p0 (the boundary) and at p0/2. A cell fails
when the one-sided 99 % Clopper–Pearson upper bound of its false-abort rate exceeds α.

Each test claims only the generators its assumptions cover:
- default (betting): anything whose conditional mean per tick is ≤ p0, here binomial,
  Beta-overdispersed (ICC up to 0.05), latency buckets, and a diurnal rate peaking at
  0.75·p0;
- fast (negative-binomial tilt, default where its checks refuse): independent ticks,
  binomial or Beta-overdispersed, latency buckets;
- baseline comparison: independent ticks with mild overdispersion (ICC ≤ 0.01).
"""

from __future__ import annotations

import numpy as np
import pytest

from runner.stats import simulate

P0 = 0.01
ALPHA = 0.05
RUNS = 2000
TRAFFIC = (1, 10, 100, 1000)
TICK_SECONDS = 15.0

GRID: dict[str, tuple[simulate.Generator, tuple[str, ...], tuple[float, ...]]] = {
    "binomial": (simulate.Generator(), ("default", "fast", "baseline"), (1.0, 0.5)),
    "beta icc 0.001": (simulate.Generator("beta", icc=0.001), ("default", "fast", "baseline"),
                       (1.0, 0.5)),
    "beta icc 0.01": (simulate.Generator("beta", icc=0.01), ("default", "fast", "baseline"),
                      (1.0, 0.5)),
    "beta icc 0.05": (simulate.Generator("beta", icc=0.05), ("default", "fast"), (1.0, 0.5)),
    "latency at the bucket": (simulate.Generator("latency"), ("default", "fast", "baseline"),
                              (1.0, 0.5)),
    "latency, next bucket": (simulate.Generator("latency", bucket_ratio=0.5 / 0.3),
                             ("default", "fast"), (1.0,)),
    "diurnal below the slo": (simulate.Generator("diurnal"), ("default",), (0.5,)),
}


def _aborts(method: str, b: simulate.Batch) -> int:
    if method == "default":
        ticks = simulate.default_abort(b, P0, ALPHA)
    elif method == "fast":
        ticks = simulate.fast_abort(b, P0, ALPHA)[0]
    else:
        ticks = simulate.baseline_mode_abort(b, ALPHA)
    return int((ticks > 0).sum())


@pytest.mark.parametrize("name", list(GRID))
def test_false_aborts_stay_below_alpha_for_every_shipped_test_on(name: str) -> None:
    gen, methods, factors = GRID[name]
    rows = []
    failures = []
    for ti, rps in enumerate(TRAFFIC):
        for fi, factor in enumerate(factors):
            rng = np.random.default_rng([2024, ti, fi, list(GRID).index(name)])
            b = simulate.batch(rng, gen, p_base=factor * P0, p_window=factor * P0,
                               per_tick=rps * TICK_SECONDS, runs=RUNS, base_ticks=20,
                               window_ticks=120)
            for method in methods:
                k = _aborts(method, b)
                upper = simulate.clopper_pearson(k, RUNS, 0.99)[1]
                row = f"{method:8s} {rps:5d} req/s p={factor:g}·p0: {k}/{RUNS} (≤ {upper:.4f})"
                rows.append(row)
                if upper > ALPHA:
                    failures.append(row)
    assert not failures, "false-abort bound above α:\n" + "\n".join(rows)


def test_the_grid_can_fail_an_invalid_test() -> None:
    # The textbook SPRT assumes independent requests; on ICC 0.05 it must trip the grid.
    from runner.stats import sprt

    rng = np.random.default_rng(2025)
    b = simulate.batch(rng, simulate.Generator("beta", icc=0.05), p_base=P0, p_window=P0,
                       per_tick=1500.0, runs=RUNS, base_ticks=20, window_ticks=120)
    paths = sprt.log_lr_paths(b.n, b.e, P0, 2 * P0)
    k = int((simulate.first_crossing(paths, np.log(1 / ALPHA)) > 0).sum())
    assert simulate.clopper_pearson(k, RUNS, 0.99)[0] > ALPHA
