"""Combining e-processes: log-space averages, always-valid p-values, attribution.

Decision: probes are combined by a *weighted average* of their e-values,
E = Σ_j w_j E_j with Σ w_j = 1 fixed before the run. An average of e-processes is an
e-process under any dependence between the probes, and rejecting at E ≥ 1/α never comes
later than Bonferroni (a single E_j ≥ 1/(w_j α) already makes E ≥ 1/α; Vovk & Wang
2021). Everything stays in log space (log-sum-exp), so a run of a thousand ticks with
strong evidence never overflows and a run with none never underflows to log(0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def log_mean_exp(log_values: npt.ArrayLike, axis: int = -1) -> FloatArray:
    """log(mean(exp(x))) along ``axis``, computed without overflow (the mixture over bets)."""
    x = np.asarray(log_values, dtype=np.float64)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.mean(np.exp(x - top), axis=axis, keepdims=True)) + top
    return np.asarray(np.squeeze(out, axis=axis), dtype=np.float64)


def log_mean_exp_of(log_values: Sequence[float]) -> float:
    """Plain-math ``log_mean_exp`` of a few scalars (the per-tick path: no numpy on scalars)."""
    top = max(log_values)
    if not math.isfinite(top):
        return top
    return top + math.log(sum([math.exp(x - top) for x in log_values]) / len(log_values))


def log_weighted_sum(log_values: Sequence[float], weights: Sequence[float]) -> float:
    """log(Σ w_j exp(x_j)) for weights w_j ≥ 0; zero weights drop out; empty → -inf."""
    terms = [math.log(w) + x for x, w in zip(log_values, weights, strict=True) if w > 0]
    if not terms:
        return -math.inf
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def normalise_weights(weights: Sequence[float]) -> tuple[float, ...]:
    """Weights scaled to sum to one. All zero (or none) stays all zero: nothing can reject."""
    for w in weights:
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"probe weights must be finite and >= 0, got {w!r}")
    total = math.fsum(weights)
    if total <= 0:
        return tuple(0.0 for _ in weights)
    return tuple(w / total for w in weights)


def p_value(max_log_e: float) -> float:
    """The always-valid p-value min(1, 1/max_s E_s) from the running maximum of log E."""
    return 1.0 if max_log_e <= 0 else math.exp(-max_log_e)


def significant(max_log_e: float, weight: float, alpha: float) -> bool:
    """Whether one probe is individually significant: max_s E_j,s ≥ 1/(w_j α)."""
    if weight <= 0:
        return False
    return max_log_e >= math.log(1.0 / (weight * alpha))


def attribution(
    names: Sequence[str], max_log_e: Sequence[float], weights: Sequence[float], alpha: float
) -> tuple[str, ...]:
    """The probes that are individually significant, in the plan's order."""
    return tuple(
        name
        for name, x, w in zip(names, max_log_e, weights, strict=True)
        if significant(x, w, alpha)
    )
