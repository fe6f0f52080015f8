"""Power check: how soon could the test abort on the smallest violation worth catching?

Before any fault the plan answers: with the traffic the baseline saw (n_ref requests per
tick), if the error ratio jumped to ψ·p0 (ψ = ``min_effect``, default 2) and stayed
there, after how many ticks would the evidence typically reach the threshold? When that
is more than half the fault window, the user is warned: a run that "held" would then say
little.

Decision: the estimate uses the *expected* log-growth per tick under binomial errors at
ψ·p0 (exact sums over the binomial law), not STATS.md's deterministic t_min, because at
low traffic a tick's ratio is 0 most of the time and the deterministic bound is far too
optimistic. The result is ⌈(log(1/α) + log|mixture| + log(1/part weight)) / g⌉
for the best single component g (fast mode has two parts, ½ each), so it is ≥ t_min and
close to the median delay on binomial data; clustered errors make real delays longer,
which the warning says.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from runner.stats import betting, negbin

FloatArray = npt.NDArray[np.float64]


def _binomial_support(n: int, p: float) -> tuple[FloatArray, FloatArray]:
    mean = n * p
    sd = math.sqrt(max(n * p * (1.0 - p), 1e-12))
    lo = max(0, math.floor(mean - 12.0 * sd))
    hi = min(n, math.ceil(mean + 12.0 * sd + 12.0))
    k = np.arange(lo, hi + 1, dtype=np.float64)
    # log pmf with math.lgamma: no scipy on the `gameday plan` path (its import costs ~0.5 s)
    head = math.lgamma(n + 1.0)
    lp, lq = math.log(p) if p > 0 else -math.inf, math.log1p(-p) if p < 1 else -math.inf
    logs = [head - math.lgamma(j + 1.0) - math.lgamma(n - j + 1.0)
            + (j * lp if j else 0.0) + ((n - j) * lq if n - j else 0.0) for j in range(lo, hi + 1)]
    top = max(logs)
    pmf = np.exp(np.asarray(logs) - top)
    return k, pmf / pmf.sum()


def default_growth(n: float, p0: float, psi: float, bets: tuple[float, ...] = betting.BETS,
                   ) -> tuple[float, ...]:
    """Expected log factor per tick of each bet, errors ~ Binomial(n, ψ·p0), w = 1."""
    trials = max(1, round(n))
    k, pmf = _binomial_support(trials, min(1.0, psi * p0))
    logs = betting.log_factors(np.full_like(k, trials), k, p0, None, bets)
    return tuple(float(x) for x in pmf @ logs)


def fast_growth(n: float, p0: float, psi: float, phi: float,
                psis: tuple[float, ...] = negbin.PSIS) -> tuple[float, ...]:
    """Expected log factor per tick of each ψ-component when the mean error count is ψ·p0·n."""
    theta, k = negbin.tilts(phi, psis)
    return tuple(float(x) for x in theta * min(1.0, psi * p0) * n + p0 * n * k)


def earliest_abort_ticks(
    mode: Literal["default", "fast"],
    n_ref: float | None,
    p0: float,
    *,
    psi: float,
    alpha: float,
    phi: float | None = None,
) -> int | None:
    """Typical ticks to abort on a sustained ψ·p0 at n_ref requests per tick; None = never."""
    if n_ref is None or n_ref <= 0 or psi <= 1.0 or psi * p0 > 1.0:
        return None
    # (growth per tick, extra threshold in nats) of each part of the test
    parts = [(max(default_growth(n_ref, p0, psi)), math.log(len(betting.BETS)))]
    if mode == "fast" and phi is not None:
        w = negbin.TILT_WEIGHT
        parts = [(parts[0][0], parts[0][1] - math.log(1.0 - w)),
                 (max(fast_growth(n_ref, p0, psi, phi)), math.log(len(negbin.PSIS)) - math.log(w))]
    ticks = [math.ceil((math.log(1.0 / alpha) + extra) / g) for g, extra in parts if g > 0]
    return max(1, min(ticks)) if ticks else None


def power_warning(
    name: str, ticks: int | None, *, window_ticks: int, psi: float, p0: float,
    n_ref: float | None,
) -> str | None:
    """A warning sentence when the test is too weak for the fault window, else None."""
    traffic = "no traffic" if not n_ref else f"about {n_ref:.4g} requests per tick"
    if ticks is None:
        if psi * p0 > 1.0:
            return (f"{name}: an error ratio of {psi:g}× p0 = {psi * p0:.3g} is impossible "
                    "(above 1), so this probe cannot detect the smallest violation worth "
                    "catching; lower min_effect or set an SLO")
        return (f"{name}: with {traffic} the test cannot detect an error ratio of "
                f"{psi:g}× p0 ({psi * p0:.3g}) within any window")
    if ticks > window_ticks / 2:
        return (f"{name}: with {traffic}, a sustained error ratio of {psi:g}× p0 "
                f"({psi * p0:.3g}) would typically abort after about {ticks} ticks, more "
                f"than half of the {window_ticks}-tick fault window (clustered errors make "
                "it slower still); a run that holds says little about such a violation. "
                "Lengthen the window or drive more traffic.")
    return None
