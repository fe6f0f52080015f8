"""The default test: a betting e-process on the per-tick error ratio against an SLO p0.

H0: E[r_t | past, n_t] ≤ p0, where r_t = e_t / n_t is the error ratio of one tick.
Each tick and each bet fraction c in C = {0.9, 0.5, 0.2} the wealth K(c) is multiplied by

    1 + (c·w_t / p0)·(r_t − p0),        w_t = min(1, n_t / n_ref)

whose conditional expectation is ≤ 1 under H0, so K(c) and their mean E are e-processes
(Ville: P(sup E ≥ 1/α) ≤ α). Decisions behind the shape:

- Only the conditional *mean* of r_t enters, so the test stays valid however errors
  cluster inside a tick (overdispersion, retries, one bad pod): no variance model.
- c < 1 and r_t ≥ 0 keep every factor ≥ 1 − c·w ≥ 0.1 > 0: the logs are always finite.
- w_t damps ticks with less traffic than usual (n_ref = median baseline traffic), whose
  ratios are noisy; w_t depends only on n_t, so validity given n_t is kept.
- A tick with n_t = 0 (or no data) is skipped: it is neither for nor against H0.
- The mixture over C hedges the bet size (aggressive bets win on strong, steady
  violations; small bets on weak or noisy ones) at a fixed cost of log|C| in the
  threshold.

The array functions are vectorised over leading axes so the benchmark and the CI grid
simulate thousands of runs at once; ``update`` is the same arithmetic in plain ``math``
for the engine's one tick of one probe (numpy on scalars costs ~100× more), and a test
checks that both walk the same path.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import numpy.typing as npt

from runner.stats import combine

FloatArray = npt.NDArray[np.float64]

#: Bet fractions (STATS.md). The largest, 0.9, fixes the fastest possible abort.
BETS: tuple[float, ...] = (0.9, 0.5, 0.2)


def log_factors(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    p0: npt.ArrayLike,
    n_ref: npt.ArrayLike | None = None,
    bets: tuple[float, ...] = BETS,
) -> FloatArray:
    """log of each tick's factor per bet: shape ``broadcast(n, e, p0, n_ref) + (len(bets),)``.

    Ticks with n ≤ 0 give 0 (skipped). The ratio is clipped into [0, 1] so a counter
    glitch (e > n, e < 0) can neither make a factor negative nor explode it.
    """
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    p0_a = np.asarray(p0, dtype=np.float64)
    has = n_a > 0
    safe_n = np.where(has, n_a, 1.0)
    r = np.clip(e_a / safe_n, 0.0, 1.0)
    if n_ref is None:
        w = np.ones_like(safe_n)
    else:
        ref = np.asarray(n_ref, dtype=np.float64)
        w = np.where(ref > 0, np.minimum(1.0, safe_n / np.where(ref > 0, ref, 1.0)), 1.0)
    c = np.asarray(bets, dtype=np.float64)
    step = (w / p0_a * (r - p0_a))[..., np.newaxis] * c
    out = np.log1p(step)
    return np.asarray(np.where(has[..., np.newaxis], out, 0.0), dtype=np.float64)


def log_e_paths(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    p0: npt.ArrayLike,
    n_ref: npt.ArrayLike | None = None,
    bets: tuple[float, ...] = BETS,
) -> FloatArray:
    """log E after each tick along the last axis (ticks), for many runs at once."""
    logs = log_factors(n, e, p0, n_ref, bets)
    return combine.log_mean_exp(np.cumsum(logs, axis=-2), axis=-1)


@dataclasses.dataclass(frozen=True)
class BettingState:
    """Log wealth of each bet, in the order of ``bets``."""

    log_k: tuple[float, ...]

    @functools.cached_property
    def log_e(self) -> float:
        """log of the mixture E = mean over bets of K(c)."""
        return combine.log_mean_exp_of(self.log_k)


def start(bets: tuple[float, ...] = BETS) -> BettingState:
    """Fresh e-process: every wealth at 1."""
    return BettingState(log_k=tuple(0.0 for _ in bets))


def update(
    state: BettingState,
    n: float,
    e: float,
    p0: float,
    n_ref: float | None,
    *,
    bets: tuple[float, ...] = BETS,
) -> tuple[BettingState, float]:
    """One tick: the new state and the increment of log E (log E_t − log E_{t−1}).

    Plain-math twin of ``log_factors`` (same clipping, damping and skipping).
    """
    if not n > 0:
        return state, 0.0
    r = min(1.0, max(0.0, e / n))
    w = min(1.0, n / n_ref) if n_ref is not None and n_ref > 0 else 1.0
    step = w / p0 * (r - p0)
    new = BettingState(log_k=tuple(k + math.log1p(c * step)
                                   for k, c in zip(state.log_k, bets, strict=True)))
    return new, new.log_e - state.log_e


def t_min(psi: float, alpha: float, bets: tuple[float, ...] = BETS) -> int | None:
    """STATS.md's fastest possible abort for a sustained r = ψ·p0, in ticks.

    ⌈log(|C|/α) / log(1 + c_max·(ψ−1))⌉; None when ψ ≤ 1 (nothing to detect).
    """
    if psi <= 1:
        return None
    return math.ceil(math.log(len(bets) / alpha) / math.log1p(max(bets) * (psi - 1.0)))
