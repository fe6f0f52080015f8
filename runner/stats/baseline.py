"""What the pre-fault baseline says: traffic, dispersion, and one upper bound per probe.

The baseline is looked at exactly once, at its end (a single look needs no sequential
correction). From the B ticks with traffic it estimates

- n_ref, the median requests per tick (the power check's traffic), n̄ the mean;
- φ̂, the Pearson dispersion (it sizes the bets), and fast mode's checks;
- U, a one-sided upper (1 − a) bound on the error ratio.

U is the larger of two valid bounds, so it is valid whichever assumption holds:
a t-bound on the ratio estimator, r̂ = Σe/Σn, U_t = r̂ + t_{B−1,1−a}·s/(√B·n̄) with
s² = Σ(e_s − r̂·n_s)²/(B−1) (with equal traffic per tick this is exactly STATS.md's
r̄ + t·sd(r)/√B; weighting by traffic keeps quiet ticks from dominating, and the
between-tick spread makes it honest under overdispersion), and the Clopper–Pearson
bound on the pooled counts (exact for binomial errors, and not zero when no error was
seen, where the t-bound collapses to 0).

Two uses: an SLO probe's steady state "holds" when U < p0 (at a = α); a probe without an
SLO gets p0* = min(p_SLO, (1 + m)·U) with m = 0.5 at a = α_b, its share of the split
α = α_b + α_f (union bound).
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import numpy.typing as npt

from runner.stats import dispersion

FloatArray = npt.NDArray[np.float64]

#: Share of α spent on the baseline bounds when a probe has no SLO (α_b = share·α).
ALPHA_SHARE = 0.2
#: Margin m on the baseline bound: p0* = (1 + m)·U.
MARGIN = 0.5


@dataclasses.dataclass(frozen=True)
class BaselineSummary:
    """One probe's baseline, reduced to the numbers the plan needs (None = not measurable)."""

    ticks: int
    total_n: float
    total_e: float
    ratio: float | None
    n_ref: float | None
    phi_hat: float | None
    acf1: float | None
    halves_p: float | None
    n_mean: float | None = None
    largest_share: float | None = None


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def summarise(n: npt.ArrayLike, e: npt.ArrayLike, *, fast_checks: bool = True
              ) -> BaselineSummary:
    """Reduce baseline ticks (missing ticks already dropped or n = 0) to a summary.

    ``fast_checks=False`` leaves out (None) the two numbers only fast mode's admission
    reads, ``halves_p`` and ``largest_share``: a default-mode probe never looks at them.
    """
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.clip(np.asarray(e, dtype=np.float64), 0.0, np.maximum(n_a, 0.0))
    has = n_a > 0
    n_a, e_a = n_a[has], e_a[has]
    ticks = int(n_a.size)
    total_n = float(n_a.sum())
    total_e = float(e_a.sum())
    if ticks == 0:
        return BaselineSummary(0, 0.0, 0.0, None, None, None, None, None)
    return BaselineSummary(
        ticks=ticks,
        total_n=total_n,
        total_e=total_e,
        ratio=total_e / total_n,
        n_ref=float(statistics.median(n_a.tolist())),  # np.median's value, without its cost
        phi_hat=_finite(float(dispersion.pearson_dispersion(n_a, e_a))),
        acf1=_finite(float(dispersion.acf1(n_a, e_a))),
        halves_p=_finite(float(dispersion.halves_p_value(n_a, e_a))) if fast_checks else None,
        n_mean=total_n / ticks,
        largest_share=(_finite(float(dispersion.largest_share(n_a, e_a))) if fast_checks
                       else None),
    )


def upper_bounds(n: npt.ArrayLike, e: npt.ArrayLike, a: float) -> FloatArray:
    """U = max(t-bound, Clopper–Pearson) in [0, 1] per run (last axis = ticks); NaN = no traffic.

    Ticks with n ≤ 0 are ignored; with fewer than two ticks only Clopper–Pearson is used.
    """
    if not 0.0 < a < 1.0:
        raise ValueError(f"the bound's error level must be in (0, 1), got {a}")
    from scipy import special  # lazy: importing scipy costs ~0.5 s the plan command must not pay

    n_a = np.asarray(n, dtype=np.float64)
    has = n_a > 0
    n_a = np.where(has, n_a, 0.0)
    e_a = np.where(has, np.clip(np.asarray(e, dtype=np.float64), 0.0, n_a), 0.0)
    ticks = has.sum(axis=-1)
    total_n = n_a.sum(axis=-1)
    total_e = e_a.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = total_e / total_n
        resid = np.where(has, e_a - ratio[..., np.newaxis] * n_a, 0.0)
        s = np.sqrt(np.sum(resid**2, axis=-1) / (ticks - 1))
        quantile = special.stdtrit(np.maximum(ticks - 1, 1), 1.0 - a)
        tb = np.where(ticks >= 2, ratio + quantile * s * np.sqrt(ticks) / total_n, np.nan)
        rest = total_n - total_e
        cp = np.where(rest > 0, special.betaincinv(total_e + 1.0, np.maximum(rest, 1e-12), 1.0 - a),
                      1.0)
    upper = np.clip(np.fmax(cp, tb), 0.0, 1.0)
    return np.asarray(np.where(total_n > 0, upper, np.nan), dtype=np.float64)


def upper_bound(n: npt.ArrayLike, e: npt.ArrayLike, a: float) -> float | None:
    """One probe's U (see ``upper_bounds``); None when the baseline had no traffic."""
    return _finite(float(upper_bounds(n, e, a)))


def baseline_p0(upper: float, slo: float | None = None, margin: float = MARGIN) -> float:
    """p0* = min(p_SLO, (1 + m)·U), never above 1."""
    candidate = min(1.0, (1.0 + margin) * upper)
    return candidate if slo is None else min(slo, candidate)
