"""Wald's SPRT and its bounds: a reference and a test oracle, never a shipped test.

The binomial SPRT of p0 against p1 = ψ·p0 is optimal for independent requests, which is
why its numbers anchor the benchmark (Wald's lower bound on the expected number of
requests). It is not offered to users: it assumes every request is an independent coin,
and on overdispersed error counts (dispersion 2.5–16, which real counts are) its
false-abort rate was 7–57 % in simulation.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def wald_thresholds(alpha: float, beta: float) -> tuple[float, float]:
    """(log A, log B) = (log((1−β)/α), log(β/(1−α))): reject H0 above A, accept below B."""
    return math.log((1.0 - beta) / alpha), math.log(beta / (1.0 - alpha))


@dataclasses.dataclass(frozen=True)
class SprtLines:
    """Acceptance line −h1 + s·n and rejection line h2 + s·n for the cumulative defects."""

    h1: float
    h2: float
    s: float


def binomial_lines(p0: float, alpha: float, p1: float, beta: float) -> SprtLines:
    """The binomial SPRT lines (AQL p0, producer risk α, LQL p1, consumer risk β)."""
    g = math.log(p1 * (1.0 - p0) / (p0 * (1.0 - p1)))
    return SprtLines(
        h1=math.log((1.0 - alpha) / beta) / g,
        h2=math.log((1.0 - beta) / alpha) / g,
        s=math.log((1.0 - p0) / (1.0 - p1)) / g,
    )


def kl_bernoulli(p1: float, p0: float) -> float:
    """KL(Bernoulli(p1) ‖ Bernoulli(p0)) in nats per request."""
    out = p1 * math.log(p1 / p0)
    if p1 < 1.0:
        out += (1.0 - p1) * math.log((1.0 - p1) / (1.0 - p0))
    return out


def wald_expected_n(alpha: float, beta: float, kl: float) -> float:
    """Wald's lower bound on E_1[N] for a test with errors α and β."""
    num = (1.0 - beta) * math.log((1.0 - beta) / alpha) + beta * math.log(beta / (1.0 - alpha))
    return num / kl


def reject_only_n(alpha: float, kl: float) -> float:
    """log(1/α)/KL: the expected sample size a reject-only test cannot beat (approximately)."""
    return math.log(1.0 / alpha) / kl


def log_lr_paths(n: npt.ArrayLike, e: npt.ArrayLike, p0: float, p1: float) -> FloatArray:
    """Cumulative log likelihood ratio of Binomial(p1) over Binomial(p0), last axis = ticks."""
    n_a = np.asarray(n, dtype=np.float64)
    e_a = np.asarray(e, dtype=np.float64)
    step = e_a * math.log(p1 / p0) + (n_a - e_a) * math.log((1.0 - p1) / (1.0 - p0))
    return np.asarray(np.cumsum(step, axis=-1), dtype=np.float64)
