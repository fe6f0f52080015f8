"""Latency SLOs as error ratios: the fixed-quantile reduction (Howard & Ramdas 2022).

"p99 < 300 ms" is the hypothesis P(latency > 300 ms) ≤ 0.01. With b the smallest
histogram bucket bound ≥ 300 ms, a tick's requests are n = Δ``_count`` and its "bad"
requests e = n − Δ``_bucket{le="b"}``; the error-ratio test then runs with p0 = 1 − q.

Decisions:
- Never test ``histogram_quantile()`` or a mean latency: neither is a count whose
  conditional mean the e-process can bet on.
- When no bucket bound equals the threshold, the next one up is used. That is
  conservative (it counts fewer requests as slow, so false aborts stay ≤ α) but weaker;
  the user is told, with the bound that was used.
- A threshold above every finite bound cannot be tested (every request is below +Inf):
  that is an error, not a silent never-fires probe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: Relative tolerance for "a bucket sits at the threshold" (0.3 vs 0.30000000000000004).
EXACT_RTOL = 1e-9


def p0_for_quantile(quantile: float) -> float:
    """The SLO error ratio for a latency quantile: p0 = 1 − q (q = 0.99 → 0.01)."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"a latency quantile must be strictly between 0 and 1, got {quantile}")
    return 1.0 - quantile


def parse_le(label: str) -> float:
    """A Prometheus ``le`` label value as a float ("0.3" → 0.3, "+Inf" → inf)."""
    text = label.strip()
    if text in {"+Inf", "Inf", "inf", "+inf"}:
        return math.inf
    return float(text)


def choose_bucket(bounds: Iterable[float], threshold: float) -> tuple[float, bool]:
    """(b, exact): the smallest finite bucket bound ≥ ``threshold``, and whether b == threshold.

    Raises ValueError when no finite bound is ≥ the threshold (the probe could never fire).
    """
    if not math.isfinite(threshold) or threshold <= 0:
        raise ValueError(f"a latency threshold must be a positive number, got {threshold}")
    finite = sorted(b for b in bounds if math.isfinite(b))
    for b in finite:
        if math.isclose(b, threshold, rel_tol=EXACT_RTOL, abs_tol=0.0):
            return b, True
        if b > threshold:
            return b, False
    largest = f"{finite[-1]:g} s" if finite else "none"
    raise ValueError(
        f"no histogram bucket bound is at or above the latency threshold {threshold:g} s "
        f"(largest finite bound: {largest}); add a bucket at {threshold:g} s"
    )


def bucket_warning(name: str, threshold: float, bucket: float, exact: bool) -> str | None:
    """The sentence that tells the user their test is weaker than it could be, or None."""
    if exact:
        return None
    return (
        f"{name}: no histogram bucket sits at the threshold {threshold:g} s; testing the "
        f"share of requests slower than the next bucket bound, {bucket:g} s, instead. "
        "That is conservative (no extra false aborts) but detects slow requests between "
        f"{threshold:g} s and {bucket:g} s late or never; add a bucket at {threshold:g} s."
    )


def counts(delta_count: float, delta_bucket: float) -> tuple[float, float]:
    """(n, e) of one tick from the deltas of ``_count`` and ``_bucket{le=b}``; e clipped ≥ 0."""
    n = max(0.0, delta_count)
    e = min(n, max(0.0, delta_count - delta_bucket))
    return n, e
