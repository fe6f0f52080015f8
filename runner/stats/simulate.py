"""Seeded generators of error counts and whole-batch runs of the shipped tests.

The tests and the benchmark (STATS.md's protocol) need thousands of simulated game days
per cell; this module makes them as (runs × ticks) arrays and runs the very functions
the engine uses (``betting``, ``negbin``, ``baseline``) across all runs at once. The
randomness is injected (a ``numpy.random.Generator``), so every number is reproducible.

Generators of the per-tick probability that a request is bad:

- ``binomial``: constant p (independent requests);
- ``beta``: p_t ~ Beta with mean p and intra-tick correlation ``icc`` (overdispersed
  counts, dispersion 1 + (n − 1)·icc);
- ``ar1``: log p_t an AR(1) (coefficient ``ar``, marginal sd ``sigma``), mean p;
- ``diurnal``: p_t and the traffic both follow 1 + A·sin(2πt/period + random phase);
- ``latency``: log-normal latencies (log-sd ``lat_sigma``) with P(L > threshold) = p,
  counted against the bucket bound b = ``bucket_ratio``·threshold. Binning iid draws
  into buckets is drawing bucket counts directly, which is what is done here.

Traffic per tick is Poisson. A run is a baseline (``base_ticks``) then a fault window.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from runner.stats import baseline, betting, dispersion, negbin

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Kind = Literal["binomial", "beta", "ar1", "diurnal", "latency"]


@dataclasses.dataclass(frozen=True)
class Generator:
    """How per-tick error probabilities vary; see the module docstring."""

    kind: Kind = "binomial"
    icc: float = 0.0
    ar: float = 0.8
    sigma: float = 0.5
    amplitude: float = 0.5
    period: float = 120.0
    lat_sigma: float = 1.0
    bucket_ratio: float = 1.0

    @property
    def label(self) -> str:
        if self.kind == "beta":
            return f"beta icc={self.icc:g}"
        if self.kind == "latency":
            return "latency, bucket at threshold" if self.bucket_ratio == 1.0 else (
                f"latency, next bucket ×{self.bucket_ratio:.3g}")
        return self.kind


def tested_rate(gen: Generator, p: float) -> float:
    """The bad-request probability actually counted (differs from p only for latency)."""
    if gen.kind != "latency" or gen.bucket_ratio == 1.0:
        return p
    z = float(special.ndtri(1.0 - p)) + math.log(gen.bucket_ratio) / gen.lat_sigma
    return float(special.ndtr(-z))


def _phase(rng: np.random.Generator, runs: int, ticks: int, gen: Generator,
           offset: int) -> FloatArray:
    phase = rng.uniform(0.0, 2.0 * math.pi, size=(runs, 1))
    t = np.arange(offset, offset + ticks, dtype=np.float64)
    return np.asarray(np.sin(2.0 * math.pi * t / gen.period + phase), dtype=np.float64)


def rates(rng: np.random.Generator, gen: Generator, p: float, runs: int, ticks: int,
          ) -> FloatArray:
    """Per-tick probabilities, shape (runs, ticks), with mean p (for latency, the tested rate)."""
    q = tested_rate(gen, p)
    if gen.kind == "beta" and gen.icc > 0:
        a = q * (1.0 - gen.icc) / gen.icc
        b = (1.0 - q) * (1.0 - gen.icc) / gen.icc
        return rng.beta(a, b, size=(runs, ticks))
    if gen.kind == "ar1":
        innov = gen.sigma * math.sqrt(1.0 - gen.ar**2)
        x = np.empty((runs, ticks))
        x[:, 0] = rng.normal(0.0, gen.sigma, size=runs)
        shocks = rng.normal(0.0, innov, size=(runs, ticks))
        for t in range(1, ticks):
            x[:, t] = gen.ar * x[:, t - 1] + shocks[:, t]
        return np.asarray(np.minimum(1.0, q * np.exp(x - gen.sigma**2 / 2.0)), dtype=np.float64)
    return np.full((runs, ticks), q)


def counts(rng: np.random.Generator, gen: Generator, p: float, per_tick: float, runs: int,
           ticks: int) -> tuple[FloatArray, FloatArray]:
    """(n, e) arrays of shape (runs, ticks): Poisson traffic, binomial errors given p_t."""
    if gen.kind == "diurnal":
        wave = _phase(rng, runs, ticks, gen, 0)
        lam = per_tick * (1.0 + gen.amplitude * wave)
        prob = np.clip(p * (1.0 + gen.amplitude * wave), 0.0, 1.0)
    else:
        lam = np.full((runs, ticks), per_tick)
        prob = rates(rng, gen, p, runs, ticks)
    n = rng.poisson(lam).astype(np.int64)
    e = rng.binomial(n, prob)
    return n.astype(np.float64), e.astype(np.float64)


@dataclasses.dataclass(frozen=True)
class Batch:
    """Many simulated runs: baseline arrays and fault-window arrays, shape (runs, ticks)."""

    n_base: FloatArray
    e_base: FloatArray
    n: FloatArray
    e: FloatArray


def batch(rng: np.random.Generator, gen: Generator, *, p_base: float, p_window: float,
          per_tick: float, runs: int, base_ticks: int, window_ticks: int) -> Batch:
    """Simulate ``runs`` game days: a healthy baseline at p_base, then the window at p_window."""
    n_b, e_b = counts(rng, gen, p_base, per_tick, runs, base_ticks)
    n_w, e_w = counts(rng, gen, p_window, per_tick, runs, window_ticks)
    return Batch(n_b, e_b, n_w, e_w)


def first_crossing(paths: npt.ArrayLike, threshold: float) -> IntArray:
    """1-based index of the first tick with path ≥ threshold per run; 0 = never."""
    hit = np.asarray(paths) >= threshold
    first = np.argmax(hit, axis=-1) + 1
    return np.asarray(np.where(hit.any(axis=-1), first, 0), dtype=np.int64)


def n_ref(b: Batch) -> FloatArray:
    """Median baseline traffic per run (ticks without traffic ignored), shape (runs, 1)."""
    masked = np.where(b.n_base > 0, b.n_base, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a run without traffic: NaN → 0
        med = np.nanmedian(masked, axis=-1, keepdims=True)
    return np.asarray(np.nan_to_num(med, nan=0.0), dtype=np.float64)


def default_abort(b: Batch, p0: float | FloatArray, alpha: float) -> IntArray:
    """Abort tick of the default betting test in every run (0 = held)."""
    paths = betting.log_e_paths(b.n, b.e, p0, n_ref(b))
    return first_crossing(paths, math.log(1.0 / alpha))


def fast_abort(b: Batch, p0: float, alpha: float) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Abort tick of fast mode as shipped (default test where the checks refuse), accepted."""
    phi, ok = dispersion.accepts(b.n_base, b.e_base)
    paths = negbin.fast_log_e_paths(b.n, b.e, p0, phi[:, np.newaxis], n_ref(b))
    fast = first_crossing(paths, math.log(1.0 / alpha))
    fallback = default_abort(b, p0, alpha)
    return np.asarray(np.where(ok, fast, fallback), dtype=np.int64), ok


def baseline_p0(b: Batch, alpha: float) -> FloatArray:
    """p0* per run for the baseline-comparison mode (α_b = share·α), shape (runs, 1)."""
    upper = baseline.upper_bounds(b.n_base, b.e_base, baseline.ALPHA_SHARE * alpha)
    p0 = np.minimum(1.0, (1.0 + baseline.MARGIN) * np.nan_to_num(upper, nan=1.0))
    return np.asarray(p0[:, np.newaxis], dtype=np.float64)


def baseline_mode_abort(b: Batch, alpha: float) -> IntArray:
    """Abort tick of the default test against p0* from the baseline, at α_f = α − α_b."""
    p0 = baseline_p0(b, alpha)
    return default_abort(b, p0, alpha * (1.0 - baseline.ALPHA_SHARE))


def clopper_pearson(k: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    """One-sided Clopper–Pearson bounds (lower, upper) at ``confidence`` each."""
    a = 1.0 - confidence
    lo = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, a))
    hi = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - a))
    return lo, hi
