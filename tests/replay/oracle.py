"""An offline simulation of the same stream: the statistics facade on the generated truth.

For each window of a replay's layout, calibrate on the baseline ticks' true counts and
step the e-processes through the window's true counts, as the sequential test is
specified (runner.stats.monitor), without Prometheus, the history source or the engine.
It is the independent check of what replay reads and decides.
"""

from __future__ import annotations

import dataclasses

from runner.engine import probes as probe_mod
from runner.model import experiment as model
from runner.replay import windows
from runner.stats import monitor as stats
from tests.replay import streams


@dataclasses.dataclass(frozen=True)
class Expected:
    prime: int
    started: bool
    abort_tick: int | None
    sup_log_e: float


def _obs(truth: streams.Truth, steady: model.SteadyState, k: int) -> dict[str, stats.Obs]:
    out = {}
    for probe in steady.stat_probes:
        bad = truth.errors[k] if isinstance(probe, model.RatioProbe) else truth.slow[k]
        out[probe.name] = stats.Obs(float(truth.n[k]), float(bad))
    return out


def window(truth: streams.Truth, exp: model.Experiment, layout: windows.Layout, prime: int,
           *, threshold_log: float | None = None) -> Expected:
    steady = exp.steady_state
    base = range(prime + 1, prime + layout.baseline + 1)
    history: dict[str, list[stats.Obs | None]] = {p.name: [] for p in steady.stat_probes}
    for k in base:
        for name, o in _obs(truth, steady, k).items():
            history[name].append(o)
    plan = stats.calibrate(probe_mod.stat_specs(steady), steady.alpha, history,
                           min_effect=steady.min_effect,
                           window_ticks=max(1, int(exp.duration // exp.prometheus.tick)))
    if not plan.baseline_holds:
        return Expected(prime, False, None, 0.0)
    if threshold_log is not None:
        plan = dataclasses.replace(plan, threshold_log=max(plan.threshold_log, threshold_log))
    state = stats.start(plan)
    sup = float("-inf")
    for t, k in enumerate(range(prime + layout.baseline + 1, prime + layout.span + 1), 1):
        state, step = stats.step(plan, state, _obs(truth, steady, k))
        sup = max(sup, step.log_e)
        if step.reject:
            return Expected(prime, True, t, sup)
    return Expected(prime, True, None, sup)
