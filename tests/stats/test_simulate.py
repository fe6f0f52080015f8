"""The vectorised pipeline the CI grid and the benchmark use is the one the engine runs.

A few simulated game days go through ``simulate.run`` and, one tick at a time, through
the facade (``calibrate`` → ``start`` → ``step``): same gate, same remedy, same mode, same
abort tick. Otherwise the grid would certify a test that does not ship.
"""

from __future__ import annotations

import numpy as np
import pytest

from runner.stats import generators, simulate
from runner.stats.monitor import Obs, ProbeSpec, calibrate, start, step

P0 = 0.01
ALPHA = 0.05


def _facade(n: np.ndarray, e: np.ndarray, base: int, p0: float | None,
            mode: str) -> tuple[int, bool, int, bool]:
    series: list[Obs | None] = [Obs(a, b) for a, b in zip(n[:base], e[:base], strict=True)]
    plan = calibrate([ProbeSpec("x", p0, mode=mode)], ALPHA,  # type: ignore[arg-type]
                     {"x": series}, window_ticks=n.size - base)
    state = start(plan)
    abort = 0
    for k, (a, b) in enumerate(zip(n[base:], e[base:], strict=True), start=1):
        state, decision = step(plan, state, {"x": Obs(a, b)})
        if decision.reject:
            abort = k
            break
    probe = plan.probes[0]
    return abort, plan.baseline_holds, probe.block_ticks, probe.mode_used == "fast"


@pytest.mark.parametrize(("gen", "per_tick", "method"), [
    (generators.Gen(), 1500.0, "default"),
    (generators.Gen("bursty", icc=0.01), 150.0, "default"),
    (generators.Gen("storms"), 15_000.0, "default"),
    (generators.Gen(), 1500.0, "fast"),
    (generators.Gen("traffic", icc=0.0005, jump=3.0), 3000.0, "fast"),
    (generators.Gen("beta", icc=0.01), 1500.0, "baseline"),
], ids=lambda x: getattr(x, "name", str(x)))
def test_the_simulated_pipeline_and_the_facade_agree_run_by_run(
    gen: generators.Gen, per_tick: float, method: str
) -> None:
    rng = np.random.default_rng(7)
    n, e = generators.draw(rng, gen, runs=12, base=30, window=60, p_base=0.6 * P0,
                           p_window=1.6 * P0, per_tick=per_tick)
    p0 = None if method == "baseline" else P0
    out = simulate.run(n, e, base=30, p0=p0, alpha=ALPHA, method=method)  # type: ignore[arg-type]
    if gen.family == "storms":
        assert (out.block > 1).any() and (out.block == 1).any()  # both paths exercised
    if method == "fast":
        assert out.fast.any()
    for r in range(n.shape[0]):
        abort, holds, block, fast = _facade(n[r], e[r], 30, p0,
                                            "fast" if method == "fast" else "default")
        assert abort == out.abort[r], r
        assert holds == bool(out.passed[r]) and block == out.block[r] and fast == out.fast[r]
