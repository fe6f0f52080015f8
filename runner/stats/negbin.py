"""Fast mode (opt-in): a within-tick count likelihood ratio, hedged by the default test.

The default test sees one ratio per tick, so it needs ≥ 5 ticks at ψ = 2 however much
traffic a tick holds. Fast mode also uses the counts. Its assumption (earned on the
baseline by ``dispersion``, refused otherwise): given the past and n_t, a tick's error
count is at most as dispersed as a negative binomial with mean p0·n_t and variance
φ_t·p0·n_t, where the bound grows with the tick's traffic,

    φ_t = 1 + (φ_b − 1)·max(1, n_t / n̄_b)      (φ_b: bound at the baseline's traffic n̄_b).

Beta-binomial dispersion is 1 + (n − 1)·ICC: it grows linearly with requests per tick,
so a φ measured at baseline traffic does not bound it after a traffic jump (held-out
checks: ×3 to ×10 gave 5–30 % false aborts). Any a + b·n law with a ≥ 1 that φ_b bounds
at n̄_b is bounded by φ_t at every n.

Under that assumption the tilt exp(θ_t·e_t − log MGF_NB(θ_t)) has conditional mean ≤ 1:

    log K_t = θ_t·e_t + (p0·n_t/(φ_t−1))·log(1 − (φ_t−1)·x_t),   θ_t = log(1 + x_t),
    x_t = min((ψ̂_t − 1)/φ_t, 0.9/(φ_t − 1))      (0 when ψ̂_t ≤ 1),

with ψ̂_t the default test's rate estimate before tick t (prior = ``min_effect``), so the
tilt is a predictable plug-in likelihood ratio: no mixture over ψ, no log|Ψ| to pay.
The cap keeps 1 − (φ−1)x ≥ 0.1, so every log is finite.

Decision: the fast-mode e-process is ½·K + ½·E_default. The average is an e-process
(under fast mode's assumption), costs log 2 against either part (under a tick at ψ = 2),
and so fast mode is never much slower than the default even where the count model buys
nothing (strong overdispersion, low traffic). It does *not* make fast mode valid where
its assumption fails: that is what the baseline checks are for.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from runner.stats import betting

FloatArray = npt.NDArray[np.float64]

#: Weight of the count likelihood ratio in fast mode (the rest is the default test).
TILT_WEIGHT = 0.5
#: The cap on x: 1 − (φ − 1)·x ≥ 1 − X_CAP.
X_CAP = 0.9


@dataclasses.dataclass(frozen=True)
class FastParams:
    """The default test's parameters plus the dispersion bound φ_b at traffic n̄_b."""

    bet: betting.BetParams
    phi_bound: float
    n_bound: float

    def phi_at(self, n: float) -> float:
        if self.n_bound <= 0 or n <= self.n_bound:
            return self.phi_bound
        return 1.0 + (self.phi_bound - 1.0) * (n / self.n_bound)


def log_tilt(n: float, e: float, p0: float, phi: float, psi_hat: float) -> float:
    """One tick's log K for plug-in ψ̂ under the bound φ (> 1). 0 when ψ̂ ≤ 1."""
    if not psi_hat > 1.0:
        return 0.0
    x = min((psi_hat - 1.0) / phi, X_CAP / (phi - 1.0))
    return math.log1p(x) * e + p0 * n * math.log1p(-(phi - 1.0) * x) / (phi - 1.0)


_LOG_W = math.log(TILT_WEIGHT)
_LOG_1W = math.log(1.0 - TILT_WEIGHT)


def _hedged(log_k: float, log_bet: float) -> float:
    a, b = _LOG_W + log_k, _LOG_1W + log_bet
    top = a if a > b else b
    return top + math.log1p(math.exp(-abs(a - b)))


@dataclasses.dataclass(frozen=True)
class FastState:
    """log K of the count tilt and the default test it is hedged with (sharing ψ̂);
    ``log_e`` = log(½K + ½E_default)."""

    log_k: float
    bet: betting.BetState
    log_e: float = 0.0


def start(params: FastParams) -> FastState:
    return FastState(log_k=0.0, bet=betting.start(params.bet))


def update(params: FastParams, state: FastState, n: float, e: float) -> tuple[FastState, float]:
    """One tick: the new state and the increment of log E. n ≤ 0 changes nothing."""
    if not n > 0:
        return state, 0.0
    e_c = min(max(e, 0.0), n)
    psi_hat = state.bet.rate() / params.bet.p0
    k = log_tilt(n, e_c, params.bet.p0, params.phi_at(n), psi_hat)
    bet, _ = betting.update(params.bet, state.bet, n, e_c)
    log_k = state.log_k + k
    log_e = _hedged(log_k, bet.log_e)
    return FastState(log_k=log_k, bet=bet, log_e=log_e), log_e - state.log_e


def log_e_paths(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    p0: npt.ArrayLike,
    phi_bound: npt.ArrayLike,
    n_bound: npt.ArrayLike,
    *,
    psi_prior: float = 2.0,
    phi: npt.ArrayLike = 1.0,
    n_disp: npt.ArrayLike | None = None,
) -> FloatArray:
    """log E of fast mode after each tick for many runs (parameters: scalars or (runs,))."""
    n_a = np.atleast_2d(np.asarray(n, dtype=np.float64))
    e_a = np.clip(np.atleast_2d(np.asarray(e, dtype=np.float64)), 0.0, np.maximum(n_a, 0.0))
    runs = n_a.shape[0]
    walked = betting.walk(n_a, e_a, p0, psi_prior=psi_prior, phi=phi, n_disp=n_disp)
    col = np.ones((runs, 1))
    p0_a = np.asarray(p0, dtype=np.float64).reshape(-1, 1) * col
    phib = np.asarray(phi_bound, dtype=np.float64).reshape(-1, 1) * col
    nb = np.asarray(n_bound, dtype=np.float64).reshape(-1, 1) * col
    if np.any(phib <= 1.0):
        raise ValueError("the dispersion bound phi must be > 1")
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(nb > 0, n_a / nb, 1.0)
    phi_t = 1.0 + (phib - 1.0) * np.maximum(scale, 1.0)
    psi = walked.psi_hat
    x = np.where(psi > 1.0, np.minimum((psi - 1.0) / phi_t, X_CAP / (phi_t - 1.0)), 0.0)
    inc = np.log1p(x) * e_a + p0_a * n_a * np.log1p(-(phi_t - 1.0) * x) / (phi_t - 1.0)
    inc = np.where(n_a > 0, inc, 0.0)
    log_k = np.cumsum(inc, axis=-1)
    return np.asarray(np.logaddexp(math.log(TILT_WEIGHT) + log_k,
                                   math.log(1.0 - TILT_WEIGHT) + walked.log_e),
                      dtype=np.float64)
