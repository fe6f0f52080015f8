"""Fast mode (opt-in): a negative-binomial tilt on error counts, with baseline checks.

The default betting test looks at one ratio per tick, so at high traffic it needs a few
ticks whatever the evidence. Fast mode uses the counts themselves: assuming the errors of
a tick are at most as dispersed as a negative binomial with mean p0·n and variance φ·p0·n,

    log K_t(ψ) = Σ_s [ θ_ψ·e_s + (p0·n_s/(φ−1))·log(1 − (φ−1)·x_ψ) ],
    x_ψ = min((ψ−1)/φ, 0.9/(φ−1)),  θ_ψ = log(1 + x_ψ),  ψ ∈ Ψ = {1.25, 1.5, 2, 3, 5}

is exp(θ·e − log MGF_NB(θ)), an e-process whose evidence grows with the number of
requests instead of the number of ticks. The price is an assumption, so fast mode is
earned on the baseline, not granted:

- φ = max(1.5·max(1, φ̂), φ̂_U) with φ̂ the Pearson dispersion of e_s given n_s (a 50 %
  margin, STATS.md) and φ̂_U = φ̂·(B−1)/χ²_{B−1}(0.05) its upper 95 % bound. The bound is
  our addition: on skewed overdispersion (Beta rates, ICC 0.05, 1 500 requests a tick,
  B = 20) 1.5·φ̂ alone gave 5.4 % false aborts at α = 5 % among the runs the checks
  accepted, because a short baseline often misses the bursts; with the bound, 3.6 %;
- refused when the baseline has fewer than 10 ticks with traffic or fewer than 10 errors
  (φ̂ cannot be measured), when the lag-1 autocorrelation of r_s exceeds 0.3 (errors
  come in runs across ticks, which no per-tick dispersion bound covers), or when φ̂ of the
  baseline's two halves differ (two-sided F-test, p < 0.05);
- a refusal falls back to the default test and states its reason.

The cap x_ψ ≤ 0.9/(φ−1) keeps 1 − (φ−1)x ≥ 0.1, so every log is finite. Functions are
vectorised over leading axes, like ``betting``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from runner.stats import combine

FloatArray = npt.NDArray[np.float64]

#: Alternatives of the mixture, as multiples of p0 (STATS.md).
PSIS: tuple[float, ...] = (1.25, 1.5, 2.0, 3.0, 5.0)
PHI_MARGIN = 1.5
MIN_TICKS = 10
MIN_ERRORS = 10
MAX_ACF1 = 0.3
HALVES_P = 0.05
PHI_BOUND_LEVEL = 0.05


def tilts(phi: npt.ArrayLike, psis: tuple[float, ...] = PSIS) -> tuple[FloatArray, FloatArray]:
    """(θ_ψ, k_ψ) with log factor = θ·e + p0·n·k; shapes ``shape(phi) + (len(psis),)``."""
    phi_a = np.asarray(phi, dtype=np.float64)[..., np.newaxis]
    if np.any(phi_a <= 1.0):
        raise ValueError("the dispersion bound phi must be > 1")
    psi = np.asarray(psis, dtype=np.float64)
    x = np.minimum((psi - 1.0) / phi_a, 0.9 / (phi_a - 1.0))
    theta = np.log1p(x)
    k = np.log1p(-(phi_a - 1.0) * x) / (phi_a - 1.0)
    return np.asarray(theta, dtype=np.float64), np.asarray(k, dtype=np.float64)


def log_factors(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    p0: npt.ArrayLike,
    phi: npt.ArrayLike,
    psis: tuple[float, ...] = PSIS,
) -> FloatArray:
    """log factor per tick and ψ: shape ``broadcast(n, e, p0, phi) + (len(psis),)``."""
    n_a = np.maximum(np.asarray(n, dtype=np.float64), 0.0)
    e_a = np.clip(np.asarray(e, dtype=np.float64), 0.0, n_a)
    p0_a = np.asarray(p0, dtype=np.float64)
    theta, k = tilts(phi, psis)
    out = theta * e_a[..., np.newaxis] + (p0_a * n_a)[..., np.newaxis] * k
    return np.asarray(out, dtype=np.float64)


def log_e_paths(
    n: npt.ArrayLike,
    e: npt.ArrayLike,
    p0: npt.ArrayLike,
    phi: npt.ArrayLike,
    psis: tuple[float, ...] = PSIS,
) -> FloatArray:
    """log E after each tick (last axis = ticks) for many runs.

    ``p0`` and ``phi`` broadcast against ``n`` (pass shape (runs, 1) for per-run values).
    """
    n_a = np.maximum(np.asarray(n, dtype=np.float64), 0.0)
    e_a = np.clip(np.asarray(e, dtype=np.float64), 0.0, n_a)
    theta, k = tilts(phi, psis)
    cum_e = np.cumsum(e_a, axis=-1)[..., np.newaxis]
    cum_pn = np.cumsum(np.asarray(p0, dtype=np.float64) * n_a, axis=-1)[..., np.newaxis]
    return combine.log_mean_exp(theta * cum_e + cum_pn * k)


@dataclasses.dataclass(frozen=True)
class FastState:
    """Log wealth for each ψ, in the order of ``psis``."""

    log_k: tuple[float, ...]

    @property
    def log_e(self) -> float:
        return float(combine.log_mean_exp(np.asarray(self.log_k)))


def start(psis: tuple[float, ...] = PSIS) -> FastState:
    return FastState(log_k=tuple(0.0 for _ in psis))


def update(
    state: FastState, n: float, e: float, p0: float, phi: float, *,
    psis: tuple[float, ...] = PSIS,
) -> tuple[FastState, float]:
    """One tick: the new state and the increment of log E."""
    logs = log_factors(n, e, p0, phi, psis)
    new = FastState(log_k=tuple(float(a + b) for a, b in zip(state.log_k, logs, strict=True)))
    return new, new.log_e - state.log_e


# --- baseline checks (vectorised over runs; last axis = baseline ticks) -----------------


def pearson_dispersion(n: npt.ArrayLike, e: npt.ArrayLike) -> FloatArray:
    """Pearson φ̂ = Σ (e − r̄n)² / (r̄(1−r̄)n) / (B−1) over ticks with n > 0; NaN if undefined."""
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    has = n_a > 0
    ticks = has.sum(axis=-1)
    rbar = e_a.sum(axis=-1, where=has) / np.maximum(n_a.sum(axis=-1, where=has), 1e-300)
    var = (rbar * (1.0 - rbar))[..., np.newaxis] * np.where(has, n_a, 1.0)
    resid = e_a - rbar[..., np.newaxis] * n_a
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.sum(np.where(has, resid**2 / var, 0.0), axis=-1)
        phi = chi2 / (ticks - 1)
    ok = (ticks >= 2) & (rbar > 0) & (rbar < 1)
    return np.asarray(np.where(ok, phi, np.nan), dtype=np.float64)


def acf1(n: npt.ArrayLike, e: npt.ArrayLike) -> FloatArray:
    """Lag-1 autocorrelation of r_s over ticks with n > 0 (a missing tick counts as the mean)."""
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    has = n_a > 0
    r = np.where(has, e_a / np.where(has, n_a, 1.0), 0.0)
    mean = r.sum(axis=-1, where=has) / np.maximum(has.sum(axis=-1), 1)
    dev = np.where(has, r - mean[..., np.newaxis], 0.0)
    den = np.sum(dev**2, axis=-1)
    num = np.sum(dev[..., 1:] * dev[..., :-1], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.asarray(np.where(den > 0, out, np.nan), dtype=np.float64)


def halves_p_value(n: npt.ArrayLike, e: npt.ArrayLike) -> FloatArray:
    """Two-sided F-test p-value that φ̂ is the same in the baseline's first and second half."""
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    half = n_a.shape[-1] // 2
    first = pearson_dispersion(n_a[..., :half], e_a[..., :half])
    second = pearson_dispersion(n_a[..., half:], e_a[..., half:])
    df1 = np.maximum((n_a[..., :half] > 0).sum(axis=-1) - 1, 1)
    df2 = np.maximum((n_a[..., half:] > 0).sum(axis=-1) - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = first / second
    cdf = sps.f.cdf(ratio, df1, df2)
    p = np.minimum(1.0, 2.0 * np.minimum(cdf, 1.0 - cdf))
    return np.asarray(np.where(np.isfinite(ratio), p, np.nan), dtype=np.float64)


def phi_bound(phi_hat: npt.ArrayLike, ticks: npt.ArrayLike) -> FloatArray:
    """The dispersion bound φ used by fast mode: max(1.5·max(1, φ̂), φ̂·(B−1)/χ²_{B−1}(0.05))."""
    ph = np.nan_to_num(np.asarray(phi_hat, dtype=np.float64), nan=1.0)
    df = np.maximum(np.asarray(ticks, dtype=np.float64) - 1.0, 1.0)
    upper = ph * df / sps.chi2.ppf(PHI_BOUND_LEVEL, df)
    return np.asarray(np.maximum(PHI_MARGIN * np.maximum(1.0, ph), upper), dtype=np.float64)


def accepts(n: npt.ArrayLike, e: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """(φ used, whether fast mode is allowed) per run, from baseline arrays."""
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    phi_hat = pearson_dispersion(n_a, e_a)
    a1 = acf1(n_a, e_a)
    p_halves = halves_p_value(n_a, e_a)
    ticks = (n_a > 0).sum(axis=-1)
    errors = np.where(n_a > 0, e_a, 0.0).sum(axis=-1)
    ok = (
        (ticks >= MIN_TICKS)
        & (errors >= MIN_ERRORS)
        & np.isfinite(phi_hat)
        & (np.nan_to_num(a1, nan=1.0) <= MAX_ACF1)
        & (np.nan_to_num(p_halves, nan=0.0) >= HALVES_P)
    )
    return phi_bound(phi_hat, ticks), np.asarray(ok, dtype=np.bool_)


def fallback_reason(
    ticks: int, errors: float, phi_hat: float | None, acf: float | None, p_halves: float | None
) -> str | None:
    """The human reason fast mode is refused for one probe's baseline, or None if allowed."""
    if ticks < MIN_TICKS:
        return (f"fast mode needs at least {MIN_TICKS} baseline ticks with traffic "
                f"(got {ticks}); using the default test")
    if errors < MIN_ERRORS or phi_hat is None or not math.isfinite(phi_hat):
        return (f"fast mode needs at least {MIN_ERRORS} errors in the baseline to measure "
                f"their dispersion (got {errors:g}); using the default test")
    if acf is None or not math.isfinite(acf) or acf > MAX_ACF1:
        shown = "undefined" if acf is None or not math.isfinite(acf) else f"{acf:.2f}"
        return (f"the baseline error ratio is autocorrelated (lag-1 autocorrelation {shown}, "
                f"limit {MAX_ACF1}): errors come in runs across ticks, which the "
                "negative-binomial bound does not cover; using the default test")
    if p_halves is None or not math.isfinite(p_halves) or p_halves < HALVES_P:
        shown = "undefined" if p_halves is None or not math.isfinite(p_halves) else (
            f"F-test p = {p_halves:.3g}")
        return ("the dispersion of errors changed between the two halves of the baseline "
                f"({shown}); using the default test")
    return None
