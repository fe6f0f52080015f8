"""Fast mode's admission: dispersion and autocorrelation of the baseline, and φ.

Fast mode assumes a tick's error count is at most as dispersed as a negative binomial
with variance φ·p0·n. That is an assumption about the service, so it is earned on the
baseline (B ticks with traffic), not granted. Fast mode is refused, with a stated reason,
when

- B < 10 or the baseline has fewer than 10 errors (φ̂ cannot be measured);
- the lag-1 autocorrelation of r_s exceeds 0.3 (errors come in runs across ticks, which
  no per-tick dispersion bound covers);
- φ̂ differs between the baseline's two halves (two-sided F-test, p < 0.05);
- one tick carries a Bonferroni-outlier share of the χ² sum (a burst inside a tick);
- the bound φ exceeds MAX_PHI, or a tick holds fewer than MIN_NULL_ERRORS null errors
  (p0·n̄_b/φ): there the count tilt cannot beat the default test.

When granted, φ = max(1.5·max(1, φ̂), φ̂_U): φ̂ is the Pearson dispersion of e_s given
n_s, 1.5 the margin of STATS.md, and φ̂_U = φ̂·(B−1)/χ²_{B−1}(0.05) its upper 95 % bound.
The bound is our addition: on skewed overdispersion (Beta rates, ICC 0.05, 1 500 requests
a tick, B = 20), 1.5·φ̂ alone gave 5.4 % false aborts at α = 5 % among the runs these
checks accepted, because a short baseline often misses the bursts; with the bound, 3.6 %.

Everything is vectorised over leading axes (last axis = baseline ticks), so the CI grid
admits or refuses thousands of simulated runs with the code the plan uses.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PHI_MARGIN = 1.5
PHI_BOUND_LEVEL = 0.05
MIN_TICKS = 10
MIN_ERRORS = 10
MAX_ACF1 = 0.3
HALVES_P = 0.05
#: A tick whose χ² term is a Bonferroni outlier at this level is a burst (fast mode refused).
BURST_LEVEL = 0.01
#: Above this dispersion bound the count tilt adds nothing over the default test.
MAX_PHI = 8.0
#: Nor below this many null errors a tick (p0·n̄_b/φ_b): at 10 req/s and 15 s ticks fast
#: mode was slower than the default (median 9 ticks against 8) and, among the baselines
#: the gate let through on ICC 0.05 data, gave 4.6 % false aborts out of 5 611.
MIN_NULL_ERRORS = 5.0


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
    from scipy import special  # lazy: importing scipy costs ~0.5 s the plan command must not pay

    cdf = special.fdtr(df1, df2, ratio)
    p = np.minimum(1.0, 2.0 * np.minimum(cdf, 1.0 - cdf))
    return np.asarray(np.where(np.isfinite(ratio), p, np.nan), dtype=np.float64)


def phi_bound(phi_hat: npt.ArrayLike, ticks: npt.ArrayLike) -> FloatArray:
    """The dispersion bound φ used by fast mode: max(1.5·max(1, φ̂), φ̂·(B−1)/χ²_{B−1}(0.05))."""
    from scipy import special  # lazy, as above

    ph = np.nan_to_num(np.asarray(phi_hat, dtype=np.float64), nan=1.0)
    df = np.maximum(np.asarray(ticks, dtype=np.float64) - 1.0, 1.0)
    upper = ph * df / special.chdtri(df, 1.0 - PHI_BOUND_LEVEL)
    return np.asarray(np.maximum(PHI_MARGIN * np.maximum(1.0, ph), upper), dtype=np.float64)


def largest_share(n: npt.ArrayLike, e: npt.ArrayLike) -> FloatArray:
    """The largest single tick's share of the Pearson χ² sum (a burst inside one tick)."""
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    has = n_a > 0
    rbar = e_a.sum(axis=-1, where=has) / np.maximum(n_a.sum(axis=-1, where=has), 1e-300)
    var = (rbar * (1.0 - rbar))[..., np.newaxis] * np.where(has, n_a, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(has, (e_a - rbar[..., np.newaxis] * n_a) ** 2 / var, 0.0)
        share = terms.max(axis=-1) / terms.sum(axis=-1)
    return np.asarray(np.where(np.isfinite(share), share, np.nan), dtype=np.float64)


def max_share(ticks: npt.ArrayLike) -> FloatArray:
    """The largest share one tick may carry before it counts as a burst.

    The largest χ² term against the mean of the others is about F(1, B − 2) on steady
    ticks; a burst is a term above its 1 − BURST_LEVEL/B quantile (Bonferroni over the B
    ticks), i.e. a share above c/(c + B − 1). At B = 20 that is 46 %: a fixed 6/B refused
    two thirds of healthy binomial baselines in simulation.
    """
    from scipy import special  # lazy, as above

    b = np.maximum(np.asarray(ticks, dtype=np.float64), 3.0)
    c = special.fdtri(1.0, b - 2.0, 1.0 - BURST_LEVEL / b)
    return np.asarray(c / (c + b - 1.0), dtype=np.float64)


def mean_traffic(n: npt.ArrayLike) -> FloatArray:
    """n̄_b: the mean requests per tick over ticks with traffic (where φ_b was measured)."""
    n_a = np.asarray(n, dtype=np.float64)
    has = n_a > 0
    return np.asarray(n_a.sum(axis=-1, where=has) / np.maximum(has.sum(axis=-1), 1),
                      dtype=np.float64)


def accepts(n: npt.ArrayLike, e: npt.ArrayLike, flagged: npt.ArrayLike | None = None,
            p0: npt.ArrayLike | None = None) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """(φ_b used, whether fast mode is allowed) per run, from baseline arrays.

    ``flagged``: the dependence check's verdict per run (fast mode is refused then too);
    ``p0``: the SLO, for the "a tick holds enough null errors" check (skipped if None).
    """
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    phi_hat = pearson_dispersion(n_a, e_a)
    a1 = acf1(n_a, e_a)
    p_halves = halves_p_value(n_a, e_a)
    ticks = (n_a > 0).sum(axis=-1)
    errors = np.where(n_a > 0, e_a, 0.0).sum(axis=-1)
    bound = phi_bound(phi_hat, ticks)
    ok = (
        (ticks >= MIN_TICKS)
        & (errors >= MIN_ERRORS)
        & np.isfinite(phi_hat)
        & (np.nan_to_num(a1, nan=1.0) <= MAX_ACF1)
        & (np.nan_to_num(p_halves, nan=0.0) >= HALVES_P)
        & (np.nan_to_num(largest_share(n_a, e_a), nan=1.0) <= max_share(ticks))
        & (bound <= MAX_PHI)
    )
    if flagged is not None:
        ok = ok & ~np.asarray(flagged, dtype=np.bool_)
    if p0 is not None:
        ok = ok & (np.asarray(p0, dtype=np.float64) * mean_traffic(n_a) / bound
                   >= MIN_NULL_ERRORS)
    return bound, np.asarray(ok, dtype=np.bool_)


def fallback_reason(
    ticks: int, errors: float, phi_hat: float | None, acf: float | None, p_halves: float | None,
    share: float | None = None, bound: float | None = None, flagged: bool = False,
    null_errors: float | None = None,
) -> str | None:
    """The human reason fast mode is refused for one probe's baseline, or None if allowed."""
    if ticks < MIN_TICKS:
        return (f"fast mode needs at least {MIN_TICKS} baseline ticks with traffic "
                f"(got {ticks}); using the default test")
    if errors < MIN_ERRORS or phi_hat is None or not math.isfinite(phi_hat):
        return (f"fast mode needs at least {MIN_ERRORS} errors in the baseline to measure "
                f"their dispersion (got {errors:g}); using the default test")
    if flagged:
        return ("the baseline's errors cluster across ticks (see the dependence check), which "
                "no per-tick dispersion bound covers; using the default test")
    if acf is None or not math.isfinite(acf) or acf > MAX_ACF1:
        shown = "undefined" if acf is None or not math.isfinite(acf) else f"{acf:.2f}"
        return (f"the baseline error ratio is autocorrelated (lag-1 autocorrelation {shown}, "
                f"limit {MAX_ACF1}): errors come in runs across ticks, which the "
                "negative-binomial bound does not cover; using the default test")
    limit = float(max_share(ticks))
    if share is None or not math.isfinite(share) or share > limit:
        shown = "undefined" if share is None or not math.isfinite(share) else f"{share:.0%}"
        return (f"one baseline tick carries {shown} of the errors' dispersion (limit "
                f"{limit:.0%}): errors come in bursts inside ticks (pauses, timeouts), whose "
                "tail no negative-binomial bound measured on the baseline covers; using the "
                "default test")
    if p_halves is None or not math.isfinite(p_halves) or p_halves < HALVES_P:
        shown = "undefined" if p_halves is None or not math.isfinite(p_halves) else (
            f"F-test p = {p_halves:.3g}")
        return ("the dispersion of errors changed between the two halves of the baseline "
                f"({shown}); using the default test")
    if null_errors is not None and null_errors < MIN_NULL_ERRORS:
        return (f"a tick holds about {null_errors:.2g} null errors (p0 × traffic / dispersion "
                f"bound), fewer than {MIN_NULL_ERRORS:g}: the count likelihood ratio would "
                "not be faster than the default test here; using it")
    if bound is not None and bound > MAX_PHI:
        return (f"the errors are too dispersed for the count likelihood ratio to add evidence "
                f"(bound φ = {bound:.3g} > {MAX_PHI:g}); the default test is as fast; using it")
    return None
