"""Power: how soon could the test abort on the smallest violation worth catching?

Before any fault the plan answers: with the traffic the baseline saw (n_ref requests per
tick), if the error ratio jumped to ψ·p0 (ψ = ``min_effect``, default 2) and stayed
there, after how many ticks would the evidence typically reach the threshold? When that
is more than half the fault window, the user is warned: a run that "held" would then say
little. The same numbers are the floors the benchmark measures delays against:

- the tick floor ⌈log(1/α) / log(1 + Y_MAX·(ψ − 1))⌉: no per-tick bet can grow faster
  than r/p0 = ψ a tick (STATS.md), and ours is capped at Y_MAX; 5 ticks at ψ = 2, α = 5 %;
- the information floor ⌈log(1/α) / g*⌉ with g* = max_y E log(1 + y(X/λ − 1)), X ~
  Poisson(ψλ), λ = n·p0: what the best constant bet, known in advance, grows a tick
  (at 10 req/s and 15 s ticks: 8 ticks at ψ = 2; at 1 req/s: 54).

The default test bets about that optimum (its prior is ψ = min_effect), so the power
check is the larger of the two floors; fast mode's count tilt is ½-weighted, so its
estimate uses log(2/α) and the tilt's expected growth under the dispersion bound.
Plain math and numpy only: ``gameday plan`` runs this without importing scipy, and
without numpy unless a tick expects more than ``kelly.EXACT_UP_TO`` errors (``negbin``,
numpy's, is imported for fast mode only).
"""

from __future__ import annotations

import math
from typing import Literal

from runner.stats import kelly


def tick_floor(psi: float, alpha: float) -> int | None:
    """⌈log(1/α)/log(1 + Y_MAX(ψ − 1))⌉; None when ψ ≤ 1 (nothing to detect)."""
    if psi <= 1.0:
        return None
    return math.ceil(math.log(1.0 / alpha) / math.log1p(kelly.Y_MAX * (psi - 1.0)))


def default_growth(lam: float, psi: float) -> float:
    """Expected log factor a tick of the best constant bet (the default test's target)."""
    return kelly.growth(lam, psi, kelly.optimal(lam, psi)) if lam > 0 and psi > 1 else 0.0


def information_floor(n: float, p0: float, psi: float, alpha: float,
                      phi: float = 1.0) -> int | None:
    """⌈log(1/α)/g*⌉ ticks at n requests a tick (λ shrunk by a dispersion φ); None: never."""
    g = default_growth(n * p0 / max(phi, 1.0), psi)
    return math.ceil(math.log(1.0 / alpha) / g) if g > 0 else None


def fast_growth(n: float, p0: float, psi: float, phi: float) -> float:
    """Expected log factor a tick of fast mode's count tilt, mean ψ·p0·n, bound φ (> 1)."""
    from runner.stats import negbin

    x = min((psi - 1.0) / phi, negbin.X_CAP / (phi - 1.0))
    return math.log1p(x) * psi * p0 * n + p0 * n * math.log1p(-(phi - 1.0) * x) / (phi - 1.0)


def earliest_abort_ticks(
    mode: Literal["default", "fast"],
    n_ref: float | None,
    p0: float,
    *,
    psi: float,
    alpha: float,
    phi: float | None = None,
    block: int = 1,
) -> int | None:
    """Typical ticks to abort on a sustained ψ·p0 at n_ref requests a tick; None = never.

    ``phi`` is the dispersion of the counts (fast mode: its bound); ``block`` the number
    of ticks per bet when the plan bets on blocks (the evidence then comes per block).
    """
    if n_ref is None or n_ref <= 0 or psi <= 1.0 or psi * p0 > 1.0:
        return None
    n = n_ref * block
    disp = phi if phi is not None and phi > 1.0 else 1.0
    info = information_floor(n, p0, psi, alpha, disp)
    floor = tick_floor(psi, alpha)
    if info is None or floor is None:
        return None
    ticks = max(info, floor)
    if mode == "fast" and phi is not None and phi > 1.0:
        both = math.log(2.0 / alpha)
        g = fast_growth(n, p0, psi, phi)
        hedged = [math.ceil(both / g)] if g > 0 else []
        gd = default_growth(n * p0 / disp, psi)
        hedged += [max(floor, math.ceil(both / gd))] if gd > 0 else []
        ticks = min(hedged) if hedged else ticks
    return max(1, ticks) * block


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
